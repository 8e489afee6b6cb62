// `svc secrets TARGET`: for each environment the TARGET's hosts are deployed as, each key of
// svc.yaml `secrets:` and where its value comes from (environment, .svc/secrets/ENV, command).
// Never a value; no host is contacted. Exit 1 when a key cannot be resolved.
import { Command } from 'commander';
import { resolve } from 'node:path';
import { checkEnvironments, environmentOf } from '../core/environments.js';
import { EXIT } from '../core/errors.js';
import { resolveTarget } from '../core/targets.js';
import { readManifestFile } from '../project/read.js';
import { lookUpSecrets } from '../project/secrets.js';
import { targetContext } from '../remote/run-context.js';
import { colorEnabled, palette } from '../ui/color.js';

export async function runSecrets(target: string, flags: { dir?: string }): Promise<number> {
  const dir = resolve(flags.dir ?? '.');
  const manifest = readManifestFile(dir);
  const ctx = targetContext(manifest);
  const hosts = resolveTarget(target, ctx);
  checkEnvironments(target, manifest, ctx, hosts);
  const keys = manifest.secrets ?? [];
  if (keys.length === 0) {
    process.stdout.write('No secrets: svc.yaml lists none (secrets: [KEY, ...]).\n');
    return EXIT.ok;
  }
  const rows: string[][] = [['ENVIRONMENT', 'KEY', 'SOURCE']];
  const lines = new Set<string>();
  const deployed = [...new Set(hosts.map(environmentOf))];
  for (const environment of deployed) {
    const { resolved, problems } = await lookUpSecrets(
      dir,
      manifest,
      environment,
      process.env,
      deployed,
    );
    for (const key of keys) {
      const found = resolved.find((secret) => secret.key === key);
      // Not found, or refused (a plain $KEY in a run of several environments): the line below says which.
      rows.push([
        environment,
        key,
        found ? `${found.source} (${found.where})` : 'not resolved (below)',
      ]);
    }
    // A plain $KEY refused in a run of several environments is one line, said once.
    for (const problem of problems) lines.add(problem.line);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const text = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  '),
  );
  const paint = palette(colorEnabled(process.stdout));
  process.stdout.write(
    `${paint.bold(text[0]!)}\n${text
      .slice(1)
      .map((row) => `${row}\n`)
      .join('')}`,
  );
  for (const line of lines) process.stderr.write(`svc: error: ${line}\n`);
  return lines.size > 0 ? EXIT.error : EXIT.ok;
}

export function secretsCommand(): Command {
  return new Command('secrets')
    .description(
      'list each secret per environment and the source it resolves from (never the value)',
    )
    .argument('<target>', 'a group or host of the inventory, sandbox, or [user@]host[:port]')
    .option('--dir <dir>', 'the project directory (default: .)')
    .action(async (target: string, flags: { dir?: string }) => {
      process.exitCode = await runSecrets(target, flags);
    });
}
