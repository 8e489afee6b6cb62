// cutover: switch, warm slots under every init system (issue 11), in the pure core: the slot
// facts read the slot's process from its root-owned pidfile where there is no systemd (run by the
// real sh against real processes: a live one, a stale pidfile, a zombie, a link), the slot start
// file recorded per init system, keepWarm no longer refused, the plan's switch back without a
// start, and the apply script's check and monit's watch of a kept slot.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { NGINX_BINARY, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { slotStartFile } from '../../src/core/cutover-slots.js';
import { SLOT_FACT, type SlotFact } from '../../src/core/cutover-warm.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts, PathFact } from '../../src/core/facts.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const RELEASE = 'abc123abc123';
const SLOT_FILES: Record<InitSystem, string[]> = {
  systemd: ['etc/systemd/system/api-orders@.service'],
  openrc: ['etc/init.d/api-orders'],
  upstart: ['etc/init/api-orders.conf', 'etc/init/api-orders-slots.conf'],
  monit: [],
};
const LAUNCHER = 'usr/local/lib/svc/api-orders/ctl';
const of = (init: InitSystem, monit: boolean): Manifest => ({
  ...manifest,
  cutover: 'switch',
  init,
  monit: monit || init === 'monit',
});
const config = (m: Manifest) => [
  ...SLOT_FILES[m.init ?? 'monit'].map((path) => file(path, `# slot file ${path}\n`, 0o755)),
  ...(m.monit ? [file(LAUNCHER, '#!/bin/sh\n# launcher\n', 0o755)] : []),
  file('etc/nginx/sites-enabled/api-orders.conf', 'server { listen 3000; }\n'),
];
const ops = (m: Manifest) => operations(config(m), m);
const cutoverOf = (m: Manifest) => {
  const op = ops(m).find((candidate) => candidate.kind === 'service');
  if (op?.kind !== 'service' || op.cutover === undefined) throw new Error('no cutover');
  return op.cutover;
};
const [A, B] = slotsOf(of('openrc', true));
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const liveA: PathFact = {
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(new TextEncoder().encode(upstreamText('api-orders', A!))),
};
/** Slot b runs RELEASE, started with what this plan leaves on the host. */
const warmB = (m: Manifest): Map<number, SlotFact> => {
  const inputs = cutoverOf(m).inputs!;
  return new Map<number, SlotFact>([
    [A!.port, { pid: 100, release: 'old000old000' }],
    [
      B!.port,
      {
        pid: 200,
        release: RELEASE,
        ...(inputs.envSha256 !== undefined && { envSha256: inputs.envSha256 }),
        unitSha256: inputs.unitSha256!,
      },
    ],
  ]);
};
const hostFacts = (m: Manifest, slots?: Map<number, SlotFact>): HostFacts =>
  facts([NGINX, liveA], { init: m.init === 'monit' ? 'none' : m.init!, ...(slots && { slots }) });

const CASES: [string, Manifest][] = [
  ['openrc, monit watching', of('openrc', true)],
  ['openrc alone', of('openrc', false)],
  ['upstart, monit watching', of('upstart', true)],
  ['init: monit', of('monit', true)],
  ['systemd, monit watching', of('systemd', true)],
];

describe('the slot facts asked under every init system', () => {
  it.each<[string, Manifest, string, string]>([
    ['systemd', of('systemd', false), 'api-orders@13000.service', '/run/api-orders@13000.pid'],
    [
      'systemd, monit',
      of('systemd', true),
      'api-orders@13000.service',
      '/run/api-orders@13000.pid',
    ],
    ['openrc', of('openrc', true), '', '/run/openrc/options/api-orders.a/child_pid'],
    ['upstart', of('upstart', false), '', '/run/api-orders@13000.pid'],
    ['init: monit', of('monit', true), '', '/run/api-orders@13000.pid'],
  ])('%s: unit %j, pidfile %s', (_, m, unit, pidfile) => {
    const request = buildFactRequest(m, ops(m), 'deploy', false, SALT);
    expect(request.slots?.[0]).toEqual({
      unit,
      port: 13000,
      record: '/var/lib/svc/api-orders/slot.13000',
      pidfile,
    });
  });

  it.each<[InitSystem, string]>([
    ['systemd', '/etc/systemd/system/api-orders@.service'],
    ['openrc', '/etc/init.d/api-orders'],
    ['upstart', '/etc/init/api-orders.conf'],
    ['monit', '/usr/local/lib/svc/api-orders/ctl'],
  ])('%s: a slot records the sha256 of %s, the file it starts from', (init, path) => {
    const m = of(init, true);
    expect(slotStartFile(m)).toBe(path);
    expect(cutoverOf(m).inputs?.unitSha256).toBe(
      sha256Hex(
        new TextEncoder().encode(
          init === 'monit' ? '#!/bin/sh\n# launcher\n' : `# slot file ${path.slice(1)}\n`,
        ),
      ),
    );
  });
});

describe('slot_fact from a pidfile, run by sh against real processes', () => {
  let work = '';
  let child: ChildProcess | undefined;
  let zombie: ChildProcess | undefined;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'svc-slot-fact-pidfile-'));
    for (const id of ['r1', 'r2']) mkdirSync(join(work, 'releases', id), { recursive: true });
    child = spawn('sleep', ['60'], { cwd: join(work, 'releases', 'r2'), stdio: 'ignore' });
    // A zombie: sh execs a sleep that outlives a child nobody waits for.
    zombie = spawn('sh', ['-c', 'true & exec sleep 60'], {
      cwd: join(work, 'releases', 'r2'),
      stdio: 'ignore',
    });
    // No systemctl at all: a pidfile slot never asks it.
    mkdirSync(join(work, 'bin'));
  });
  afterAll(() => {
    child?.kill();
    zombie?.kill();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const run = (pidfile: (path: string) => void, record?: string) => {
    const pidPath = join(work, 'slot.pid');
    const recordFile = join(work, 'slot.13000');
    rmSync(pidPath, { force: true });
    rmSync(recordFile, { force: true });
    pidfile(pidPath);
    if (record !== undefined) writeFileSync(recordFile, record);
    const script = [
      'set -u',
      `enc() { case $1 in '' | *[!A-Za-z0-9._/@:+,-]*) enc=$(printf %s "$1" | od -An -v -tx1 | tr -d ' \\n') ;; *) enc="=$1" ;; esac; }`,
      `releases='${join(work, 'releases')}'`,
      SLOT_FACT,
      `slot_fact '' 13000 '${recordFile}' '${pidPath}'`,
    ].join('\n');
    const result = spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: `${join(work, 'bin')}:/usr/bin:/bin` },
    });
    expect(result.stderr).toBe('');
    return result.stdout;
  };
  const env = 'e'.repeat(64);
  const unit = 'b'.repeat(64);
  const write = (text: string) => (path: string) => writeFileSync(path, text);

  /** The process's start time since boot (clock ticks): /proc/PID/stat's 22nd field. */
  const startOf = (pid: string) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[19]!;

  it('names the live process, and the release and inputs svc recorded for it', () => {
    const pid = String(child!.pid);
    expect(run(write(`${pid}\n`), `${pid} ${env} ${unit} r1 ${startOf(pid)}\n`)).toBe(
      `T\t13000\t${pid}\t=r1\t${env}\t${unit}\n`,
    );
  });

  it('reads a pidfile without a newline, as OpenRC writes child_pid', () => {
    const pid = String(child!.pid);
    expect(run(write(pid), `${pid} ${env} ${unit} r1 ${startOf(pid)}\n`)).toBe(
      `T\t13000\t${pid}\t=r1\t${env}\t${unit}\n`,
    );
  });

  it('a record of another pid says nothing of what it runs or started with', () => {
    const pid = String(child!.pid);
    expect(run(write(`${pid}\n`), `1 ${env} ${unit} r1 5\n`)).toBe(`T\t13000\t${pid}\t-\t-\t-\n`);
  });

  it.each<[string, () => (path: string) => void]>([
    ['no pidfile', () => () => undefined],
    ['an empty pidfile', () => write('')],
    ['a pidfile that is no number', () => write('12ab\n')],
    ['a pid with a path in it', () => write('../1\n')],
    ['a stale pidfile (the process is gone)', () => write('999999999\n')],
    [
      'a zombie',
      () => {
        const out = spawnSync('ps', ['-o', 'pid=,stat=', '--ppid', String(zombie!.pid)], {
          encoding: 'utf8',
        }).stdout;
        const pid = /(\d+)\s+Z/.exec(out)?.[1];
        expect(pid, out).toBeDefined();
        return write(`${pid}\n`);
      },
    ],
    [
      'a pidfile that is a link',
      () => (path: string) => {
        writeFileSync(`${path}.target`, `${child!.pid}\n`);
        rmSync(path, { force: true });
        symlinkSync(`${path}.target`, path);
      },
    ],
  ])('%s: no process', (_, pidfile) => {
    expect(run(pidfile())).toBe('T\t13000\t-\t-\t-\t-\n');
  });

  it('says - for a live process outside every release', () => {
    expect(run(write(`${process.pid}\n`))).toBe(`T\t13000\t${process.pid}\t-\t-\t-\n`);
  });
});

describe('keepWarm and the switch back without a start, beyond systemd', () => {
  const service = (m: Manifest, hf: HostFacts) =>
    planHost('web1', ops(m), hf, 'digest').changes.find((c) => c.kind === 'service');

  it.each(CASES)('%s: keepWarm is no plan problem', (_, m) => {
    const warm = { ...m, keepWarm: true };
    const plan = planHost('web1', ops(warm), hostFacts(warm), 'digest');
    expect(plan.problems).toEqual([]);
    expect(service(warm, hostFacts(warm))?.steps?.at(-1)).toBe(
      'keep slot a running with the release it serves now (keepWarm: svc rollback switches back to it without a start)',
    );
  });

  it.each(CASES)('%s: a warm idle slot is switched to without a start', (_, m) => {
    expect(service(m, hostFacts(m, warmB(m)))?.steps).toEqual([
      'gate slot b on 127.0.0.1:23000 (release abc123abc123, already running, pid 200; no start)',
      'switch: nginx on port 3000 to slot b (release abc123abc123, already running; no start)',
      'drain slot a (up to 30 s), then stop it',
    ]);
  });

  it.each(CASES)('%s: the live slot not running is a reason to switch', (_, m) => {
    const down = new Map<number, SlotFact>([
      [A!.port, {}],
      [B!.port, {}],
    ]);
    // Nothing else changes: the deployed facts hold this plan's files.
    expect(service(m, hostFacts(m, down))?.reasons).toContain(
      'slot a (live, port 13000) is not running',
    );
  });
});

describe('the apply script beyond systemd', () => {
  function script(m: Manifest, hf: HostFacts): string {
    const operationList = ops(m);
    return buildApply(
      {
        manifest: m,
        operations: operationList,
        plan: planHost('web1', operationList, hf, 'digest'),
        facts: hf,
        factRequest: buildFactRequest(m, operationList, 'deploy', false, SALT),
        holder: '{}',
        lockWaitSeconds: 5,
        healthTimeoutSeconds: 30,
        now: '2026-01-01T00:00:00Z',
        nonce: 'n',
      },
      [],
    ).script;
  }

  it.each<[string, Manifest, string]>([
    ['openrc', of('openrc', true), "slot_warm '' /run/openrc/options/api-orders.b/child_pid 200"],
    ['init: monit', of('monit', true), "slot_warm '' /run/api-orders@23000.pid 200"],
    ['upstart', of('upstart', false), "slot_warm '' /run/api-orders@23000.pid 200"],
    [
      'systemd, monit',
      of('systemd', true),
      'slot_warm api-orders@23000.service /run/api-orders@23000.pid 200',
    ],
  ])('%s: checks the warm slot by its own pid before the switch', (_, m, check) => {
    const text = script(m, hostFacts(m, warmB(m)));
    expect(text).toContain(
      `${check} ${RELEASE} /var/lib/svc/api-orders/slot.23000 && warm_healthy`,
    );
    expect(text).toMatch(/^slot_warm\(\) \{$/m);
    expect(text).toContain('warm_healthy http://127.0.0.1:23000/ok 5');
  });

  it.each<[string, Manifest, string]>([
    ['openrc', of('openrc', true), '/etc/init.d/api-orders'],
    ['init: monit', of('monit', true), '/usr/local/lib/svc/api-orders/ctl'],
    ['upstart', of('upstart', false), '/etc/init/api-orders.conf'],
  ])('%s: records the slot start file a started slot came from', (_, m, path) => {
    expect(script(m, hostFacts(m))).toMatch(
      new RegExp(
        `^ *slot_started \\S+ /etc/default/api-orders ${path} /var/lib/svc/api-orders/slot\\.23000 ${RELEASE} \\|\\| :$`,
        'm',
      ),
    );
  });

  it('monit watches a warm slot again once it is live, and no longer watches a kept one', () => {
    const m = of('openrc', true);
    const back = script(m, hostFacts(m, warmB(m)));
    expect(back).toContain(
      'if [ "$warm" = 1 ]; then : > /var/lib/svc/api-orders/slot-b.on; rc-update add api-orders.b default >/dev/null 2>&1 || :; slot_monit monitor api-orders-b || :; fi',
    );
    const kept = script({ ...m, keepWarm: true }, hostFacts(m));
    expect(kept).toContain('slot_unwatched api-orders-a || :');
    expect(kept).not.toContain('drain_port 13000');
    // Without monit nothing watches a slot: nothing to unwatch.
    expect(script({ ...of('openrc', false), keepWarm: true }, hostFacts(m))).not.toContain(
      'unmonitor api-orders-a',
    );
  });
});
