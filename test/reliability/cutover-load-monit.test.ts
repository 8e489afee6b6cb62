// cutover: switch under load on a light sandbox host (init: monit: monit's two checks, NAME-a
// and NAME-b, start each slot through the slot launcher and start-stop-daemon; the host's own
// nginx in front): the same bounded load as cutover-load.test.ts (keep-alive requests, a new
// connection per request, requests that take 2 s; only to the sandbox host's address, a fixed
// number of requests and a time limit) while svc deploys alternating releases, one that crashes
// at start, one that never answers its health path, and a rollback. Every request must succeed,
// answered by a release that was live while it was answered. Then what monit does with the slots:
// it watches the live one (and starts it again when it dies), never the drained one.
//
// Needs root and a built dist/ (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, sandboxSupport, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { sampleProblem, startLoad, type DeployRecord, type Sample } from '../helpers/load.js';
import { LOAD, patchServer, SEQUENCE } from '../helpers/cutover-releases.js';

const NAME = 'api-slots';
const PORT = 3000;
const SLOT_PORTS = { a: 13000, b: 23000 } as const;

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('cutover under load (monit, nginx)', () => {
  let sbx: Sandbox | undefined;
  let work = '';
  let address = '';
  let project = '';
  let server = '';

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };
  const env = () => ({ ...sandbox().env, HOME: join(work, 'home') });
  const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
  const liveSlot = (): 'a' | 'b' => {
    const upstream = root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout;
    return upstream.includes(`:${SLOT_PORTS.a};`) ? 'a' : 'b';
  };
  const other = (slot: 'a' | 'b') => (slot === 'a' ? 'b' : 'a');
  /** monit's word for each slot's check, from `monit summary` on the host. */
  const monitStates = () => {
    const summary = root('monit summary').stdout;
    const state = (slot: string) =>
      summary.match(new RegExp(`^ *${NAME}-${slot} +(.+?) +Process`, 'm'))?.[1]?.trim();
    return { a: state('a'), b: state('b') };
  };
  /**
   * monit's word for each slot once it has settled: an action monit was asked for runs in its
   * next cycle ("... - stop pending" until then; `monit summary` cuts a long word to "... pen..."),
   * and a check it has just re-read says "Initializing" until then. svc waits for that only so
   * long (5 s, cutover-script.ts slot_settled; not after a rollback's stop), so the test waits
   * on, up to 60 s, for what monit does with the slots, not when.
   */
  const settledMonitStates = async () => {
    const unsettled = (state: string | undefined) =>
      state === undefined || /pending|\.\.\.$|^Initializing/.test(state);
    const began = Date.now();
    const first = monitStates();
    let states = first;
    while ((unsettled(states.a) || unsettled(states.b)) && Date.now() < began + 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      states = monitStates();
    }
    if (states !== first)
      console.info(
        `cutover-load-monit: monit said ${JSON.stringify(first)} at first, ${JSON.stringify(states)} ${((Date.now() - began) / 1000).toFixed(1)} s later`,
      );
    return states;
  };
  const listening = (port: number) =>
    root(`grep -Eq ":$(printf '%04X' ${port}) [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6`)
      .code === 0;

  async function deploy(release: string): Promise<DeployRecord> {
    writeFileSync(join(project, 'release-id.txt'), `${release}\n`);
    writeFileSync(join(project, 'server.js'), patchServer(server, release));
    const startedAt = Date.now();
    // A short health timeout only for the release that never answers its health path (the
    // deploy waits all of it); a good release gets the default 30 s: its node may take longer
    // than 8 s to start on a busy machine (a good release was rolled back so in CI).
    const result = await runSvc(
      [
        'deploy',
        'sandbox',
        '--yes',
        '--dir',
        project,
        ...(release === 'sick' ? ['--health-timeout', '8'] : []),
      ],
      env(),
    );
    const record = { release, startedAt, endedAt: Date.now(), live: result.code === 0 };
    const output = result.stdout + result.stderr;
    if (release === 'crash') {
      expect(result.code, output).not.toBe(0);
      expect(output).toMatch(/exited/);
    } else if (release === 'sick') {
      expect(result.code, output).not.toBe(0);
      expect(output).toMatch(/failed its health check/);
    } else expect(result.code, output).toBe(0);
    return record;
  }

  async function rollback(deploys: DeployRecord[]): Promise<DeployRecord> {
    const live = deploys.filter((d) => d.live);
    const back = live.at(-2)!.release;
    const startedAt = Date.now();
    const result = await runSvc(['rollback', 'sandbox', '--yes', '--dir', project], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return { release: back, startedAt, endedAt: Date.now(), live: true };
  }

  /** How long each step took, svc's start to its end: against the health timeout a good one has. */
  const took = (deploys: readonly DeployRecord[]) =>
    deploys
      .map(
        (deploy) =>
          `${deploy.release} ${((deploy.endedAt - deploy.startedAt) / 1000).toFixed(1)} s`,
      )
      .join(', ');
  const summary = (samples: readonly Sample[], problems: readonly string[]) => {
    const kinds = ['keep-alive', 'new-connection', 'slow'].map(
      (kind) => `${kind} ${samples.filter((sample) => sample.kind === kind).length}`,
    );
    const retried = samples.filter((sample) => sample.retried).length;
    return `${samples.length} requests (${kinds.join(', ')}), ${problems.length} failed; ${retried} sent again on a new connection after the server closed their idle keep-alive one`;
  };

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    work = mkdtempSync(join(tmpdir(), 'svc-cutover-load-monit-'));
    project = join(work, NAME);
    execFileSync(
      SVC,
      ['new', NAME, '--yes', '--init', 'monit', '--cutover', 'switch', '--port', String(PORT)],
      { env: { ...process.env, CI: '1' }, cwd: work },
    );
    server = readFileSync(join(project, 'server.js'), 'utf8');
    sbx = await startSandbox({ count: 1, user: 'deploy' });
    address = sbx.host('sbx-1').address;
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('switch: every request succeeds, answered by a release live at the time', async () => {
    const deploys = [await deploy('r1')];
    const load = startLoad({ ...LOAD, host: address, port: PORT });
    try {
      for (const step of SEQUENCE)
        deploys.push(step === 'rollback' ? await rollback(deploys) : await deploy(step));
    } finally {
      await load.stop();
    }
    const samples = load.samples;
    const problems = samples
      .map((sample) => sampleProblem(sample, deploys))
      .filter((problem): problem is string => problem !== undefined);
    console.info(`cutover: switch (monit): ${summary(samples, problems)}`);
    console.info(`cutover: switch (monit): the deploys took ${took(deploys)}`);
    expect(problems.slice(0, 20), summary(samples, problems)).toEqual([]);
    for (const kind of ['keep-alive', 'new-connection', 'slow'])
      expect(samples.filter((sample) => sample.kind === kind).length, kind).toBeGreaterThan(10);
    expect(new Set(samples.map((sample) => sample.release))).toEqual(new Set(['r1', 'r2']));
    expect(samples.length).toBeGreaterThanOrEqual(5000);
  }, 900_000);

  it('monit watches the live slot only; the drained one is stopped, unmarked, not monitored', async () => {
    const live = liveSlot();
    const idle = other(live);
    expect(await settledMonitStates()).toEqual({ [live]: 'OK', [idle]: 'Not monitored' });
    expect(listening(SLOT_PORTS[live])).toBe(true);
    expect(listening(SLOT_PORTS[idle])).toBe(false);
    expect(root(`ls /var/lib/svc/${NAME}/`).stdout.split('\n')).toContain(`slot-${live}.on`);
    expect(root(`ls /var/lib/svc/${NAME}/`).stdout.split('\n')).not.toContain(`slot-${idle}.on`);
  }, 120_000);

  it('monit starts the live slot again when it dies, and never the drained one', async () => {
    const live = liveSlot();
    const idle = other(live);
    const pidfile = `/run/${NAME}@${SLOT_PORTS[live]}.pid`;
    const before = root(`cat ${pidfile}`).stdout.trim();
    expect(before).toMatch(/^\d+$/);
    expect(root(`kill -KILL ${before}`).code).toBe(0);
    // monit's cycle is 5 s on sandbox hosts: a new process within a few cycles.
    let now = '';
    for (let i = 0; i < 120; i++) {
      now = root(`p=$(cat ${pidfile} 2>/dev/null) && kill -0 "$p" && echo "$p"`).stdout.trim();
      if (now !== '' && now !== before) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(now).toMatch(/^\d+$/);
    expect(now).not.toBe(before);
    // A reload (what a changed check file or a reboot with `onreboot laststate` does) leaves
    // the drained slot alone: after two cycles nothing listens on its port.
    expect(root('monit reload').code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(listening(SLOT_PORTS[idle])).toBe(false);
    expect(monitStates()[idle]).toBe('Not monitored');
    // The launcher itself refuses a slot svc has not marked to run.
    const refused = root(`/usr/local/lib/svc/${NAME}/ctl start ${idle}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`slot ${idle} is not marked to run`);
  }, 120_000);

  it('svc status, svc restart and ~/script/NAME/status speak of the live slot', async () => {
    const live = liveSlot();
    const pid = () => root(`cat /run/${NAME}@${SLOT_PORTS[live]}.pid`).stdout.trim();
    // monit may still be confirming the start of the previous test's restart: wait for OK.
    for (let i = 0; i < 80 && monitStates()[live] !== 'OK'; i++)
      await new Promise((resolve) => setTimeout(resolve, 250));
    const before = pid();
    const status = await runSvc(['status', 'sandbox', '--dir', project], env());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^sbx-1 +\\S+ +running +${before} +\\S+ +200 `, 'm'));
    const restart = await runSvc(['restart', 'sandbox', '--dir', project], env());
    expect(restart.code, restart.stderr + restart.stdout).toBe(0);
    expect(pid()).not.toBe(before);
    expect(restart.stdout).toContain(`running (pid ${pid()})`);
    const helper = sandbox().ssh('sbx-1', `~/script/${NAME}/status`);
    expect(helper.code, helper.stderr).toBe(0);
    expect(helper.stdout).toContain(`Process '${NAME}-${live}'`);
  }, 120_000);
});
