// svc top and svc trace on cutover: switch services, on real sandbox hosts: a host that boots
// systemd (an api- project's defaults: slots NAME@PORT.service, monit watching, keepWarm: true)
// and a light host (init: monit: checks NAME-a and NAME-b through the slot launcher). Both
// commands find the LIVE slot's process (the slot the upstream file nginx includes names), read
// here on the host independently (systemd's MainPID of the slot's unit, the slot's pidfile under
// monit), and follow it when a deploy switches to the other slot: top's pid changes with it, the
// slot kept warm is named as the other slot's process, and trace attaches to the new live one.
// Needs root, a built dist/ and systemd-container (see .ci/run).
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopRow } from '../../src/core/top-sample.js';
import type { TraceReport } from '../../src/core/trace-report.js';
import {
  eventually,
  runSvc,
  sandboxSupport,
  startSandbox,
  SVC,
  type Sandbox,
} from '../helpers/sandbox.js';

interface Case {
  kind: 'systemd' | 'monit';
  name: string;
  port: number;
  slots: { a: number; b: number };
  sbx?: Sandbox;
  project: string;
}

const CASES: Case[] = [
  // An api- project's defaults: init systemd, monit: true, cutover: switch; kept warm.
  { kind: 'systemd', name: 'api-tswd', port: 3231, slots: { a: 13231, b: 23231 }, project: '' },
  { kind: 'monit', name: 'api-tswm', port: 3000, slots: { a: 13000, b: 23000 }, project: '' },
];

let work = '';
const env = (c: Case) => ({ ...c.sbx!.env, HOME: join(work, 'home'), NO_COLOR: '1' });

function onHost(c: Case, command: string): string {
  const result = c.sbx!.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

/** The live slot as the host has it: the upstream file's port, and that slot's process. */
function liveOnHost(c: Case): { slot: 'a' | 'b'; pid: number } {
  const port = Number(
    onHost(
      c,
      `sed -n 's/^server 127\\.0\\.0\\.1:\\([0-9]*\\);$/\\1/p' /var/lib/svc/${c.name}/upstream.conf`,
    ),
  );
  const slot = port === c.slots.a ? 'a' : port === c.slots.b ? 'b' : undefined;
  expect(slot, `upstream port ${port}`).toBeDefined();
  const pid =
    c.kind === 'systemd'
      ? onHost(c, `systemctl show -p MainPID --value ${c.name}@${port}.service`)
      : onHost(c, `cat /run/${c.name}@${port}.pid`);
  expect(Number(pid)).toBeGreaterThan(0);
  return { slot: slot!, pid: Number(pid) };
}

async function deploy(c: Case, release: string): Promise<void> {
  writeFileSync(join(c.project, 'release-id.txt'), `${release}\n`);
  const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', c.project], env(c));
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

async function top(c: Case): Promise<TopRow> {
  const result = await runSvc(['top', 'sandbox', '--once', '--json', '--dir', c.project], env(c));
  expect(result.code, result.stderr).toBe(0);
  const doc = JSON.parse(result.stdout) as { hosts: TopRow[]; notAnswering: unknown[] };
  expect(doc.notAnswering).toStrictEqual([]);
  return doc.hosts[0]!;
}

async function trace(c: Case): Promise<TraceReport> {
  const result = await runSvc(
    ['trace', 'sandbox', '--seconds', '1', '--json', '--dir', c.project],
    env(c),
  );
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { hosts: TraceReport[] }).hosts[0]!;
}

beforeAll(async () => {
  const unsupported = sandboxSupport();
  if (unsupported) throw new Error(unsupported);
  work = mkdtempSync(join(tmpdir(), 'svc-top-switch-'));
  for (const c of CASES) {
    c.project = join(work, c.name);
    const flags = c.kind === 'monit' ? ['--init', 'monit', '--cutover', 'switch'] : [];
    execFileSync(SVC, ['new', c.name, '--yes', '--port', String(c.port), ...flags], {
      env: { ...process.env, CI: '1' },
      cwd: work,
    });
    // systemd keeps the slot nginx left warm (its process still runs); under monit it drains
    // for at most 2 s.
    appendFileSync(
      join(c.project, 'svc.yaml'),
      c.kind === 'systemd' ? 'keepWarm: true\n' : 'drainTimeout: 2\n',
    );
  }
  const [systemd, monit] = CASES;
  [systemd!.sbx, monit!.sbx] = await Promise.all([
    startSandbox({ count: 1, systemd: true, user: 'deploy' }),
    startSandbox({ count: 1, user: 'deploy' }),
  ]);
}, 240_000);

afterAll(async () => {
  try {
    await Promise.all(CASES.map((c) => c.sbx?.down()));
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}, 150_000);

describe.each(CASES)('a switch service under $kind', (c) => {
  it('top and trace find the live slot, and follow it when a deploy switches', async () => {
    await deploy(c, 'r1');
    const before = liveOnHost(c);
    const first = await top(c);
    expect(first).toMatchObject({ pid: before.pid, slot: before.slot, health: 200 });
    expect(first.state).toMatch(c.kind === 'systemd' ? /^active\/running$/ : /^running$/);
    expect(first.monit).toBe('OK');
    expect(first.rssBytes).toBeGreaterThan(0);
    expect((await trace(c)).pids[0]).toBe(before.pid);

    await deploy(c, 'r2');
    const after = liveOnHost(c);
    expect(after.slot).not.toBe(before.slot);
    expect(after.pid).not.toBe(before.pid);
    const second = await top(c);
    expect(second).toMatchObject({ pid: after.pid, slot: after.slot, health: 200 });
    if (c.kind === 'systemd') {
      // Kept warm: the slot nginx left still runs, named as the other slot's process.
      expect(second).toMatchObject({ idleSlot: before.slot, idleSlotPid: before.pid });
    } else {
      // Drained (2 s): then no other slot's process.
      expect(
        await eventually(() => {
          const gone = c.sbx!.ssh('sbx-1', `kill -0 ${before.pid}`, { user: 'root' }).code !== 0;
          return gone;
        }, 30),
      ).toBe(true);
      expect((await top(c)).idleSlotPid).toBeUndefined();
    }
    expect((await trace(c)).pids[0]).toBe(after.pid);
  }, 240_000);
});
