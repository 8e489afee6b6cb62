// The drain after a recorded switch deploy, and svc's view of it (review F2,
// /work/notes/s8/review-cutover.md): the host says DEPLOYED before it drains; the drain survives a
// lost connection (HUP) and TERM, and svc's Ctrl-C (INT) ends the wait at once (run by sh on a
// real held connection); svc waits long enough for drainTimeout, and a deploy that said DEPLOYED
// is deployed whatever became of the wait.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import {
  deployedBeforeDrain,
  drainAllowanceSeconds,
  NGINX_BINARY,
  slotsOf,
  upstreamFile,
  upstreamText,
} from '../../src/core/cutover.js';
import { DRAIN } from '../../src/core/cutover-script.js';
import { leaveLines } from '../../src/core/cutover-warm.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const UPTIME = 'uptime_s() { IFS=. read -r up_s rest < /proc/uptime; }';
const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const [A, B] = slotsOf(SWITCH);

describe('the drain, run by sh on a real held connection', () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  let port = 0;
  beforeAll(async () => {
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client!.on('connect', resolve));
  });
  afterAll(() => {
    client?.destroy();
    server?.close();
  });

  // The trap line leaveLines puts before the drain, then a drain of 3 s.
  const traps = () => {
    const [line] = leaveLines({
      name: 'api-orders',
      left: A!,
      cutover: { drainSeconds: 3 },
      upstream: '/nonexistent',
      lock: { file: '/l', holder: '/h', waitSeconds: 1 },
      pidNow: '1',
      disable: [],
      stop: [],
    });
    expect(line).toBe("drain_cut=0; trap '' HUP TERM; trap 'drain_cut=1' INT");
    return line!;
  };
  // The signal is sent once sh says its traps are set (before, it would die of it), and the
  // drain has begun.
  const drain = (signal: NodeJS.Signals | undefined, seconds: number) =>
    new Promise<{ status: number | null; ms: number }>((resolve) => {
      const started = Date.now();
      const child = spawn('sh', [
        '-c',
        `${UPTIME}\n${DRAIN}\n${traps()}\necho ready\nstatus=0; drain_port ${port} ${seconds} || status=$?; exit $status`,
      ]);
      let said = '';
      child.stdout.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (signal !== undefined && said === 'ready\n') child.kill(signal);
      });
      child.on('exit', (status) => resolve({ status, ms: Date.now() - started }));
    });

  // A drain ends at its timeout by /proc/uptime's whole seconds: 3 s last 2 to 3 s. The INT case
  // drains 10 s, so that its bound leaves a busy machine room and still tells "at once" apart
  // from "at the timeout".
  it.each<[string, NodeJS.Signals | undefined, number, number, number, number]>([
    ['no signal: the whole drainTimeout', undefined, 3, 1, 2000, 5000],
    ['HUP (the connection went): drains on', 'SIGHUP', 3, 1, 2000, 5000],
    ['TERM: drains on', 'SIGTERM', 3, 1, 2000, 5000],
    ["INT (svc's Ctrl-C): stops waiting at once", 'SIGINT', 10, 3, 0, 5000],
  ])('%s', async (_, signal, seconds, status, atLeast, atMost) => {
    const result = await drain(signal, seconds);
    expect(result.status).toBe(status);
    expect(result.ms).toBeGreaterThanOrEqual(atLeast);
    expect(result.ms).toBeLessThan(atMost);
  });

  it('says why it stopped the slot early', () => {
    const lines = leaveLines({
      name: 'api-orders',
      left: A!,
      cutover: { drainSeconds: 30 },
      upstream: '/u',
      lock: { file: '/l', holder: '/h', waitSeconds: 1 },
      pidNow: '1',
      disable: [],
      stop: [],
    }).join('\n');
    expect(lines).toContain(
      'case $drain in 0) ;; 3) say "WARNING\tthe drain of slot a was cut short (svc was interrupted): stopping it now" ;;',
    );
    const cut = spawnSync(
      'sh',
      [
        '-c',
        `drain=3; say() { printf '%s\\n' "$*"; }\n${lines.split('\n').find((l) => l.includes('case $drain'))}`,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(cut.stdout).toBe(
      'WARNING\tthe drain of slot a was cut short (svc was interrupted): stopping it now\n',
    );
  });
});

describe("the drain counts the slot's own connections only (review F10)", () => {
  // A connection whose local port happens to be the slot's, on another local address (an
  // outgoing connection the kernel gave that port): 127.0.0.2 is loopback too, but not the slot's.
  let server: Server | undefined;
  let other: Socket | undefined;
  let port = 0;
  beforeAll(async () => {
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.2', resolve));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.2', resolve));
    port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    other = connect({
      port: (server.address() as { port: number }).port,
      host: '127.0.0.2',
      localAddress: '127.0.0.2',
      localPort: port,
    });
    await new Promise<void>((resolve) => other!.on('connect', resolve));
  });
  afterAll(() => {
    other?.destroy();
    server?.close();
  });

  it('is not held by a connection on another address that has the same local port', () => {
    // Held, it would wait out the 10 s (at least 9 s, by whole seconds of uptime).
    const started = Date.now();
    const result = spawnSync('sh', ['-c', `${UPTIME}\n${DRAIN}\ndrain_port ${port} 10`]);
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('svc waits for the drain, and a recorded deploy is deployed', () => {
  it.each<[string, Partial<Manifest>, number]>([
    ['restart: nothing more', { cutover: 'restart' }, 0],
    ['switch, the defaults: 30 s drain, 120 s relock, 30 s stop, 15 s', { cutover: 'switch' }, 195],
    [
      'switch, drainTimeout 600 and stopTimeout 90',
      { cutover: 'switch', drainTimeout: 600, stopTimeout: 90 },
      825,
    ],
  ])('%s', (_, m, seconds) => {
    expect(drainAllowanceSeconds({ ...manifest, ...m } as Manifest)).toBe(seconds);
  });

  it.each<[string, string[], string, string | undefined]>([
    [
      'a timeout after DEPLOYED',
      ['STEP\tfiles in place', 'DEPLOYED\tabc123abc123', 'STEP\tdraining slot a'],
      'sbx-1 (deploy@10.0.0.1:22): deploying did not finish within 555 s',
      'deployed and recorded; then deploying did not finish within 555 s during the drain of the old slot, which the host finishes on its own (it stops that slot at drainTimeout)',
    ],
    [
      'a lost connection after DEPLOYED',
      ['DEPLOYED\tabc123abc123'],
      'sbx-1 (deploy@10.0.0.1:22): deploying: the connection was lost',
      'deployed and recorded; then deploying: the connection was lost during the drain of the old slot, which the host finishes on its own (it stops that slot at drainTimeout)',
    ],
    [
      'a timeout before DEPLOYED: not deployed',
      ['STEP\tfiles in place'],
      'sbx-1: deploying did not finish within 555 s',
      undefined,
    ],
  ])('%s', (_, lines, why, message) => {
    expect(deployedBeforeDrain(lines, why)).toBe(message);
  });

  it('the apply script says DEPLOYED after the record and before the drain', () => {
    const config = [
      file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node s.js\n'),
      file('etc/nginx/sites-enabled/api-orders.conf', 'server { listen 3000; }\n'),
    ];
    const ops = operations(config, SWITCH);
    const nginx: PathFact = {
      path: NGINX_BINARY,
      type: 'file',
      mode: 0o755,
      sha256: 'f'.repeat(64),
    };
    const live: PathFact = {
      path: upstreamFile('api-orders'),
      type: 'file',
      mode: 0o644,
      sha256: sha256Hex(new TextEncoder().encode(upstreamText('api-orders', B!))),
    };
    const hf = facts([nginx, live]);
    const text = buildApply(
      {
        manifest: SWITCH,
        operations: ops,
        plan: planHost('web1', ops, hf, 'digest'),
        facts: hf,
        factRequest: buildFactRequest(SWITCH, ops, 'deploy', false, SALT),
        holder: '{}',
        lockWaitSeconds: 5,
        healthTimeoutSeconds: 30,
        now: '2026-01-01T00:00:00Z',
        nonce: 'n',
      },
      [],
    ).script;
    const recorded = text.indexOf("hist_end deployed ''");
    const said = text.indexOf('say "DEPLOYED\tabc123abc123"');
    const traps = text.indexOf("drain_cut=0; trap '' HUP TERM; trap 'drain_cut=1' INT");
    const drained = text.indexOf('drain_port 23000 30');
    expect(recorded).toBeGreaterThan(0);
    expect([recorded < said, said < traps, traps < drained]).toEqual([true, true, true]);
  });
});
