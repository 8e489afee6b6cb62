// cutover: switch beyond the plain deploy, on a sandbox host that boots real systemd, with the
// host's own nginx (issue 11):
// - an upgraded connection (WebSocket-style, raw Upgrade) through nginx survives a switch and is
//   ended by the drain timeout (the old slot stopped), not by the reload (timed on the host's
//   clock: the upstream file's write, systemd's stop of the slot in the journal);
// - `svc rollback` during a drain switches back to the draining slot without a start (same pid),
//   and the drain is cancelled (that slot is never stopped);
// - keepWarm: true leaves the old slot running; a rollback switches back to it without a start;
// - a deploy killed during its drain: the next plan says what still runs in the idle slot, and a
//   rollback uses it;
// - a live cutover: restart service moved to switch without a stop first, under load: the gap is
//   measured on the host, and the failed requests are refused or reset connections in one window
//   around it.
//
// The tests that cancel a drain or kill it themselves give it a long drainTimeout: on a busy
// machine the svc run that has to act inside the drain can take longer than 8 s to start.
//
// Needs root, a built dist/ and systemd-container (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  runSvc,
  sandboxSupport,
  startSandbox,
  type Sandbox,
} from '../helpers/sandbox.js';
import { SVC } from '../helpers/sandbox.js';
import { startLoad } from '../helpers/load.js';
import { gapFailures } from '../helpers/load-gap.js';

const NAME = 'api-warm';
const PORT = 3300;
const DRAIN = 8;
/**
 * The drain of the tests that end it themselves (a rollback cancels it, or the apply script is
 * killed): long, so it cannot end on its own while svc starts up on a busy machine. It costs no
 * time: those tests never wait it out.
 */
const LONG_DRAIN = 120;
const HEADER = 'x-release';

/**
 * The scaffold's server.js, made to say which release answers (a header, and each upgraded
 * connection's echo) and to take an Upgrade: a raw upgraded connection that echoes each chunk
 * prefixed with its release.
 */
function patchServer(original: string): string {
  expect(original).toContain('const server = createServer(');
  return [
    "import { readFileSync as svcTestRead } from 'node:fs';",
    "const RELEASE = svcTestRead('release-id.txt', 'utf8').trim();",
    original,
    `server.prependListener('request', (request, response) => response.setHeader('${HEADER}', RELEASE));`,
    "server.on('upgrade', (request, socket) => {",
    "  socket.on('error', () => socket.destroy());",
    "  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: svc-echo\\r\\nConnection: Upgrade\\r\\n\\r\\n');",
    "  socket.on('data', (data) => socket.write(`${RELEASE}:${data}`));",
    // As a WebSocket server does at SIGTERM (a close frame): the connection ends when svc stops
    // the slot, not at the scaffold's stop deadline.
    "  process.on('SIGTERM', () => socket.end());",
    '});',
    '',
  ].join('\n');
}

/** svc's output, each line with when it arrived: svc prints each step as the host reports it. */
interface Timed {
  code: number | null;
  output: string;
  lines: { at: number; text: string }[];
}

function runTimed(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn(SVC, args, {
      env: { ...env, NO_COLOR: '1', SVC_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timed: Timed = { code: null, output: '', lines: [] };
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        timed.output += chunk;
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts) timed.lines.push({ at: Date.now(), text });
      });
    }
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...timed, code }));
  });
}

/** An upgraded connection through nginx: what it was answered, and when it closed. */
interface Upgraded {
  socket: Socket;
  status: string;
  received: string;
  closedAt?: number;
  ask(text: string): Promise<string>;
}

function upgrade(host: string, port: number): Promise<Upgraded> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let head = '';
    const conn: Upgraded = {
      socket,
      status: '',
      received: '',
      ask(text) {
        const before = this.received.length;
        socket.write(`${text}\n`);
        return new Promise((done, fail) => {
          const started = Date.now();
          const poll = () => {
            const got = this.received.slice(before);
            if (got.endsWith(`${text}\n`)) return done(got);
            if (this.closedAt !== undefined || Date.now() - started > 5000)
              return fail(new Error(`no echo of ${text} (got ${JSON.stringify(got)})`));
            setTimeout(poll, 20);
          };
          poll();
        });
      },
    };
    socket.setTimeout(120_000);
    socket.on('error', (error) => (conn.status === '' ? reject(error) : undefined));
    socket.on('close', () => (conn.closedAt = Date.now()));
    socket.on('data', (data: Buffer) => {
      if (conn.status !== '') {
        conn.received += data.toString();
        return;
      }
      head += data.toString();
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      conn.status = head.slice(0, head.indexOf('\r\n'));
      conn.received = head.slice(end + 4);
      resolve(conn);
    });
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: svc-echo\r\nConnection: Upgrade\r\n\r\n`,
    );
  });
}

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')(
  'cutover: switch, warm slots (systemd)',
  () => {
    let sbx: Sandbox | undefined;
    let work = '';
    let address = '';
    let project = '';
    let original = '';
    const opened: Socket[] = [];

    const sandbox = (): Sandbox => {
      if (!sbx) throw new Error('the sandbox did not start');
      return sbx;
    };
    const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
    const env = () => ({ ...sandbox().env, HOME: join(work, 'home') });
    const liveSlot = () =>
      Number(/:(\d+);/.exec(root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout)?.[1]);
    const mainPid = (port: number) =>
      root(`systemctl show -p MainPID --value ${NAME}@${port}`).stdout.trim();
    const lockHeld = () => root(`test -e /var/lib/svc/locks/${NAME}.holder`).code === 0;
    const active = (port: number) => root(`systemctl is-active ${NAME}@${port}`).stdout.trim();
    /** When the host last wrote the upstream file (the switch, just before nginx reloads), in ms. */
    const switchedOnHost = () =>
      Number(root(`date -r /var/lib/svc/${NAME}/upstream.conf +%s%3N`).stdout.trim());
    /** When systemd began to stop the slot on `port` (its last "Stopping" line), in ms. */
    const stopBeganOnHost = (port: number) => {
      const line = root(
        `journalctl -u ${NAME}@${port}.service -o short-unix --no-pager | grep ': Stopping ' | tail -n 1`,
      ).stdout.trim();
      expect(line, `no "Stopping" line for ${NAME}@${port} in the host's journal`).toMatch(
        /^\d+\.\d+ /,
      );
      return Number(line.split(' ')[0]) * 1000;
    };
    const answering = () =>
      root(`curl -fsS -D - -o /dev/null --max-time 3 http://127.0.0.1:${PORT}/`).stdout.match(
        /^x-release: (\S+)/im,
      )?.[1];

    function setDrain(seconds: number) {
      const file = join(project, 'svc.yaml');
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^drainTimeout: \d+$/m);
      writeFileSync(file, text.replace(/^drainTimeout: \d+$/m, `drainTimeout: ${seconds}`));
    }
    function setRelease(dir: string, release: string, server = original) {
      writeFileSync(join(dir, 'release-id.txt'), `${release}\n`);
      writeFileSync(join(dir, 'server.js'), patchServer(server));
    }
    async function deploy(release: string, dir = project) {
      setRelease(
        dir,
        release,
        dir === project ? original : readFileSync(join(dir, 'server.js.orig'), 'utf8'),
      );
      const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', dir], env());
      expect(result.code, result.stdout + result.stderr).toBe(0);
      return result.stdout + result.stderr;
    }
    async function open(): Promise<Upgraded> {
      const conn = await upgrade(address, PORT);
      opened.push(conn.socket);
      return conn;
    }

    beforeAll(async () => {
      const unsupported = sandboxSupport();
      if (unsupported) throw new Error(unsupported);
      work = mkdtempSync(join(tmpdir(), 'svc-cutover-warm-'));
      sbx = await startSandbox({ count: 1, systemd: true, user: 'deploy' });
      address = sbx.host('sbx-1').address;
      project = join(work, NAME);
      execFileSync(
        SVC,
        [
          'new',
          NAME,
          '--yes',
          '--no-monit',
          '--dir',
          project,
          '--cutover',
          'switch',
          '--port',
          `${PORT}`,
        ],
        { env: { ...process.env, CI: '1' } },
      );
      original = readFileSync(join(project, 'server.js'), 'utf8');
      appendFileSync(join(project, 'svc.yaml'), `drainTimeout: ${DRAIN}\n`);
    }, 180_000);

    afterAll(async () => {
      for (const socket of opened) socket.destroy();
      try {
        await sbx?.down();
      } finally {
        if (work) rmSync(work, { recursive: true, force: true });
      }
    }, 150_000);

    it('an upgraded connection survives the switch and ends at the drain timeout, not the reload', async () => {
      await deploy('r1');
      const conn = await open();
      expect(conn.status).toBe('HTTP/1.1 101 Switching Protocols');
      expect(await conn.ask('one')).toBe('r1:one\n');
      const before = liveSlot();
      setRelease(project, 'r2');
      const deploying = runTimed(['deploy', 'sandbox', '--yes', '--dir', project], env());
      expect(await eventually(() => liveSlot() !== before, 60)).toBe(true);
      // nginx reloaded: the connection is still there, still served by the old release.
      expect(await conn.ask('two')).toBe('r1:two\n');
      const { code, output, lines } = await deploying;
      expect(code, output).toBe(0);
      expect(output).toContain(`still had connections after ${DRAIN} s (drainTimeout)`);
      expect(await eventually(() => conn.closedAt !== undefined, 10)).toBe(true);
      // Timed on the host's clock (the machine's: the sandbox shares its kernel), not from when the
      // test's ssh poll noticed the switch: the switch is the upstream file's write, the cut is
      // systemd's stop of the old slot (its process then ends the connection at SIGTERM).
      const switchedAt = switchedOnHost();
      const stopBegan = stopBeganOnHost(before);
      // When svc said the drain began: a little after the host did (ssh, svc's own turn).
      const drainSaid = lines.find((line) => /draining slot [ab] /.test(line.text))?.at;
      expect(drainSaid, output).toBeDefined();
      const closedAt = conn.closedAt!;
      const lasted = closedAt - switchedAt;
      console.info(
        `an upgraded connection lasted ${lasted} ms past the switch (drainTimeout ${DRAIN} s): the drain was reported ${drainSaid! - switchedAt} ms after the switch, the old slot's stop began ${Math.round(stopBegan - drainSaid!)} ms after that, the connection closed ${Math.round(closedAt - stopBegan)} ms after the stop`,
      );
      // Not cut at the reload.
      expect(lasted).toBeGreaterThanOrEqual((DRAIN - 2) * 1000);
      // The old slot was stopped only after the drain timeout (the drain counts whole seconds of
      // the host's uptime: more than DRAIN - 1 s after the switch, which came before it).
      expect(stopBegan - switchedAt).toBeGreaterThan((DRAIN - 1) * 1000);
      // And not long after the drain timeout: timed from the drain's own start, so that what
      // comes before it (nginx -t, the reload, the deploy's record) does not count; after it
      // come the lock and the slot's disable.
      expect(stopBegan - drainSaid!).toBeLessThan((DRAIN + 4) * 1000);
      expect(lasted).toBeLessThan((DRAIN + 20) * 1000);
      // That stop is what ended the connection. (The journal's time is when journald received
      // the line, which may trail systemd's SIGTERM a little on a busy host.)
      expect(closedAt - stopBegan).toBeGreaterThan(-1000);
      expect(closedAt - stopBegan).toBeLessThan(5000);
      expect(answering()).toBe('r2');
      // And a new one reaches the new release.
      const fresh = await open();
      expect(await fresh.ask('three')).toBe('r2:three\n');
      fresh.socket.destroy();
    }, 180_000);

    it('svc rollback during a drain switches back without a start, and the drain is cancelled', async () => {
      setDrain(LONG_DRAIN);
      const r2 = liveSlot();
      const r2Pid = mainPid(r2);
      // A connection to r2 keeps its drain going for the whole drainTimeout.
      const conn = await open();
      expect(await conn.ask('hold')).toBe('r2:hold\n');
      const deploying = deploy('r3');
      expect(await eventually(() => liveSlot() !== r2, 60)).toBe(true);
      // Draining: recorded, and the lock let go (its holder note gone).
      expect(await eventually(() => !lockHeld(), 30)).toBe(true);
      const rollback = await runSvc(
        ['rollback', 'sandbox', '--yes', '--dir', project, '--lock-wait', '30'],
        env(),
      );
      const said = rollback.stdout + rollback.stderr;
      expect(rollback.code, said).toBe(0);
      expect(said).toContain('already running; no start');
      expect(liveSlot()).toBe(r2);
      expect(mainPid(r2)).toBe(r2Pid);
      const output = await deploying;
      expect(output).toMatch(/drain of slot [ab] cancelled/);
      expect(active(r2)).toBe('active');
      expect(mainPid(r2)).toBe(r2Pid);
      expect(answering()).toBe('r2');
      expect(await conn.ask('still')).toBe('r2:still\n');
      conn.socket.destroy();
    }, 240_000);

    it('keepWarm: the old slot stays running, and a rollback switches back to it without a start', async () => {
      appendFileSync(join(project, 'svc.yaml'), 'keepWarm: true\n');
      const r2 = liveSlot();
      const r2Pid = mainPid(r2);
      const started = Date.now();
      const output = await deploy('r4');
      // No drain to wait for: the deploy does not hold on for drainTimeout.
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(output).toContain('kept warm');
      const r4 = liveSlot();
      expect(r4).not.toBe(r2);
      expect(active(r2)).toBe('active');
      expect(mainPid(r2)).toBe(r2Pid);
      const plan = await runSvc(['rollback', 'sandbox', '--dry-run', '--dir', project], env());
      expect(plan.stdout, plan.stderr).toContain(`release`);
      expect(plan.stdout).toContain('already running; no start');
      const rollback = await runSvc(['rollback', 'sandbox', '--yes', '--dir', project], env());
      expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
      expect(liveSlot()).toBe(r2);
      expect(mainPid(r2)).toBe(r2Pid);
      expect(answering()).toBe('r2');
      // The release it left is kept warm in turn.
      expect(active(r4)).toBe('active');
    }, 240_000);

    it('a deploy killed during its drain: the next plan says what runs in the idle slot, a rollback uses it', async () => {
      writeFileSync(
        join(project, 'svc.yaml'),
        readFileSync(join(project, 'svc.yaml'), 'utf8').replace('keepWarm: true\n', ''),
      );
      setDrain(LONG_DRAIN);
      // Slot r4 (kept warm) is stopped by this deploy before r5 starts there.
      const r2 = liveSlot();
      const r2Pid = mainPid(r2);
      const conn = await open();
      expect(await conn.ask('hold')).toBe('r2:hold\n');
      const deploying = deploy('r5');
      expect(await eventually(() => liveSlot() !== r2, 60)).toBe(true);
      // The drain runs without the lock (its holder note gone): the apply script is the shell whose
      // staging directory names its pid. Killed as a reboot or an OOM kill would.
      expect(await eventually(() => !lockHeld(), 30)).toBe(true);
      const stage = root(`ls -d /var/lib/svc/stage.${NAME}.* 2>/dev/null`).stdout.trim();
      const pid = /stage\.[^.]+\.(\d+)\./.exec(stage)?.[1];
      expect(pid, stage).toBeDefined();
      expect(root(`kill -KILL ${pid}`).code).toBe(0);
      await deploying.catch(() => undefined);
      expect(active(r2)).toBe('active');
      // The next deploy (r6) would have to stop what still runs in the idle slot: the plan says so.
      setRelease(project, 'r6');
      const plan = await runSvc(['plan', 'sandbox', '--dir', project], env());
      expect(plan.stdout).toMatch(
        /stop slot [ab] first: it still runs release \S+ \(pid \d+; kept warm, or a drain that did not finish\)/,
      );
      const rollback = await runSvc(['rollback', 'sandbox', '--yes', '--dir', project], env());
      const said = rollback.stdout + rollback.stderr;
      expect(rollback.code, said).toBe(0);
      expect(said).toContain('already running; no start');
      expect(mainPid(r2)).toBe(r2Pid);
      expect(answering()).toBe('r2');
      conn.socket.destroy();
    }, 240_000);

    it('moves a live cutover: restart service to switch under load: one measured gap', async () => {
      const name = 'api-move';
      const port = 3400;
      const restartDir = join(work, `${name}-restart`);
      const switchDir = join(work, `${name}-switch`);
      for (const [dir, flags] of [
        // An api- project is switch by default (svc new): the restart one says so.
        [restartDir, ['--cutover', 'restart']],
        [switchDir, ['--cutover', 'switch']],
      ] as const) {
        execFileSync(
          SVC,
          ['new', name, '--yes', '--no-monit', '--dir', dir, '--port', `${port}`, ...flags],
          {
            env: { ...process.env, CI: '1' },
          },
        );
        writeFileSync(join(dir, 'server.js.orig'), readFileSync(join(dir, 'server.js'), 'utf8'));
        writeFileSync(join(dir, '.svcignore'), 'server.js.orig\n');
      }
      await deploy('m1', restartDir);
      expect(root(`systemctl is-active ${name}.service`).stdout.trim()).toBe('active');
      const plan = await runSvc(['plan', 'sandbox', '--dir', switchDir], env());
      expect(plan.stdout, plan.stderr).toContain(`stop ${name}.service (cutover: restart`);
      const load = startLoad({
        host: address,
        port,
        path: '/',
        slowPath: '/',
        header: HEADER,
        maxRequests: 20_000,
        seconds: 120,
        keepAliveWorkers: 2,
        newConnectionWorkers: 2,
        slowWorkers: 0,
      });
      let output = '';
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        output = await deploy('m2', switchDir);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      } finally {
        await load.stop();
      }
      const gap = /no listener there for (\d+) ms/.exec(output)?.[1];
      expect(gap, output).toBeDefined();
      const { failed, kinds, unexpected, windowMs } = gapFailures(load.samples);
      console.info(
        `restart -> switch: ${load.samples.length} requests, ${failed.length} failed (${kinds.join(', ') || 'none'}) within ${windowMs} ms; the host measured no listener on port ${port} for ${gap} ms`,
      );
      expect(load.samples.length).toBeGreaterThan(200);
      // Only refused (or reset) connections in the gap, never a wrong answer; the gap is short, and
      // every failure falls in one window around it (a second gap, or failures long before or after
      // the move, would spread them). How many fail is the load's pace times the gap, so not
      // counted: a busy machine slows the answered requests and lengthens the gap at once.
      expect(unexpected, kinds.join(', ')).toEqual([]);
      expect(Number(gap)).toBeLessThan(2000);
      expect(windowMs, kinds.join(', ')).toBeLessThanOrEqual(Number(gap) + 2000);
      const answered = new Set(load.samples.map((sample) => sample.release).filter(Boolean));
      expect(answered).toEqual(new Set(['m1', 'm2']));
      // Stopped, and no longer started at boot (no wants link left for it).
      expect(root(`systemctl is-active ${name}.service`).stdout.trim()).toBe('inactive');
      expect(root(`ls /etc/systemd/system/*.wants/`).stdout.split(/\s+/)).not.toContain(
        `${name}.service`,
      );
    }, 300_000);
  },
);
