// Ctrl-C (SIGINT to a real `svc deploy`) while the host is in its health gate, on real sandbox
// hosts, for both logins: `deploy` (svc runs `sudo -n sh`) and `root`, for which OpenSSH's sshd
// refuses the SSH signal request ("session signalling requires privilege separation"), so svc
// also sends `kill -INT` to the script's pid (core/interrupt-pid.ts). Each time: svc exits 130,
// the host undid (`current` and the running release are the old ones, the history says
// interrupted), and nothing of the deploy is left on the host. And `--parallel 2` over two hosts:
// both undo. A second Ctrl-C: svc leaves at once, and the host undoes all the same. The release
// is made slow to answer its health check: it waits before it listens.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { LEAVING_LINE } from '../../src/remote/ctrl-c.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const CURRENT = `/var/www/${NAME}/current`;
const LOCK_HOLDER = `/var/lib/svc/locks/${NAME}.holder`;

interface Setup {
  sbx: Sandbox;
  work: string;
  project: string;
  /** server.js as `svc new` made it: each slow release is made from it. */
  server: string;
}
const setups: Setup[] = [];

async function setup(user: 'root' | 'deploy', count: number): Promise<Setup> {
  const sbx = await startSandbox({ count, user });
  const work = mkdtempSync(join(tmpdir(), `svc-interrupt-${user}-`));
  const project = join(work, NAME);
  execFileSync(SVC, ['new', NAME, '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
  const made = { sbx, work, project, server: readFileSync(join(project, 'server.js'), 'utf8') };
  setups.push(made);
  const first = await svcOf(made, ['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return made;
}

const svcOf = (s: Setup, args: string[]) =>
  runSvc([...args, '--dir', s.project], { ...s.sbx.env, HOME: join(s.work, 'home') });

function onHost(s: Setup, host: string, command: string): string {
  const result = s.sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** What a host has live: the `current` link, and the release dirs of the running node servers. */
function liveState(s: Setup, host: string) {
  const current = onHost(s, host, `readlink ${CURRENT}`).trim();
  const running = onHost(
    s,
    host,
    `for p in $(pgrep -x node); do readlink /proc/$p/cwd; done | sort -u`,
  ).trim();
  return { current, running };
}

/** A release that says it started (a file named by `marker`) and then waits before listening. */
function makeSlowRelease(s: Setup, marker: string): void {
  writeFileSync(
    join(s.project, 'server.js'),
    `import { writeFileSync as sayStarted } from 'node:fs';\n` +
      `sayStarted(${JSON.stringify(`/tmp/${marker}`)}, String(process.pid));\n` +
      `await new Promise((resolve) => setTimeout(resolve, 600_000));\n` +
      s.server,
  );
}

function startDeploy(s: Setup, args: string[]) {
  const child = spawn(SVC, ['deploy', ...args, '--yes', '--dir', s.project], {
    env: { ...s.sbx.env, HOME: join(s.work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, exited, output: () => output };
}

/**
 * The host is in its health gate: the new release started (its marker) and waits. Returns the
 * deploy's shell on the host (the lock holder note names it).
 */
async function inGate(
  s: Setup,
  host: string,
  marker: string,
  output: () => string,
): Promise<number> {
  let pid = 0;
  const seen = await eventually(() => {
    const said = s.sbx.ssh(host, `test -s /tmp/${marker} && sed -n 2p ${LOCK_HOLDER}`, {
      user: 'root',
    });
    pid = Number(said.stdout.split(' ')[0]);
    return said.code === 0 && Number.isInteger(pid) && pid > 0;
  }, 90);
  expect(seen, `${host}: never reached the health gate: ${output()}`).toBe(true);
  return pid;
}

/** After the interrupted deploy: the old release live, nothing of the deploy left. */
async function expectUndone(
  s: Setup,
  host: string,
  before: { current: string; running: string },
  marker: string,
  shell: number,
  output: () => string,
) {
  // The deploy's shell is gone (the lock holder note goes with it) and the slow release too.
  const settled = await eventually(
    () =>
      s.sbx.ssh(
        host,
        `test ! -e ${LOCK_HOLDER} && ! kill -0 ${shell} && ! kill -0 "$(cat /tmp/${marker})"`,
        { user: 'root' },
      ).code === 0,
    60,
  );
  expect(settled, `${host}: the deploy's shell or the new release still runs`).toBe(true);
  expect(liveState(s, host)).toEqual(before);
  expect(onHost(s, host, `curl -fsS http://127.0.0.1:3000/ok`)).toBe('ok\n');
  const history = await svcOf(s, ['history', host, '--json']);
  expect(history.code, history.stderr).toBe(0);
  const records = (JSON.parse(history.stdout) as { records: { action: string; result: string }[] })
    .records;
  expect(records.at(-1), output()).toMatchObject({ action: 'deploy', result: 'interrupted' });
}

/** twice: a second Ctrl-C 0.5 s after the first, while the host undoes: svc leaves at once. */
async function interruptInGate(s: Setup, hosts: string[], args: string[], twice = false) {
  const before = new Map(hosts.map((host) => [host, liveState(s, host)]));
  const marker = `svc-gate-${Math.random().toString(36).slice(2)}`;
  makeSlowRelease(s, marker);
  const run = startDeploy(s, [...args, '--health-timeout', '300']);
  const shells = new Map<string, number>();
  try {
    for (const host of hosts) shells.set(host, await inGate(s, host, marker, run.output));
    run.child.kill('SIGINT');
    if (twice) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      run.child.kill('SIGINT');
    }
    // The undo of a gate takes seconds; the slow release alone would hold the gate for 300 s.
    const code = await Promise.race([
      run.exited,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve('still running after 30 s'), 30_000),
      ),
    ]);
    expect(code, run.output()).toBe(EXIT.interrupted);
    if (twice) expect(run.output()).toContain(`${LEAVING_LINE}\n`);
  } finally {
    run.child.kill('SIGKILL');
  }
  for (const host of hosts)
    await expectUndone(s, host, before.get(host)!, marker, shells.get(host)!, run.output);
}

afterAll(async () => {
  for (const s of setups) {
    await s.sbx.down();
    rmSync(s.work, { recursive: true, force: true });
  }
});

describe('Ctrl-C during svc deploy, in the health gate', () => {
  let root: Setup;
  let deploy: Setup;
  beforeAll(async () => {
    root = await setup('root', 2);
    deploy = await setup('deploy', 1);
  }, 300_000);

  it('login root (sshd refuses the signal request): svc exits 130 and the host undid', async () => {
    await interruptInGate(root, ['sbx-1'], ['sbx-1']);
  }, 240_000);

  it('login deploy (through sudo -n): svc exits 130 and the host undid', async () => {
    await interruptInGate(deploy, ['sbx-1'], ['sbx-1']);
  }, 240_000);

  it('two hosts with --parallel 2, login root: every host undid', async () => {
    await interruptInGate(root, ['sbx-1', 'sbx-2'], ['sandbox', '--parallel', '2']);
  }, 240_000);

  it('Ctrl-C twice, login deploy: svc leaves at once, and the host still undoes on its own', async () => {
    await interruptInGate(deploy, ['sbx-1'], ['sbx-1'], true);
  }, 240_000);
});
