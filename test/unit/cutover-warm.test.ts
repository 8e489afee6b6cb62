// cutover: switch, warm slots and the move from restart (issue 11), in the pure core: keepWarm in
// svc.yaml, what the host reports of each slot (T records, run by the real sh against a real
// process), when a switch back needs no start, the plan's steps, and the apply script's lines
// (the drain without the lock, cancelled when a rollback switched back; the port taken from
// NAME.service at once).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { slotsOf, upstreamFile, upstreamText, NGINX_BINARY } from '../../src/core/cutover.js';
import { DRAIN } from '../../src/core/cutover-script.js';
import { slotRecord, SLOT_FACT, warmSlot, type SlotFact } from '../../src/core/cutover-warm.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { digestedFacts, factScript, type HostFacts, type PathFact } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import { formatProblems, validateManifest, type Manifest } from '../../src/core/manifest.js';
import type { SwitchCutover } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const WARM: Manifest = { ...SWITCH, keepWarm: true };
const UNIT = '[Service]\nExecStart=/usr/bin/node server.js\n';
const CONFIG = [
  file('etc/systemd/system/api-orders@.service', UNIT),
  file('etc/nginx/sites-enabled/api-orders.conf', 'server { listen 3000; }\n'),
];
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const [A, B] = slotsOf(SWITCH);
const RELEASE = 'abc123abc123';
const upstreamFact = (port: number): PathFact => ({
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(
    new TextEncoder().encode(upstreamText('api-orders', port === A!.port ? A! : B!)),
  ),
});
const ops = (forManifest: Manifest = SWITCH) => operations(CONFIG, forManifest);
const cutoverOf = (forManifest: Manifest = SWITCH): SwitchCutover => {
  const op = ops(forManifest).find((candidate) => candidate.kind === 'service');
  if (op?.kind !== 'service' || op.cutover === undefined) throw new Error('no cutover');
  return op.cutover;
};
/** Slot b as the host would report it when it runs RELEASE, started with this plan's inputs. */
const warmB = (change: Partial<SlotFact> = {}): Map<number, SlotFact> => {
  const inputs = cutoverOf().inputs!;
  return new Map<number, SlotFact>([
    [A!.port, { pid: 100, release: 'old000old000' }],
    [
      B!.port,
      {
        pid: 200,
        release: RELEASE,
        ...(inputs.envSha256 !== undefined && { envSha256: inputs.envSha256 }),
        unitSha256: inputs.unitSha256!,
        ...change,
      },
    ],
  ]);
};

describe('svc.yaml keepWarm', () => {
  const problems = (data: Record<string, unknown>) => {
    const result = validateManifest(data);
    return result.ok ? [] : formatProblems('svc.yaml', result.problems);
  };
  it.each<[string, Record<string, unknown>, string[]]>([
    ['true with switch', { ...SWITCH, keepWarm: true }, []],
    ['false with switch', { ...SWITCH, keepWarm: false }, []],
    [
      'without switch',
      { ...manifest, keepWarm: true },
      [
        'svc.yaml: keepWarm: only cutover: switch has a slot to keep warm; it needs cutover: switch',
      ],
    ],
    [
      'not a boolean',
      { ...SWITCH, keepWarm: 'yes' },
      ['svc.yaml: keepWarm: must be true or false'],
    ],
  ])('%s', (_, data, expected) => {
    expect(problems(data)).toEqual(expected);
  });

  it('reaches the cutover of the service operation, with the inputs a slot starts with', () => {
    expect(cutoverOf(WARM).keepWarm).toBe(true);
    expect(cutoverOf().keepWarm).toBeUndefined();
    expect(cutoverOf().inputs?.unitSha256).toBe(sha256Hex(new TextEncoder().encode(UNIT)));
  });
});

describe('T records: each slot as it runs', () => {
  const request = () => buildFactRequest(SWITCH, ops(), 'deploy', false, SALT);
  it('are asked for both slots, in slot order', () => {
    expect(request().slots).toEqual([
      {
        unit: 'api-orders@13000.service',
        port: 13000,
        record: '/var/lib/svc/api-orders/slot.13000',
        pidfile: '/run/api-orders@13000.pid',
      },
      {
        unit: 'api-orders@23000.service',
        port: 23000,
        record: '/var/lib/svc/api-orders/slot.23000',
        pidfile: '/run/api-orders@23000.pid',
      },
    ]);
    expect(buildFactRequest(manifest, operations(), 'deploy', false, SALT).slots).toBeUndefined();
  });

  const output = (t: string[]) =>
    [
      'B\tsvc-facts\t7',
      'I\tsystemd',
      'H\t=web1',
      'L\tdeploy\t=/home/deploy',
      'M\t0\t0',
      'S\t0\t-',
      'R\t-',
      ...request().paths.flatMap((_, index) => [`P\t${index}\tabsent`, `A\t${index}\t=/x`]),
      'U\tapi-orders\t-',
      ...t,
      'E\tsvc-facts',
      '',
    ].join('\n');
  const sha = 'a'.repeat(64);

  it('parse into the slots map', () => {
    const parsed = parseFacts(
      output(['T\t13000\t-\t-\t-\t-', `T\t23000\t4242\t=${RELEASE}\t${sha}\t-`]),
      request(),
      'web1',
    );
    expect(parsed.slots).toEqual(
      new Map([
        [13000, {}],
        [23000, { pid: 4242, release: RELEASE, envSha256: sha }],
      ]),
    );
  });

  it.each<[string, string[], string]>([
    ['a slot out of order', ['T\t23000\t-\t-\t-\t-', 'T\t13000\t-\t-\t-\t-'], 'port 13000'],
    ['a pid that is not a number', ['T\t13000\tx\t-\t-\t-', 'T\t23000\t-\t-\t-\t-'], 'port 13000'],
    ['a bad sha256', ['T\t13000\t1\t-\tabc\t-', 'T\t23000\t-\t-\t-\t-'], 'port 13000'],
    ['a release with a slash', ['T\t13000\t1\t=a/b\t-\t-', 'T\t23000\t-\t-\t-\t-'], 'port 13000'],
    ['one slot missing', ['T\t13000\t-\t-\t-\t-'], 'expected a T record'],
  ])('refuse %s', (_, t, message) => {
    expect(() => parseFacts(output(t), request(), 'web1')).toThrow(message);
  });

  it('are running state: out of the stale-plan digest, like S', () => {
    const a = output(['T\t13000\t-\t-\t-\t-', 'T\t23000\t-\t-\t-\t-']);
    const b = output(['T\t13000\t9\t=x\t-\t-', 'T\t23000\t-\t-\t-\t-']);
    expect(a).not.toBe(b);
    expect(digestedFacts(a)).toBe(digestedFacts(b));
    expect(factScript(request())).toContain(
      'slot_fact api-orders@23000.service 23000 /var/lib/svc/api-orders/slot.23000 /run/api-orders@23000.pid',
    );
  });
});

describe('slot_fact, run by sh against a real process', () => {
  let work = '';
  let child: ChildProcess | undefined;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'svc-slot-fact-'));
    for (const id of ['r1', 'r2']) mkdirSync(join(work, 'releases', id), { recursive: true });
    child = spawn('sleep', ['60'], { cwd: join(work, 'releases', 'r2'), stdio: 'ignore' });
    mkdirSync(join(work, 'bin'));
    // systemctl as the fact script asks it: the unit's main pid and state.
    writeFileSync(
      join(work, 'bin', 'systemctl'),
      `#!/bin/sh\nprintf 'MainPID=%s\\nActiveState=%s\\n' "$FAKE_PID" "$FAKE_STATE"\n`,
    );
    chmodSync(join(work, 'bin', 'systemctl'), 0o755);
  });
  afterAll(() => {
    if (child?.pid !== undefined) child.kill();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const run = (pid: string, state: string, record?: string) => {
    const recordFile = join(work, 'slot.13000');
    rmSync(recordFile, { force: true });
    if (record !== undefined) writeFileSync(recordFile, record);
    const script = [
      'set -u',
      `enc() { case $1 in '' | *[!A-Za-z0-9._/@:+,-]*) enc=$(printf %s "$1" | od -An -v -tx1 | tr -d ' \\n') ;; *) enc="=$1" ;; esac; }`,
      `releases='${join(work, 'releases')}'`,
      SLOT_FACT,
      `slot_fact api-orders@13000.service 13000 '${recordFile}' /nonexistent`,
    ].join('\n');
    return spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: `${join(work, 'bin')}:/usr/bin:/bin`, FAKE_PID: pid, FAKE_STATE: state },
    });
  };
  const env = 'e'.repeat(64);
  const unit = 'b'.repeat(64);
  /** The process's start time since boot (clock ticks): /proc/PID/stat's 22nd field. */
  const startOf = (pid: string) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[19]!;

  it('names the release svc started in that very process, and what it started with', () => {
    const pid = String(child!.pid);
    expect(run(pid, 'active', `${pid} ${env} ${unit} r1 ${startOf(pid)}\n`).stdout).toBe(
      `T\t13000\t${pid}\t=r1\t${env}\t${unit}\n`,
    );
  });

  it.each<[string, string, (pid: string) => string | undefined, (pid: string) => string]>([
    [
      'a record of another pid',
      'active',
      () => `1 ${env} ${unit} r1 5\n`,
      (pid) => `T\t13000\t${pid}\t-\t-\t-\n`,
    ],
    [
      // The pid the kernel gave to another process since: not the process svc started.
      'a record of the same pid with another start time',
      'active',
      (pid) => `${pid} ${env} ${unit} r1 ${Number(startOf(pid)) + 1}\n`,
      (pid) => `T\t13000\t${pid}\t-\t-\t-\n`,
    ],
    [
      'a record from before start times were recorded',
      'active',
      (pid) => `${pid} ${env} ${unit}\n`,
      (pid) => `T\t13000\t${pid}\t-\t-\t-\n`,
    ],
    [
      'a recorded release that is not on the host',
      'active',
      (pid) => `${pid} ${env} ${unit} r9 ${startOf(pid)}\n`,
      (pid) => `T\t13000\t${pid}\t-\t${env}\t${unit}\n`,
    ],
    [
      'a recorded release that is a path',
      'active',
      (pid) => `${pid} ${env} ${unit} ../r1 ${startOf(pid)}\n`,
      (pid) => `T\t13000\t${pid}\t-\t${env}\t${unit}\n`,
    ],
    // Its cwd is a release directory (r2), but a process can chdir wherever it likes: no record,
    // no release.
    ['no record', 'active', () => undefined, (pid) => `T\t13000\t${pid}\t-\t-\t-\n`],
    ['a unit that is not active', 'inactive', () => undefined, () => 'T\t13000\t-\t-\t-\t-\n'],
  ])('%s', (_, state, record, expected) => {
    const pid = String(child!.pid);
    expect(run(pid, state, record(pid)).stdout).toBe(expected(pid));
  });

  it('says - for a process outside every release', () => {
    expect(run(String(process.pid), 'active').stdout).toBe(`T\t13000\t${process.pid}\t-\t-\t-\n`);
  });
});

describe('warmSlot: a switch back without a start only when all of it is proven', () => {
  const live = { state: 'live' as const, slot: A!, idle: B! };
  it('takes the idle slot that runs the release with the same inputs', () => {
    expect(warmSlot(cutoverOf(), live, warmB())).toEqual({ slot: B, pid: 200, release: RELEASE });
  });
  it.each<[string, Map<number, SlotFact> | undefined, Partial<typeof live> | { state: 'none' }]>([
    ['no slot facts', undefined, live],
    ['nothing live', warmB(), { state: 'none' }],
    ['not running', warmB({ pid: undefined }), live],
    ['another release', warmB({ release: 'zzz' }), live],
    ['another env file', warmB({ envSha256: 'c'.repeat(64) }), live],
    ['an unknown unit', warmB({ unitSha256: undefined }), live],
    ['another unit', warmB({ unitSha256: 'd'.repeat(64) }), live],
  ])('not with %s', (_, slots, state) => {
    const facts = slots === undefined ? undefined : new Map(slots);
    if (facts !== undefined)
      for (const [port, fact] of facts)
        facts.set(
          port,
          Object.fromEntries(
            Object.entries(fact).filter(([, value]) => value !== undefined),
          ) as SlotFact,
        );
    expect(warmSlot(cutoverOf(), state as never, facts)).toBeUndefined();
  });
});

const hostFacts = (
  paths: PathFact[],
  slots?: Map<number, SlotFact>,
  overrides: Partial<HostFacts> = {},
) => facts([NGINX, ...paths], { ...(slots && { slots }), ...overrides });

describe('the plan', () => {
  const steps = (forManifest: Manifest, hf: HostFacts) =>
    planHost('web1', ops(forManifest), hf, 'digest').changes.find((c) => c.kind === 'service')
      ?.steps;

  it('switches back to a warm slot without a start', () => {
    expect(steps(SWITCH, hostFacts([upstreamFact(A!.port)], warmB()))).toEqual([
      'gate slot b on 127.0.0.1:23000 (release abc123abc123, already running, pid 200; no start)',
      'switch: nginx on port 3000 to slot b (release abc123abc123, already running; no start)',
      'drain slot a (up to 30 s), then stop it',
    ]);
  });

  it('keeps the slot it leaves running with keepWarm', () => {
    expect(steps(WARM, hostFacts([upstreamFact(A!.port)]))).toEqual([
      'start slot b (127.0.0.1:23000) with release abc123abc123, gate its health there',
      'switch: nginx on port 3000 to slot b (nginx -t, reload)',
      'keep slot a running with the release it serves now (keepWarm: svc rollback switches back to it without a start)',
    ]);
  });

  it('says what still runs in the idle slot it is about to stop', () => {
    expect(
      steps(SWITCH, hostFacts([upstreamFact(A!.port)], warmB({ release: 'old111old111' }))),
    ).toEqual([
      'stop slot b first: it still runs release old111old111 (pid 200; kept warm, or a drain that did not finish)',
      'start slot b (127.0.0.1:23000) with release abc123abc123, gate its health there',
      'switch: nginx on port 3000 to slot b (nginx -t, reload)',
      'drain slot a (up to 30 s), then stop it',
    ]);
  });

  it('moves a live restart-mode service over: the slot first, then the port', () => {
    const active = { service: { active: true, pid: 77 } };
    expect(steps(SWITCH, hostFacts([], undefined, active))).toEqual([
      'start slot a (127.0.0.1:13000) with release abc123abc123, gate its health there',
      'stop api-orders.service (cutover: restart, pid 77; it serves port 3000 until then): SIGTERM, its requests in flight finish',
      'nginx takes port 3000 the moment it is free: new connections are refused in between (the gap is measured and reported)',
      'disable api-orders.service',
    ]);
  });

  it('moves one already behind nginx (its site file there) without a gap', () => {
    const site: PathFact = {
      path: '/etc/nginx/sites-enabled/api-orders.conf',
      type: 'file',
      mode: 0o644,
      sha256: 'e'.repeat(64),
    };
    const active = { service: { active: true, pid: 77 } };
    expect(steps(SWITCH, hostFacts([site], undefined, active))?.slice(1)).toEqual([
      'switch: nginx on port 3000 to slot a (nginx -t, reload)',
      'stop api-orders.service (cutover: restart, pid 77; behind nginx already: no gap), then disable it',
    ]);
  });

  it('refuses a restart-mode process beside a live slot', () => {
    const active = { service: { active: true, pid: 77 } };
    expect(
      planHost('web1', ops(), hostFacts([upstreamFact(A!.port)], undefined, active), 'digest')
        .problems,
    ).toEqual([
      'api-orders still runs as api-orders.service (cutover: restart) on web1, pid 77 beside the live slot a: stop it (systemctl stop api-orders.service there), then deploy',
    ]);
  });
});

describe('the apply script', () => {
  function script(forManifest: Manifest, hf: HostFacts): string {
    const operationList = ops(forManifest);
    return buildApply(
      {
        manifest: forManifest,
        operations: operationList,
        plan: planHost('web1', operationList, hf, 'digest'),
        facts: hf,
        factRequest: buildFactRequest(forManifest, operationList, 'deploy', false, SALT),
        holder: '{}',
        lockWaitSeconds: 5,
        healthTimeoutSeconds: 30,
        now: '2026-01-01T00:00:00Z',
        nonce: 'n',
      },
      [],
    ).script;
  }
  const order = (text: string, needles: string[]) => {
    const at = needles.map((needle) => text.indexOf(needle, text.indexOf('applying=1')));
    expect(
      at.every((index) => index >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
  };

  it('checks the warm slot again and gates it before the switch; a start only if that fails', () => {
    const text = script(SWITCH, hostFacts([upstreamFact(A!.port)], warmB()));
    order(text, [
      `slot_warm api-orders@23000.service /run/api-orders@23000.pid 200 ${RELEASE} /var/lib/svc/api-orders/slot.23000`,
      'warm_healthy http://127.0.0.1:23000/ok 5',
      'if [ "$warm" != 1 ]; then',
      'systemctl start -- api-orders@23000.service',
      'cp -p -- /var/lib/svc/api-orders/upstream.conf',
      'reload_nginx ||',
    ]);
    // Undo leaves a slot that ran before this deploy running.
    expect(text).toContain(
      '[ "${warm-0}" = 1 ] || { systemctl stop -- api-orders@23000.service </dev/null 3>&- 9>&- || :; }',
    );
  });

  it('records what a started slot was started with', () => {
    const text = script(SWITCH, hostFacts([upstreamFact(A!.port)]));
    expect(text).toContain(
      `slot_started /run/api-orders@23000.pid /etc/default/api-orders /etc/systemd/system/api-orders@.service ${slotRecord('api-orders', B!)} ${RELEASE} || :`,
    );
  });

  it('drains without the lock, and stops the old slot only when nothing switched back', () => {
    const text = script(SWITCH, hostFacts([upstreamFact(A!.port)]));
    order(text, [
      'installed.json.svc-new',
      'holder=; exec 9>&-',
      'drain_port 13000 30 /var/lib/svc/api-orders/upstream.conf',
      'exec 9>>/var/lib/svc/locks/api-orders.lock',
      // The lock is waited for longer than --lock-wait: a rollback may hold it.
      'flock -w 120 9',
      "grep -q '^server 127\\.0\\.0\\.1:13000;$' /var/lib/svc/api-orders/upstream.conf",
      'systemctl stop -- api-orders@13000.service',
    ]);
  });

  it('keeps the old slot running with keepWarm: no drain, no stop', () => {
    const text = script(WARM, hostFacts([upstreamFact(A!.port)]));
    expect(text).not.toContain('drain_port 13000');
    expect(text).not.toContain('systemctl stop -- api-orders@13000.service');
    expect(text).toContain('systemctl disable --quiet -- api-orders@13000.service');
  });

  it('takes the port from a live NAME.service only after the slot is healthy and nginx -t passed', () => {
    const text = script(SWITCH, hostFacts([], undefined, { service: { active: true, pid: 7 } }));
    order(text, [
      'wait_healthy url http://127.0.0.1:13000/ok 30',
      'nginx -t ||',
      'take_port 3000 40',
      'systemctl disable --quiet -- api-orders.service',
    ]);
    expect(text).toContain('systemctl start -- api-orders.service');
  });
});

/** The apply script's clock (its prelude): whole seconds since boot. */
const UPTIME = 'uptime_s() { IFS=. read -r up_s rest < /proc/uptime; }';

describe('drain_port, run by sh on a real connection', () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  let work = '';
  let port = 0;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'svc-drain-'));
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client!.on('connect', resolve));
  });
  afterAll(() => {
    client?.destroy();
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });
  const drain = (upstream: string, slowGrep = false, seconds = 2) => {
    const file = join(work, 'upstream.conf');
    writeFileSync(file, upstream);
    // A host whose CPUs are busy: each grep takes 0.2 s more.
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'grep'), '#!/bin/sh\nsleep 0.2\nexec /bin/grep "$@"\n');
    chmodSync(join(bin, 'grep'), 0o755);
    const started = Date.now();
    const result = spawnSync(
      'sh',
      ['-c', `${UPTIME}\n${DRAIN}\ndrain_port ${port} ${seconds} "$1"`, 'sh', file],
      { env: { PATH: slowGrep ? `${bin}:/usr/bin:/bin` : '/usr/bin:/bin' } },
    );
    return { status: result.status, ms: Date.now() - started };
  };
  it('gives up after the timeout while a connection stays', () => {
    const { status, ms } = drain('server 127.0.0.1:1;\n');
    expect(status).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(3500);
  });
  it('counts the timeout by the clock, not by polls, on a busy host', () => {
    const { status, ms } = drain('server 127.0.0.1:1;\n', true);
    expect(status).toBe(1);
    expect(ms).toBeLessThan(3500);
  });
  it('ends at once when the upstream file names the drained port again', () => {
    // A 10 s drain: waited out, it would take at least 9 s (whole seconds of uptime), well apart
    // from the bound even on a busy machine.
    const { status, ms } = drain(`server 127.0.0.1:${port};\n`, false, 10);
    expect(status).toBe(2);
    expect(ms).toBeLessThan(5000);
  });
});
