// cutover: switch, warm slots beyond plain systemd, on real sandbox hosts with the host's own
// nginx (issue 11): under OpenRC (the real openrc-run and supervise-daemon, monit watching: what
// `svc new api-... --init openrc` makes), under `init: monit` (monit and start-stop-daemon alone,
// a light host) and under systemd with monit watching (what `svc new api-...` makes):
// - `svc rollback` during a drain switches back to the draining slot without a start (the slot's
//   own process keeps its pid), and the drain is cancelled (that slot is never stopped);
// - keepWarm: true leaves the old slot running (monit no longer watches it); a rollback switches
//   back to it without a start, and monit watches it again.
// What the slot's process is comes from each init system's own record of it: systemd's MainPID,
// OpenRC's child_pid, the pidfile start-stop-daemon wrote under monit.
//
// Needs root, a built dist/, systemd-container for the systemd host and the OpenRC .deb files
// (scripts/fetch-openrc) for the OpenRC one (see .ci/run).
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

/**
 * Long: the rollback test has to notice the switch, see the lock let go and run a whole `svc
 * rollback` before the drain ends on its own, which takes a while on a busy machine. It costs no
 * time: the rollback cancels the drain, and the drains with no connection left end at once.
 */
const DRAIN = 120;
const HEADER = 'x-release';

interface Kind {
  title: string;
  name: string;
  port: number;
  flags: string[];
  sandbox: { systemd?: boolean; openrc?: boolean };
  /** Shell text (as root on the host) that prints the slot's own process id. */
  pidOf(name: string, slot: 'a' | 'b', port: number): string;
}

const KINDS: Kind[] = [
  {
    title: 'OpenRC, monit watching',
    name: 'api-wor',
    port: 3231,
    flags: ['--init', 'openrc'],
    sandbox: { openrc: true },
    pidOf: (name, slot) => `cat /run/openrc/options/${name}.${slot}/child_pid 2>/dev/null`,
  },
  {
    title: 'init: monit',
    name: 'api-wmo',
    port: 3232,
    flags: ['--init', 'monit'],
    sandbox: {},
    pidOf: (name, _slot, port) => `cat /run/${name}@${port}.pid 2>/dev/null`,
  },
  {
    title: 'systemd, monit watching',
    name: 'api-wsm',
    port: 3233,
    flags: [],
    sandbox: { systemd: true },
    pidOf: (name, _slot, port) => `systemctl show -p MainPID --value ${name}@${port}.service`,
  },
];

/**
 * The scaffold's server.js, made to say which release answers (a header) and to hold a raw
 * upgraded connection that echoes each chunk prefixed with its release: a connection that keeps a
 * drain going for the whole drainTimeout.
 */
function patchServer(original: string, release: string): string {
  expect(original).toContain('const server = createServer(');
  return [
    original,
    `server.prependListener('request', (request, response) => response.setHeader('${HEADER}', ${JSON.stringify(release)}));`,
    "server.on('upgrade', (request, socket) => {",
    "  socket.on('error', () => socket.destroy());",
    "  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: svc-echo\\r\\nConnection: Upgrade\\r\\n\\r\\n');",
    `  socket.on('data', (data) => socket.write(${JSON.stringify(`${release}:`)} + data));`,
    "  process.on('SIGTERM', () => socket.end());",
    '});',
    '',
  ].join('\n');
}

/** An upgraded connection through nginx; ask() sends a line and waits for its echo. */
function upgrade(
  host: string,
  port: number,
): Promise<{ socket: Socket; ask(text: string): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let received = '';
    let upgraded = false;
    socket.setTimeout(120_000);
    socket.on('error', (error) => (upgraded ? undefined : reject(error)));
    socket.on('data', (data: Buffer) => {
      received += data.toString();
      if (upgraded) return;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!received.startsWith('HTTP/1.1 101 ')) return reject(new Error(received));
      upgraded = true;
      received = received.slice(end + 4);
      resolve({
        socket,
        ask(text) {
          const before = received.length;
          socket.write(`${text}\n`);
          return new Promise((done, fail) => {
            const started = Date.now();
            const poll = () => {
              const got = received.slice(before);
              if (got.endsWith(`${text}\n`)) return done(got);
              if (Date.now() - started > 5000) return fail(new Error(`no echo of ${text}: ${got}`));
              setTimeout(poll, 20);
            };
            poll();
          });
        },
      });
    });
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: svc-echo\r\nConnection: Upgrade\r\n\r\n`,
    );
  });
}

describe.each(KINDS)('cutover: switch, warm slots ($title)', (kind) => {
  const { name, port } = kind;
  let sbx: Sandbox | undefined;
  let work = '';
  let project = '';
  let original = '';
  const opened: Socket[] = [];

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };
  const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
  const env = () => ({ ...sandbox().env, HOME: join(work, 'home') });
  const slots = () => {
    const text = readFileSync(join(project, 'svc.yaml'), 'utf8');
    expect(text).not.toMatch(/^slotPorts:/m);
    return { a: port + 10000, b: port + 20000 };
  };
  const liveSlot = (): 'a' | 'b' => {
    const live = Number(/:(\d+);/.exec(root(`cat /var/lib/svc/${name}/upstream.conf`).stdout)?.[1]);
    expect([slots().a, slots().b]).toContain(live);
    return live === slots().a ? 'a' : 'b';
  };
  const pidOf = (slot: 'a' | 'b') => {
    const pid = root(kind.pidOf(name, slot, slots()[slot])).stdout.trim();
    return /^[1-9]\d*$/.test(pid) && root(`kill -0 ${pid}`).code === 0 ? pid : undefined;
  };
  const lockHeld = () => root(`test -e /var/lib/svc/locks/${name}.holder`).code === 0;
  const answering = () =>
    root(`curl -fsS -D - -o /dev/null --max-time 3 http://127.0.0.1:${port}/`).stdout.match(
      /^x-release: (\S+)/im,
    )?.[1];
  const monitState = (slot: 'a' | 'b') =>
    new RegExp(`^ *${name}-${slot} +(.*?) +Process`, 'm')
      .exec(root('monit summary').stdout)?.[1]
      ?.trim();

  async function deploy(release: string): Promise<string> {
    writeFileSync(join(project, 'server.js'), patchServer(original, release));
    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return result.stdout + result.stderr;
  }
  async function open() {
    const conn = await upgrade(sandbox().host('sbx-1').address, port);
    opened.push(conn.socket);
    return conn;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), `svc-cutover-warm-${name}-`));
    project = join(work, name);
    // No --cutover: an api- project's default; monit watches by default.
    execFileSync(SVC, ['new', name, '--yes', '--port', String(port), ...kind.flags], {
      env: { ...process.env, CI: '1' },
      cwd: work,
    });
    expect(readFileSync(join(project, 'svc.yaml'), 'utf8')).toMatch(/^cutover: switch$/m);
    original = readFileSync(join(project, 'server.js'), 'utf8');
    appendFileSync(join(project, 'svc.yaml'), `drainTimeout: ${DRAIN}\n`);
    sbx = await startSandbox({ count: 1, user: 'deploy', ...kind.sandbox });
  }, 180_000);

  afterAll(async () => {
    for (const socket of opened) socket.destroy();
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('svc rollback during a drain switches back without a start, and the drain is cancelled', async () => {
    await deploy('r1');
    await deploy('r2');
    const r2 = liveSlot();
    const r2Pid = pidOf(r2);
    expect(r2Pid).toBeDefined();
    expect(answering()).toBe('r2');
    // A connection to r2 keeps its drain going for the whole drainTimeout.
    const conn = await open();
    expect(await conn.ask('hold')).toBe('r2:hold\n');
    const deploying = deploy('r3');
    expect(await eventually(() => liveSlot() !== r2, 90)).toBe(true);
    // Draining: recorded, and the lock let go (its holder note gone).
    expect(await eventually(() => !lockHeld(), 30)).toBe(true);
    const rollback = await runSvc(
      ['rollback', 'sandbox', '--yes', '--dir', project, '--lock-wait', '60'],
      env(),
    );
    const said = rollback.stdout + rollback.stderr;
    expect(rollback.code, said).toBe(0);
    expect(said).toContain('already running; no start');
    expect(liveSlot()).toBe(r2);
    expect(pidOf(r2)).toBe(r2Pid);
    const output = await deploying;
    expect(output).toMatch(/drain of slot [ab] cancelled/);
    // Still the same process, serving, and the held connection never cut.
    expect(pidOf(r2)).toBe(r2Pid);
    expect(answering()).toBe('r2');
    expect(await conn.ask('still')).toBe('r2:still\n');
    conn.socket.destroy();
    // monit watches the live slot (it never stopped watching it).
    expect(monitState(r2)).toBe('OK');
  }, 400_000);

  it('keepWarm: the old slot stays running unwatched, and a rollback switches back to it without a start', async () => {
    appendFileSync(join(project, 'svc.yaml'), 'keepWarm: true\n');
    // The rollback drained and stopped r3 in the idle slot: r4 starts there.
    const r2 = liveSlot();
    const r2Pid = pidOf(r2);
    const started = Date.now();
    const output = await deploy('r4');
    // No drain to wait for.
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(output).toContain('kept warm');
    const r4 = liveSlot();
    expect(r4).not.toBe(r2);
    expect(answering()).toBe('r4');
    expect(pidOf(r2)).toBe(r2Pid);
    // Kept, not watched: monit would ask the launcher to start the unmarked slot if it died.
    expect(monitState(r2)).toBe('Not monitored');
    expect(monitState(r4)).toBe('OK');
    const plan = await runSvc(['rollback', 'sandbox', '--dry-run', '--dir', project], env());
    expect(plan.stdout, plan.stderr).toContain('already running; no start');
    const rollback = await runSvc(['rollback', 'sandbox', '--yes', '--dir', project], env());
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(liveSlot()).toBe(r2);
    expect(pidOf(r2)).toBe(r2Pid);
    expect(answering()).toBe('r2');
    expect(monitState(r2)).toBe('OK');
    // The release it left is kept warm in turn.
    expect(pidOf(r4)).toBeDefined();
    expect(monitState(r4)).toBe('Not monitored');
  }, 400_000);
});
