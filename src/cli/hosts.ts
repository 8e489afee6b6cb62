// `svc hosts [TARGET]`: what a TARGET resolves to, without connecting anywhere. Reads svc.yaml's
// `hosts:` when there is a project (it works without one), the sandbox inventory and ~/.ssh/config.
import { Command } from 'commander';
import { homedir } from 'node:os';
import { resolveTarget, hostLogin, type HostSpec } from '../core/targets.js';
import { SANDBOX_GROUP } from '../core/sandbox-inventory.js';
import { readManifestIfPresent } from '../project/read.js';
import { targetContext } from '../remote/run-context.js';
import { colorEnabled, palette } from '../ui/color.js';

export interface HostsFlags {
  json?: boolean;
  dir?: string;
}

export interface HostsIo {
  out: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  home: string;
}

function tilde(path: string, home: string): string {
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/** Columns padded to their widest cell; the last column is not padded. */
function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderHosts(specs: readonly HostSpec[], home: string): string[] {
  return table([
    ['NAME', 'LOGIN', 'VIA', 'IDENTITY FILES', 'PROXY JUMP'],
    ...specs.map((spec) => [
      spec.name,
      hostLogin(spec),
      spec.group === undefined || spec.group === spec.source
        ? spec.source
        : `${spec.source} (${spec.group})`,
      spec.defaultIdentities
        ? '-'
        : spec.identityFiles.map((file) => tilde(file, home)).join(',') || '-',
      spec.proxyJump ?? '-',
    ]),
  ]);
}

export function runHosts(target: string | undefined, flags: HostsFlags, io: HostsIo): void {
  const ctx = targetContext(readManifestIfPresent(flags.dir ?? '.'), io.env);
  // Without a TARGET: every group that has hosts.
  const everyGroup = [
    ...Object.entries(ctx.inventory ?? {})
      .filter(([, group]) => Object.keys(group.hosts).length > 0)
      .map(([name]) => name),
    ...(ctx.sandbox && ctx.sandbox.hosts.length > 0 ? [SANDBOX_GROUP] : []),
  ].join(',');
  const specs =
    target !== undefined
      ? resolveTarget(target, ctx)
      : everyGroup === ''
        ? []
        : resolveTarget(everyGroup, ctx);
  if (flags.json) {
    io.out.write(`${JSON.stringify(specs, null, 2)}\n`);
    return;
  }
  if (specs.length === 0) {
    io.out.write('No hosts: add hosts: to svc.yaml, or start sandbox hosts with svc sandbox up.\n');
    return;
  }
  const paint = palette(colorEnabled(io.out, io.env as NodeJS.ProcessEnv));
  const [header, ...rows] = renderHosts(specs, io.home);
  io.out.write(`${paint.bold(header!)}\n${rows.map((row) => `${row}\n`).join('')}`);
}

const EXAMPLES = `
TARGET is a comma-separated list of: a group or host of svc.yaml's hosts:, the group sandbox or a
sandbox host (sbx-1), or [user@]host[:port] (IPv6 as [::1]:2222), which ~/.ssh/config may alias.
A user@ or :port given here wins over the inventory and ~/.ssh/config.

Examples:
  $ svc hosts                    every group of svc.yaml and the sandbox
  $ svc hosts web                the hosts of group web
  $ svc hosts root@web1,sbx-1    two hosts, web1 as root
  $ svc hosts myalias --json     what ~/.ssh/config makes of an alias, as JSON`;

export function hostsCommand(): Command {
  return new Command('hosts')
    .description('list the hosts a TARGET names: address, user, port, identity files, jump host')
    .argument('[target]', 'group, host, or [user@]host[:port]; comma-separated for several')
    .option('--json', 'print the hosts as a JSON array')
    .option('--dir <dir>', 'the project directory, for svc.yaml hosts: (default: .)')
    .addHelpText('after', EXAMPLES)
    .action((target: string | undefined, flags: HostsFlags) => {
      runHosts(target, flags, { out: process.stdout, env: process.env, home: homedir() });
    });
}
