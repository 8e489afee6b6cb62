// cutover: switch on an OpenRC host (test/helpers/openrc.ts: Debian 12's OpenRC unpacked into a
// light sandbox host), with monit watching the slots (the default): the slots are OpenRC's
// multi-instance services NAME.a and NAME.b (links to /etc/init.d/NAME) under the real openrc-run
// and supervise-daemon; the host's own nginx in front. Three deploys under a small bounded load
// (only to the sandbox host's address, a fixed number of requests and a time limit): every request
// answered by a release that was live. Then what OpenRC and monit hold of each slot.
//
// Needs root, a built dist/ and the OpenRC .deb files (scripts/fetch-openrc, run by .ci/run).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { answeredBy, sampleProblem, startLoad, type DeployRecord } from '../helpers/load.js';
import { LOAD, patchServer } from '../helpers/cutover-releases.js';

const NAME = 'api-orsw';
const PORT = 3218;
const SLOT_PORTS = { a: 13218, b: 23218 } as const;

describe('cutover: switch on an OpenRC host, monit watching', () => {
  let sbx: Sandbox | undefined;
  let work = '';
  let project = '';
  let server = '';

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };
  const env = () => ({ ...sandbox().env, HOME: join(work, 'home') });
  const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });

  async function deploy(release: string): Promise<DeployRecord> {
    writeFileSync(join(project, 'release-id.txt'), `${release}\n`);
    writeFileSync(join(project, 'server.js'), patchServer(server, release));
    const startedAt = Date.now();
    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return { release, startedAt, endedAt: Date.now(), live: true };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'svc-deploy-openrc-switch-'));
    project = join(work, NAME);
    // No --cutover: an api- project's default.
    execFileSync(SVC, ['new', NAME, '--yes', '--init', 'openrc', '--port', String(PORT)], {
      env: { ...process.env, CI: '1' },
      cwd: work,
    });
    expect(readFileSync(join(project, 'svc.yaml'), 'utf8')).toMatch(/^cutover: switch$/m);
    server = readFileSync(join(project, 'server.js'), 'utf8');
    sbx = await startSandbox({ count: 1, openrc: true, user: 'deploy' });
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('three deploys under load: every request answered by a release that was live', async () => {
    const deploys = [await deploy('r1')];
    const load = startLoad({
      ...LOAD,
      // Runs until the deploys end (3,000 requests were spent before r2 went live on a slow
      // machine once; each deploy waits for a request its release answered), bounded by time: six
      // workers at one request per 10 ms at most ask 180,000 in 300 s.
      maxRequests: 180_000,
      seconds: 300,
      host: sandbox().host('sbx-1').address,
      port: PORT,
    });
    try {
      for (const release of ['r2', 'r1']) {
        const record = await deploy(release);
        deploys.push(record);
        const answered = await answeredBy(load, record, 30);
        expect(answered, `no request answered by ${release} after its deploy`).toBe(true);
      }
    } finally {
      await load.stop();
    }
    const problems = load.samples
      .map((sample) => sampleProblem(sample, deploys))
      .filter((problem) => problem !== undefined);
    const retried = load.samples.filter((sample) => sample.retried).length;
    console.info(
      `cutover: switch (OpenRC): ${load.samples.length} requests, ${problems.length} failed; ${retried} sent again on a new connection after nginx closed their idle keep-alive one`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(load.samples.length).toBeGreaterThan(100);
    expect(new Set(load.samples.map((sample) => sample.release))).toEqual(new Set(['r1', 'r2']));
  }, 400_000);

  it('the live slot is started and in the default runlevel, the drained one stopped and out of it; monit watches the live one', () => {
    const upstream = root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout;
    const live = upstream.includes(`:${SLOT_PORTS.a};`) ? 'a' : 'b';
    const idle = live === 'a' ? 'b' : 'a';
    const status = (slot: string) =>
      root(`rc-service ${NAME}.${slot} status 2>&1`).stdout.match(/status: (\S+)/)?.[1];
    expect(status(live)).toBe('started');
    expect(status(idle)).toBe('stopped');
    expect(root(`readlink /etc/init.d/${NAME}.a /etc/init.d/${NAME}.b`).stdout.split('\n')).toEqual(
      [NAME, NAME, ''],
    );
    const runlevel = root('rc-update show default').stdout;
    expect(runlevel).toMatch(new RegExp(`^ *${NAME}\\.${live} \\|`, 'm'));
    expect(runlevel).not.toMatch(new RegExp(`^ *${NAME}\\.${idle} \\|`, 'm'));
    const summary = root('monit summary').stdout;
    expect(summary).toMatch(new RegExp(`^ *${NAME}-${live} +OK `, 'm'));
    expect(summary).toMatch(new RegExp(`^ *${NAME}-${idle} +Not monitored `, 'm'));
    // The slot's process is the service's, as its user, on its own port.
    const child = root(`cat /run/openrc/options/${NAME}.${live}/child_pid`).stdout.trim();
    expect(root(`ps -o user= -p ${child}`).stdout.trim()).toBe(NAME);
    expect(
      root(`curl -fsS -o /dev/null -w '%{http_code}' http://127.0.0.1:${SLOT_PORTS[live]}/ok`)
        .stdout,
    ).toBe('200');
  });

  it('svc status and svc restart act on the live slot', async () => {
    const live = root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout.includes(`:${SLOT_PORTS.a};`)
      ? 'a'
      : 'b';
    const child = () => root(`cat /run/openrc/options/${NAME}.${live}/child_pid`).stdout.trim();
    const before = child();
    const status = await runSvc(['status', 'sandbox', '--dir', project], env());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^sbx-1 +\\S+ +running +${before} +\\S+ +200 `, 'm'));
    const restart = await runSvc(['restart', 'sandbox', '--dir', project], env());
    expect(restart.code, restart.stderr + restart.stdout).toBe(0);
    expect(child()).not.toBe(before);
  }, 120_000);
});
