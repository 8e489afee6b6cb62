// cutover: switch on a sandbox host that boots real systemd, with monit watching the slots (what
// `svc new api-...` makes by default): the slots are instances of NAME@.service, monit's checks
// NAME-a and NAME-b start and stop them through the slot launcher; the host's own nginx in front.
// Three deploys under a small bounded load (only to the sandbox host's address, a fixed number of
// requests and a time limit): every request answered by a release that was live. Then what
// systemd and monit hold of each slot.
//
// Needs root, a built dist/ and systemd-container (see .ci/run).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { answeredBy, sampleProblem, startLoad, type DeployRecord } from '../helpers/load.js';
import { LOAD, patchServer } from '../helpers/cutover-releases.js';

const NAME = 'api-sdsw';
const PORT = 3219;
const SLOT_PORTS = { a: 13219, b: 23219 } as const;

describe('cutover: switch under systemd, monit watching', () => {
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
    work = mkdtempSync(join(tmpdir(), 'svc-deploy-systemd-monit-switch-'));
    project = join(work, NAME);
    // No --cutover, no --init, no --monit: an api- project's defaults.
    execFileSync(SVC, ['new', NAME, '--yes', '--port', String(PORT)], {
      env: { ...process.env, CI: '1' },
      cwd: work,
    });
    expect(readFileSync(join(project, 'svc.yaml'), 'utf8')).toMatch(/^cutover: switch$/m);
    expect(readFileSync(join(project, 'svc.yaml'), 'utf8')).toMatch(/^monit: true$/m);
    server = readFileSync(join(project, 'server.js'), 'utf8');
    sbx = await startSandbox({ count: 1, systemd: true, user: 'deploy' });
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
      `cutover: switch (systemd, monit): ${load.samples.length} requests, ${problems.length} failed; ${retried} sent again on a new connection after nginx closed their idle keep-alive one`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(load.samples.length).toBeGreaterThan(100);
    expect(new Set(load.samples.map((sample) => sample.release))).toEqual(new Set(['r1', 'r2']));
  }, 400_000);

  it('the live slot is active and enabled, the drained one inactive and disabled; monit watches the live one and starts it again', async () => {
    const upstream = root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout;
    const live = upstream.includes(`:${SLOT_PORTS.a};`) ? 'a' : 'b';
    const idle = live === 'a' ? 'b' : 'a';
    const unit = (slot: 'a' | 'b') => `${NAME}@${SLOT_PORTS[slot]}.service`;
    expect(
      root(
        `systemctl is-active ${unit(live)} ${unit(idle)}; systemctl is-enabled ${unit(live)} ${unit(idle)}`,
      ).stdout.split('\n'),
    ).toEqual(['active', 'inactive', 'enabled', 'disabled', '']);
    const summary = root('monit summary').stdout;
    expect(summary).toMatch(new RegExp(`^ *${NAME}-${live} +OK `, 'm'));
    expect(summary).toMatch(new RegExp(`^ *${NAME}-${idle} +Not monitored `, 'm'));
    // Stopped behind everyone's back (systemd does not restart a clean stop): monit starts it
    // again through the launcher, and leaves the drained slot alone.
    expect(root(`systemctl stop ${unit(live)}`).code).toBe(0);
    let state = '';
    for (let i = 0; i < 160 && state !== 'active'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = root(`systemctl is-active ${unit(live)}`).stdout.trim();
    }
    expect(state).toBe('active');
    expect(root(`systemctl is-active ${unit(idle)}`).stdout.trim()).toBe('inactive');
  }, 120_000);

  it('svc status and svc restart act on the live slot', async () => {
    const live = root(`cat /var/lib/svc/${NAME}/upstream.conf`).stdout.includes(`:${SLOT_PORTS.a};`)
      ? 'a'
      : 'b';
    const child = () =>
      root(`systemctl show -p MainPID --value ${NAME}@${SLOT_PORTS[live]}.service`).stdout.trim();
    const before = child();
    const status = await runSvc(['status', 'sandbox', '--dir', project], env());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^sbx-1 +\\S+ +running +${before} +\\S+ +200 `, 'm'));
    const restart = await runSvc(['restart', 'sandbox', '--dir', project], env());
    expect(restart.code, restart.stderr + restart.stdout).toBe(0);
    expect(child()).not.toBe(before);
  }, 120_000);
});
