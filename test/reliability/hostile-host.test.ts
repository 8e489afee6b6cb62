// A host that lies or plots: fact output that is malformed or cut short is an error, never a
// plan; a service user's links in its own directories never make the root-run deploy chown,
// chmod or write through them; a host whose key was swapped is refused before anything is sent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { restartSshd, root } from './helpers/faults.js';

const NAME = 'api-orders';
let sbx: Sandbox;
let work: string;
let project: string;

const env = () => ({ ...sbx.env, HOME: join(work, 'home') });
const svc = (args: string[]) => runSvc([...args, '--dir', project], env());

/** owner, group, mode and sha256 of a file on the host. */
const fingerprint = (host: string, path: string) =>
  root(sbx, host, `stat -c '%U:%G %a' ${path} && sha256sum < ${path}`);

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-hostile-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Puts a stand-in for `command` first on PATH (for root's sudo too) for the length of `body`. */
async function withStandIn<T>(
  host: string,
  command: string,
  script: string,
  body: () => Promise<T>,
) {
  root(
    sbx,
    host,
    `cat > /usr/local/bin/${command} && chmod 755 /usr/local/bin/${command}`,
    `#!/bin/sh\n${script}\n`,
  );
  try {
    return await body();
  } finally {
    root(sbx, host, `rm -f /usr/local/bin/${command}`);
  }
}

describe('fact output that cannot be trusted', () => {
  const cases: [string, string, string][] = [
    // stat answers for a path with something that is not a mode, owner, group and size.
    ['malformed', 'stat', 'echo "rwx 0 0 0"'],
    // The fact script is killed half-way (its output ends without the end marker).
    ['cut short', 'monit', 'kill -KILL $PPID'],
    // getent hands back a passwd entry with an extra field.
    ['out of shape', 'getent', 'echo "$2:x:0:0:::/bin/sh:extra"'],
  ];

  it.each(cases)(
    '%s: the host gets an error, no plan; deploy applies nothing there',
    async (_, command, script) => {
      writeFileSync(join(project, 'VERSION'), `${command}\n`);
      const before = root(sbx, 'sbx-1', `readlink /var/www/${NAME}/current`);
      const [plan, deploy] = await withStandIn('sbx-1', command, script, async () => [
        await svc(['plan', 'sbx-1', '--json']),
        await svc(['deploy', 'sbx-1', '--yes', '--json']),
      ]);
      expect(plan.code).toBe(1);
      const outcome = JSON.parse(plan.stdout) as {
        hosts: { status: string; error?: string; plan?: unknown }[];
      };
      expect(outcome.hosts[0]).toMatchObject({ status: 'failed' });
      expect(outcome.hosts[0]!.plan).toBeUndefined();
      expect(outcome.hosts[0]!.error).toMatch(/facts/);
      expect(deploy.code).toBe(1);
      expect(root(sbx, 'sbx-1', `readlink /var/www/${NAME}/current`)).toBe(before);
    },
    60_000,
  );
});

describe("a service user's links in its own directories", () => {
  it('never lead the deploy to chown, chmod or write through them', async () => {
    const host = 'sbx-2';
    const shadowBefore = fingerprint(host, '/etc/shadow');
    // The service user plants links to /etc/shadow wherever it may write.
    for (const dir of [`/var/log/${NAME}`, `/var/db/${NAME}`]) {
      root(
        sbx,
        host,
        `su -s /bin/sh ${NAME} -c 'ln -sfn /etc/shadow ${dir}/shadow-link && ln -sfn /etc ${dir}/etc-link && ln -sfn /etc/shadow ${dir}/${NAME}.log.svc-new'`,
      );
    }
    // Modes svc must put back, so the deploy does chown/chmod its directories.
    root(sbx, host, `chmod 0777 /var/log/${NAME} /var/db/${NAME}`);
    writeFileSync(join(project, 'VERSION'), 'links\n');
    const result = await svc(['deploy', host, '--yes']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(fingerprint(host, '/etc/shadow')).toBe(shadowBefore);
    expect(root(sbx, host, `stat -c '%U:%G %a' /etc /var/log/${NAME} /var/db/${NAME}`)).toBe(
      `root:root 755\n${NAME}:${NAME} 750\n${NAME}:${NAME} 750\n`,
    );
    const plan = await svc(['plan', host, '--detailed-exitcode']);
    expect(plan.code, plan.stdout).toBe(0);
  }, 60_000);
});

describe('a host whose key was swapped', () => {
  it('is refused before anything is sent, naming the known_hosts line; no code path skips the check', async () => {
    const keyFile = join(sbx.stateDir, 'hosts', 'sbx-1', 'ssh_host_ed25519_key');
    rmSync(keyFile, { force: true });
    rmSync(`${keyFile}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    restartSshd(sbx, 'sbx-1');
    writeFileSync(join(project, 'VERSION'), 'swapped\n');
    const result = await svc(['deploy', 'sbx-1', '--yes', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/host key .*changed|does not match|HOST KEY/i);
    expect(result.stdout).toContain(sbx.inventory.knownHostsFile);
    // Nothing reached the host: its deploy state is as before (read with a client that trusts
    // the new key for this one check).
    // OpenSSH takes the first value of an option: these come before the sandbox's own.
    const [ssh, ...args] = sbx.sshArgs('sbx-1', 'root');
    const trustAnyKey = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    const check = execFileSync(
      ssh!,
      [
        ...trustAnyKey,
        '-o',
        'LogLevel=ERROR',
        ...args,
        `ls /var/www/${NAME}/releases | wc -l; cat /var/www/${NAME}/current/VERSION 2>/dev/null || echo none`,
      ],
      { encoding: 'utf8' },
    );
    expect(check).not.toContain('swapped');
  }, 60_000);

  it('every SSH client in the source verifies the host key', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) sources.push(path);
      }
    };
    walk(join(__dirname, '..', '..', 'src'));
    const connecting = sources.filter((path) => readFileSync(path, 'utf8').includes('.connect({'));
    expect(connecting.length).toBeGreaterThan(0);
    for (const path of connecting) {
      const text = readFileSync(path, 'utf8');
      const calls = text.split('.connect({').slice(1);
      for (const call of calls) expect(call.slice(0, 1500), path).toContain('hostVerifier');
    }
  });
});
