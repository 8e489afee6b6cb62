// A secret in the environment file is never shown: not in plans, diffs, --json, --verbose, logs
// or error messages, and not in any file svc writes on this machine or on the host besides the
// environment file itself (mode 0600, root's: root sources it before dropping to the service
// user, so the service user must not be able to write it). Every command runs with a unique
// secret, then every byte of output and every file is searched for it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type CommandResult, type Sandbox } from '../helpers/sandbox.js';
import { root } from './helpers/faults.js';

const NAME = 'api-orders';
const FIRST = `first-${process.pid}-${Math.random().toString(36).slice(2)}`;
const SECOND = `second-${process.pid}-${Math.random().toString(36).slice(2)}`;
// svc new puts a secret-looking --env key in secrets:, its value in the local secrets file.
const ENV_FILE = join('.svc', 'secrets', 'default');
let sbx: Sandbox;
let work: string;
let project: string;
const outputs: { command: string; result: CommandResult }[] = [];

async function svc(args: string[]): Promise<CommandResult> {
  const result = await runSvc([...args, '--dir', project], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });
  outputs.push({ command: args.join(' '), result });
  return result;
}

/** Every file under `dir` (relative paths) whose bytes contain one of the secrets. */
function filesWithSecrets(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) {
        const text = readFileSync(full).toString('latin1');
        if (text.includes(FIRST) || text.includes(SECOND)) found.push(relative(dir, full));
      }
    }
  };
  walk(dir);
  return found;
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-secrets-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    [
      'new',
      NAME,
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--dir',
      project,
      '--env',
      `TOKEN=${FIRST}`,
    ],
    { env: { ...process.env, CI: '1', HOME: join(work, 'home') } },
  );
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a secret in the environment file', () => {
  it('is never printed, by any command, in any format, on success or failure', async () => {
    await svc(['plan', 'sandbox']);
    await svc(['plan', 'sandbox', '--json', '--verbose']);
    expect((await svc(['deploy', 'sandbox', '--yes', '--json', '--verbose'])).code).toBe(0);
    await svc(['deploy', 'sandbox', '--yes']);
    // A changed secret: the plan says so without either value.
    const envFile = join(project, ENV_FILE);
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(FIRST, SECOND));
    const diff = await svc(['plan', 'sandbox', '--verbose']);
    expect(diff.stdout).toContain('(sensitive value changed)');
    await svc(['plan', 'sandbox', '--json']);
    // A deploy that fails its health check and rolls back, and one refused for a bad flag.
    const server = join(project, 'server.js');
    const good = readFileSync(server, 'utf8');
    writeFileSync(server, 'process.exit(3);\n');
    const failed = await svc(['deploy', 'sandbox', '--yes', '--json', '--health-timeout', '3']);
    expect(failed.code).not.toBe(0);
    writeFileSync(server, good);
    await svc(['deploy', 'sandbox', '--yes', '--health-timeout', 'soon', '--verbose']);
    expect((await svc(['deploy', 'sandbox', '--yes', '--verbose'])).code).toBe(0);
    await svc(['status', 'sandbox', '--json']);
    await svc(['logs', 'sandbox', '-n', '200']);
    await svc(['releases', 'sandbox']);
    for (const { command, result } of outputs) {
      for (const secret of [FIRST, SECOND]) {
        expect(result.stdout, command).not.toContain(secret);
        expect(result.stderr, command).not.toContain(secret);
      }
    }
  }, 180_000);

  it('is in no file svc wrote on this machine, only in the project file that holds it', () => {
    expect(filesWithSecrets(work)).toEqual([join(NAME, ENV_FILE)]);
    // The sandbox keeps each host's /etc in its state directory (the overlay's upper layer):
    // that is the host's own environment file, not a file svc wrote here.
    expect(filesWithSecrets(sbx.stateDir).filter((path) => !/-upper\//.test(path))).toEqual([]);
  });

  it('lands on the host in one file, mode 0600, root only, and nowhere else', () => {
    expect(root(sbx, 'sbx-1', `stat -c '%U:%G %a' /etc/default/${NAME}`)).toBe('root:root 600\n');
    expect(root(sbx, 'sbx-1', `grep -c '${SECOND}' /etc/default/${NAME}`)).toBe('1\n');
    const elsewhere = root(
      sbx,
      'sbx-1',
      `grep -rlsF -e '${FIRST}' -e '${SECOND}' /etc /var/www /var/log /var/db /var/lib/svc /tmp /home /root /run 2>/dev/null | grep -v -e '^/etc/default/${NAME}$' -e '^/run/svc-sandbox/' || true`,
    );
    expect(elsewhere).toBe('');
  });
});
