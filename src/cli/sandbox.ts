// `svc sandbox up|list|down`: local test hosts (network + mount namespaces with a real sshd and
// monit, or systemd-nspawn hosts booting real systemd) recorded as the inventory group `sandbox`.
import { Command, Option } from 'commander';
import { svcCommand } from './invoked-as.js';
import { SvcError } from '../core/errors.js';
import { sandboxStateDir } from '../core/sandbox-inventory.js';
import { chooseSandboxKind } from '../core/sandbox-kind.js';
import type { Manifest } from '../core/manifest.js';
import { readManifestIfPresent } from '../project/read.js';
import { listSandbox, type ListedHost } from '../sandbox/list.js';
import { parseHostCount, parseNet } from '../sandbox/names.js';
import { requireRoot } from '../sandbox/requirements.js';
import { openStateDir } from '../sandbox/state.js';
import { downSandbox } from '../sandbox/teardown.js';
import { upSandbox } from '../sandbox/up.js';
import { colorEnabled, palette } from '../ui/color.js';

interface StateFlags {
  stateDir?: string;
}
interface UpFlags extends StateFlags {
  systemd?: boolean;
  light?: boolean;
  user?: 'root' | 'deploy';
  net?: string;
  ebpf?: boolean;
}

/** --state-dir, else SVC_SANDBOX_DIR, else the XDG state directory. */
function stateDirOf(flags: StateFlags): string {
  return flags.stateDir ?? sandboxStateDir(process.env);
}

function netOf(flags: UpFlags): string | undefined {
  if (flags.net !== undefined) return parseNet(flags.net, '--net').text;
  const env = process.env.SVC_SANDBOX_NET;
  return env ? parseNet(env, 'SVC_SANDBOX_NET').text : undefined;
}

export function hostTable(hosts: readonly ListedHost[]): string {
  const rows = [
    ['NAME', 'ADDRESS', 'USER', 'KIND', 'PID', 'STATE'],
    ...hosts.map((h) => [
      h.name,
      h.address,
      h.user,
      h.kind,
      String(h.pid),
      h.alive ? 'up' : 'dead',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The project in the current directory, if there is a readable one: it only picks a default. */
function projectHere(): Manifest | undefined {
  try {
    return readManifestIfPresent(process.cwd());
  } catch {
    return undefined;
  }
}

async function runUp(countText: string | undefined, flags: UpFlags): Promise<void> {
  const count = countText === undefined ? 1 : parseHostCount(countText);
  if (flags.systemd && flags.light) throw new SvcError('--systemd and --light: choose one');
  const choice = chooseSandboxKind(flags, flags.systemd || flags.light ? undefined : projectHere());
  if (flags.ebpf && choice.kind !== 'light')
    throw new SvcError('--ebpf: light hosts only (add --light)');
  const running = choice.note ? listSandbox(stateDirOf(flags)).hosts : [];
  if (running.some((host) => host.kind !== choice.kind)) {
    // svc as the user ran it (bin/svc in a checkout), so the fix can be pasted.
    const svc = svcCommand();
    throw new SvcError(
      `the sandbox has ${running[0]!.kind} hosts, but svc.yaml here says init: ${choice.kind}: ` +
        `${svc} sandbox down, then ${svc} sandbox up (${choice.kind} hosts); or ${svc} sandbox up --light to keep them`,
    );
  }
  const result = await upSandbox(stateDirOf(flags), {
    count,
    kind: choice.kind,
    net: netOf(flags),
    user: flags.user,
    ebpf: flags.ebpf,
  });
  const paint = palette(colorEnabled(process.stdout));
  const listing = listSandbox(result.stateDir);
  process.stdout.write(`${hostTable(listing.hosts)}\n`);
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const kind = result.inventory.hosts[0]?.kind ?? 'light';
  process.stdout.write(
    `${paint.green(`${result.inventory.hosts.length} ${kind} host(s) up`)} in ${seconds}s ` +
      `(${result.added.length} started, ${result.kept.length} already running)\n`,
  );
  if (choice.note) process.stdout.write(`${paint.yellow('note:')} ${choice.note}\n`);
  for (const note of result.notes) process.stdout.write(`${paint.yellow('note:')} ${note}\n`);
  const first = result.inventory.hosts[0];
  if (first) {
    process.stdout.write(
      `\n  ssh -i ${first.keyFile} -o UserKnownHostsFile=${result.inventory.knownHostsFile} ${first.user}@${first.address}\n`,
    );
  }
}

function runList(flags: StateFlags & { json?: boolean }): void {
  const listing = listSandbox(stateDirOf(flags));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(listing.hosts, null, 2)}\n`);
    return;
  }
  if (listing.hosts.length === 0) process.stdout.write(`no sandbox hosts in ${listing.stateDir}\n`);
  else process.stdout.write(`${hostTable(listing.hosts)}\n`);
  if (listing.unlisted.length > 0) {
    process.stdout.write(
      `half-made (not in the inventory): ${listing.unlisted.join(', ')}; svc sandbox down removes them\n`,
    );
  }
}

async function runDown(flags: StateFlags): Promise<void> {
  requireRoot();
  const paths = openStateDir(stateDirOf(flags), false, true);
  if (!paths) {
    process.stdout.write(`no sandbox in ${stateDirOf(flags)}\n`);
    return;
  }
  const result = await downSandbox(paths);
  for (const line of result.ignored) process.stdout.write(`${line}\n`);
  const names = result.removed.length > 0 ? result.removed.join(', ') : 'no hosts';
  process.stdout.write(`removed ${names} and their namespaces, links and mounts\n`);
  if (!result.stateRemoved) {
    process.stdout.write(`kept ${paths.dir}: it holds files svc did not put there\n`);
  }
}

const stateDirOption = () =>
  new Option(
    '--state-dir <dir>',
    'where the sandbox keeps its state (default: $SVC_SANDBOX_DIR, else ~/.local/state/svc/sandbox)',
  );

const EXAMPLES = `
Examples:
  $ svc sandbox up 3                    three light hosts sbx-1..3 on 10.231.N.2
  $ svc sandbox up --systemd            one host booting real systemd (systemd-nspawn)
  $ svc sandbox up --light              light hosts (sshd and monit, no systemd)
  $ svc sandbox list --json
  $ svc sandbox down                    end the hosts' processes, remove everything

Each host accepts the sandbox key for root and for deploy (passwordless sudo); svc logs in as
deploy unless --user root. The state directory holds inventory.json (the target group \`sandbox\`,
hosts sbx-1..N) and known_hosts, which svc reads from there. Without --systemd or --light, the
hosts are the kind the project in the current directory needs (systemd for init: systemd).`;

export function sandboxCommand(): Command {
  const sandbox = new Command('sandbox')
    .description('local test hosts with a real sshd and monit (root; network and mount namespaces)')
    .addHelpText('after', EXAMPLES);
  sandbox
    .command('up')
    .description('start hosts sbx-1..N (or add the missing ones)')
    .argument('[count]', 'how many hosts (1-254)', undefined)
    .option(
      '--systemd',
      'hosts boot real systemd as PID 1 (systemd-nspawn); the default when ./svc.yaml says init: systemd',
    )
    .option('--light', 'light hosts: sshd and monit, no systemd (the default otherwise)')
    .option(
      '--ebpf',
      "light hosts whose root may load eBPF tracing programs (svc trace's bpftrace); it can then read kernel memory",
    )
    .addOption(
      new Option(
        '--user <user>',
        'the login user svc uses (default: deploy, through sudo)',
      ).choices(['root', 'deploy']),
    )
    .addOption(stateDirOption())
    .option(
      '--net <A.B>',
      'the private /16 for host subnets A.B.N.0/24 (default: $SVC_SANDBOX_NET, else 10.231)',
    )
    .action((count: string | undefined, flags: UpFlags) => runUp(count, flags));
  sandbox
    .command('list')
    .description('show the hosts')
    .option('--json', 'as JSON: name, address, netns, users, keyFile, knownHostsFile, pid, ...')
    .addOption(stateDirOption())
    .action((flags: StateFlags & { json?: boolean }) => runList(flags));
  sandbox
    .command('down')
    .description(
      'end every process the sandbox started; remove its namespaces, links, mounts and state',
    )
    .addOption(stateDirOption())
    .action((flags: StateFlags) => runDown(flags));
  for (const command of [sandbox, ...sandbox.commands]) {
    command.exitOverride().configureOutput({ outputError: () => undefined });
  }
  return sandbox;
}
