// svc top on real sandbox hosts (init: monit, two hosts): `--once --json` reports the real pid,
// CPU and RSS of a service under a bounded load (to the sandbox's own address, a fixed count and
// time), the restart count goes up by one when the process is killed and monit brings it back,
// and the live view runs on a real terminal (util-linux `script`): it starts, refreshes, sorts
// by the keys, and q or Ctrl-C leave the terminal as it was (alternate screen left, cursor shown,
// raw mode off). Needs `npm run build` first (bin/svc runs dist/).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TopRow } from '../../src/core/top-sample.js';
import { startLoad } from '../helpers/load.js';
import { KEY, PtySession } from '../helpers/pty.js';
import { runSvc, sandboxSupport, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;
const sessions: PtySession[] = [];

const home = () => join(work, 'home');
const svc = (args: string[]) => runSvc([...args, '--dir', project], { ...sbx.env, HOME: home() });

interface TopDocument {
  version: number;
  sort: string;
  hosts: TopRow[];
  notAnswering: { host: string; reason: string }[];
}

async function topOnce(): Promise<Record<string, TopRow>> {
  const result = await svc(['top', 'sandbox', '--once', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const doc = JSON.parse(result.stdout) as TopDocument;
  expect(doc.notAnswering).toStrictEqual([]);
  return Object.fromEntries(doc.hosts.map((row) => [row.host, row]));
}

function onHost(host: string, command: string): string {
  const result = sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The service's pid as the host has it, and its ticks and RSS as the host's kernel says. */
function hostView(host: string): { pid: number; ticks: number; rssKb: number } {
  const pid = Number(onHost(host, 'cat /run/api-orders.pid').trim());
  const stat = onHost(host, `cat /proc/${pid}/stat`).replace(/.*\) /s, '').split(' ');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(onHost(host, `cat /proc/${pid}/status`))?.[1]);
  return { pid, ticks: Number(stat[11]) + Number(stat[12]), rssKb };
}

beforeAll(async () => {
  const unsupported = sandboxSupport();
  if (unsupported) throw new Error(unsupported);
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-top-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
});

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc top --once --json', () => {
  it('reports the real pid, CPU and RSS of a service under load, and a quiet one beside it', async () => {
    const address = sbx.host('sbx-1').address;
    const before = hostView('sbx-1');
    // Bounded: 8 keep-alive workers, at most 30 000 requests, at most 30 s, to sbx-1 only, and
    // stopped once the sample is taken. Enough that the load outlasts svc top's start and its
    // sample on a busy machine (8 workers at up to 100 requests/s each would use up 6000 in 7.5 s).
    const load = startLoad({
      host: address,
      port: 3000,
      path: '/ok',
      slowPath: '/ok',
      header: 'x-none',
      maxRequests: 30_000,
      seconds: 30,
      keepAliveWorkers: 8,
      newConnectionWorkers: 0,
      slowWorkers: 0,
    });
    let rows: Record<string, TopRow>;
    let began = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      began = Date.now();
      rows = await topOnce();
    } finally {
      await load.stop();
    }
    const after = hostView('sbx-1');
    const one = rows['sbx-1']!;
    const two = rows['sbx-2']!;
    expect(one.pid).toBe(before.pid);
    expect(after.pid).toBe(before.pid);
    expect(two.pid).toBe(hostView('sbx-2').pid);
    // RSS: the kernel's VmRSS of the same process moments apart.
    expect(one.rssBytes! / 1024).toBeGreaterThan(Math.min(before.rssKb, after.rssKb) * 0.8);
    expect(one.rssBytes! / 1024).toBeLessThan(Math.max(before.rssKb, after.rssKb) * 1.25);
    // CPU: busy under load (the kernel's ticks say so over the same time), idle next to it.
    const seconds = (Date.now() - began) / 1000 + 2;
    const kernelPercent = (after.ticks - before.ticks) / seconds; // CLK_TCK is 100 on Linux
    // Thresholds low enough for a machine busy with other work (the load then gets less done).
    expect(kernelPercent, 'the load made the service busy').toBeGreaterThan(1);
    expect(one.cpuPercent).toBeGreaterThan(0.5);
    expect(one.cpuPercent!).toBeGreaterThan(two.cpuPercent!);
    expect(one.connections).toBeGreaterThanOrEqual(1);
    expect(one).toMatchObject({
      state: 'running',
      monit: 'OK',
      health: 200,
      threads: expect.any(Number),
    });
    // The deploy's own start is no restart.
    expect([one.restarts, two.restarts]).toStrictEqual([0, 0]);
    expect(one.release).toMatch(/^[0-9a-f]{12}$/);
    expect(one.deployedAgoSeconds).toBeGreaterThanOrEqual(0);
  }, 90_000);

  it('counts a restart when the process is killed and monit brings it back, on that host only', async () => {
    // svc restart, asked for, is no restart of monit's.
    const asked = await svc(['restart', 'sandbox']);
    expect(asked.code, asked.stderr).toBe(0);
    const rows = await topOnce();
    expect(rows['sbx-1']!.restarts).toBe(0);
    const { pid } = hostView('sbx-1');
    onHost('sbx-1', `kill -KILL ${pid}`);
    let now = rows;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      now = await topOnce();
      if (
        now['sbx-1']!.pid !== undefined &&
        now['sbx-1']!.pid !== pid &&
        now['sbx-1']!.health === 200
      )
        break;
    }
    expect(now['sbx-1']!.pid).not.toBe(pid);
    expect(now['sbx-1']!.restarts).toBe(rows['sbx-1']!.restarts! + 1);
    expect(now['sbx-2']!.restarts).toBe(rows['sbx-2']!.restarts);
  }, 90_000);
});

describe('hosts that do not answer', () => {
  it('are named (notAnswering, and svc: error with --once), the others still shown', async () => {
    // Port 1 of the machine's loopback: nothing listens there.
    const result = await svc(['top', 'sandbox,deploy@127.0.0.1:1', '--once', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as TopDocument;
    expect(doc.hosts.map((row) => row.host).sort()).toStrictEqual(['sbx-1', 'sbx-2']);
    expect(doc.notAnswering).toHaveLength(1);
    expect(doc.notAnswering[0]!.host).toMatch(/127\.0\.0\.1/);
    expect(result.stderr).toMatch(/^svc: error: \S*127\.0\.0\.1\S*: .+\n$/);
  }, 60_000);
});

describe('a host that stops answering', () => {
  it('is named with --json until it answers again; SIGTERM ends svc top with 0', async () => {
    const child = spawn(SVC, ['top', 'sandbox', '--json', '--interval', '1', '--dir', project], {
      env: { ...sbx.env, HOME: home(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const docs: TopDocument[] = [];
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) docs.push(JSON.parse(line) as TopDocument);
    });
    const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
    // svc's session on sbx-2 (its login user's sshd; the root session below is another user's).
    const sessions = 'pgrep -u deploy -x sshd | while read -r p; do kill -SIG "$p"; done';
    const until = async (check: (doc: TopDocument) => boolean, seconds: number) => {
      const deadline = Date.now() + seconds * 1000;
      while (Date.now() < deadline) {
        if (docs.length > 0 && check(docs.at(-1)!)) return docs.at(-1)!;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`not within ${seconds} s: ${JSON.stringify(docs.at(-1))}`);
    };
    try {
      await until((doc) => doc.hosts.length === 2, 30);
      onHost('sbx-2', sessions.replace('SIG', 'STOP'));
      const silent = await until((doc) => doc.notAnswering.length > 0, 20);
      expect(silent.notAnswering).toMatchObject([{ host: 'sbx-2', reason: 'no answer' }]);
      expect(silent.hosts.map((row) => row.host)).toContain('sbx-1');
    } finally {
      onHost('sbx-2', sessions.replace('SIG', 'CONT'));
    }
    await until((doc) => doc.notAnswering.length === 0 && doc.hosts.length === 2, 30);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});

describe('svc top on a terminal', () => {
  const start = (target = 'sandbox') => {
    const session = new PtySession(
      ['top', target, '--dir', project, '--interval', '1'],
      work,
      { SVC_SANDBOX_DIR: sbx.stateDir, HOME: home() },
      'stty -a',
    );
    sessions.push(session);
    return session;
  };

  /** After svc: the alternate screen left last, the cursor shown, the terminal cooked again. */
  const expectRestored = (session: PtySession) => {
    const raw = session.rawOutput;
    expect(raw.lastIndexOf('\u001b[?1049l')).toBeGreaterThan(raw.lastIndexOf('\u001b[?1049h'));
    expect(raw.lastIndexOf('\u001b[?25h')).toBeGreaterThan(raw.lastIndexOf('\u001b[?25l'));
    const stty = session.output.slice(session.output.indexOf('svc-exit='));
    expect(stty).toMatch(/svc-exit=0/);
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/m);
    expect(stty).toMatch(/(^|\s)isig(\s|$)/m);
  };

  it('starts, refreshes, sorts by the keys, and q quits leaving the terminal as it was', async () => {
    // A third host that never answers: named on the bottom line.
    const session = start('sandbox,deploy@127.0.0.1:1');
    await session.expectOutput(/sorted by cpu/);
    await session.expectOutput(/HOST +STATE +MONIT +PID/);
    await session.expectOutput(/sbx-\d +running/);
    await session.expectOutput(/not answering: \S*127\.0\.0\.1\S* \(\d+s: /);
    // A refresh draws the header again (with a new time).
    await session.expectOutput(/sorted by cpu/);
    session.send('h');
    await session.expectOutput(/sorted by host[\s\S]*?sbx-1[\s\S]*?sbx-2/);
    session.send('m');
    await session.expectOutput(/sorted by mem/);
    session.send('r');
    await session.expectOutput(/sorted by restarts/);
    session.send('q');
    await session.expectOutput(/svc-exit=\d+/);
    expect(await session.waitForExit()).toEqual({ code: 0, signal: null });
    expectRestored(session);
  }, 60_000);

  it('Ctrl-C quits the same way', async () => {
    const session = start();
    await session.expectOutput(/sbx-\d +running/);
    session.send(KEY.ctrlC);
    await session.expectOutput(/svc-exit=\d+/);
    expect(await session.waitForExit()).toEqual({ code: 0, signal: null });
    expectRestored(session);
  }, 60_000);
});
