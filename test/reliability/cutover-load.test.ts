// cutover: switch under load, on a sandbox host that boots real systemd, with the host's own
// nginx: a bounded load (keep-alive requests, a new connection per request, and requests that
// take 2 s; only to the sandbox host's address) runs while svc deploys alternating releases and
// one that crashes at start. Every request must succeed, answered by a release that was live
// (healthy) while it was answered; the crashing release must never answer one. The same load
// against the same releases deployed with cutover: restart counts what a restart costs.
//
// Needs root, a built dist/ and systemd-container (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, sandboxSupport, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { LOAD, patchServer, SEQUENCE } from '../helpers/cutover-releases.js';
import { sampleProblem, startLoad, type DeployRecord, type Sample } from '../helpers/load.js';

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('cutover under load (systemd, nginx)', () => {
  let sbx: Sandbox | undefined;
  let work = '';
  let address = '';
  const server = new Map<string, string>();

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };

  function newProject(name: string, flags: string[]): string {
    const dir = join(work, name);
    execFileSync(SVC, ['new', name, '--yes', '--no-monit', '--dir', dir, ...flags], {
      env: { ...process.env, CI: '1' },
    });
    server.set(name, readFileSync(join(dir, 'server.js'), 'utf8'));
    return dir;
  }

  /** Makes the project's next release `release`, deploys it, and records what came of it. */
  async function deploy(project: string, name: string, release: string): Promise<DeployRecord> {
    writeFileSync(join(project, 'release-id.txt'), `${release}\n`);
    writeFileSync(join(project, 'server.js'), patchServer(server.get(name)!, release));
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
      { ...sandbox().env, HOME: join(work, 'home') },
    );
    const record = { release, startedAt, endedAt: Date.now(), live: result.code === 0 };
    const output = result.stdout + result.stderr;
    if (release === 'crash') {
      expect(result.code, output).not.toBe(0);
      expect(output).toMatch(/exited \(status 3\)/);
    } else if (release === 'sick') {
      expect(result.code, output).not.toBe(0);
      expect(output).toMatch(/failed its health check/);
    } else expect(result.code, output).toBe(0);
    return record;
  }

  /** svc rollback: the release live before the last live one goes live again. */
  async function rollback(project: string, deploys: DeployRecord[]): Promise<DeployRecord> {
    const live = deploys.filter((deploy) => deploy.live);
    const back = live.at(-2)!.release;
    const startedAt = Date.now();
    const result = await runSvc(['rollback', 'sandbox', '--yes', '--dir', project], {
      ...sandbox().env,
      HOME: join(work, 'home'),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return { release: back, startedAt, endedAt: Date.now(), live: true };
  }

  /** The sequence deployed under the load; the samples and the deploys. */
  async function underLoad(project: string, name: string, port: number) {
    const deploys = [await deploy(project, name, 'r1')];
    const load = startLoad({ ...LOAD, host: address, port });
    try {
      for (const step of SEQUENCE)
        deploys.push(
          step === 'rollback'
            ? await rollback(project, deploys)
            : await deploy(project, name, step),
        );
    } finally {
      await load.stop();
    }
    return { samples: load.samples, deploys };
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
    work = mkdtempSync(join(tmpdir(), 'svc-cutover-load-'));
    sbx = await startSandbox({ count: 1, systemd: true, user: 'deploy' });
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
    const name = 'api-switch';
    const project = newProject(name, ['--cutover', 'switch', '--port', '3000']);
    const { samples, deploys } = await underLoad(project, name, 3000);
    const problems = samples
      .map((sample) => sampleProblem(sample, deploys))
      .filter((problem): problem is string => problem !== undefined);
    console.info(`cutover: switch: ${summary(samples, problems)}`);
    console.info(`cutover: switch: the deploys took ${took(deploys)}`);
    expect(problems.slice(0, 20), summary(samples, problems)).toEqual([]);
    // The load ran through every switch: all three kinds, both releases answered, never the crash.
    for (const kind of ['keep-alive', 'new-connection', 'slow'])
      expect(samples.filter((sample) => sample.kind === kind).length, kind).toBeGreaterThan(10);
    expect(new Set(samples.map((sample) => sample.release))).toEqual(new Set(['r1', 'r2']));
    expect(samples.length).toBeGreaterThan(1000);
    // Two slots, one left running (the last release's), the other stopped and disabled.
    const units = sandbox().ssh(
      'sbx-1',
      `systemctl is-active ${name}@13000 ${name}@23000; systemctl is-enabled ${name}@13000 ${name}@23000`,
      { user: 'root' },
    ).stdout;
    expect(units.split('\n').filter(Boolean).sort()).toEqual(
      ['active', 'inactive', 'enabled', 'disabled'].sort(),
    );
  }, 600_000);

  it('switch: nginx refusing the new upstream puts the old one back; the live slot serves on', async () => {
    const name = 'api-switch';
    const project = join(work, name);
    const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
    const upstream = `/var/lib/svc/${name}/upstream.conf`;
    const before = root(`cat ${upstream}`).stdout;
    const live = before.includes(':13000;') ? 13000 : 23000;
    const idle = live === 13000 ? 23000 : 13000;
    const answering = () =>
      root(`curl -fsS -D - -o /dev/null --max-time 3 http://127.0.0.1:3000/`).stdout.match(
        /^x-release: (\S+)/im,
      )?.[1];
    const was = answering();
    expect(was).toMatch(/^r[12]$/);
    // nginx -t fails from now on (another file of nginx's), while the running nginx serves on.
    expect(root('echo "this is not nginx;" > /etc/nginx/conf.d/zz-svc-test-broken.conf').code).toBe(
      0,
    );
    try {
      writeFileSync(join(project, 'release-id.txt'), 'r3\n');
      writeFileSync(join(project, 'server.js'), patchServer(server.get(name)!, 'r3'));
      const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
        ...sandbox().env,
        HOME: join(work, 'home'),
      });
      const output = result.stdout + result.stderr;
      expect(result.code, output).not.toBe(0);
      expect(output).toMatch(/rolled back/);
      expect(root(`cat ${upstream}`).stdout).toBe(before);
      expect(
        root(`systemctl is-active ${name}@${idle}; systemctl is-active ${name}@${live}`)
          .stdout.split('\n')
          .slice(0, 2),
      ).toEqual(['inactive', 'active']);
      expect(answering()).toBe(was);
    } finally {
      root('rm -f /etc/nginx/conf.d/zz-svc-test-broken.conf');
    }
  }, 120_000);

  it('switch: svc status, svc restart and ~/script/NAME/status speak of the live slot', async () => {
    const name = 'api-switch';
    const project = join(work, name);
    const env = { ...sandbox().env, HOME: join(work, 'home') };
    const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' }).stdout;
    const slot = root(`cat /var/lib/svc/${name}/upstream.conf`).match(/:(\d+);/)![1];
    const mainPid = () => root(`systemctl show -p MainPID --value ${name}@${slot}`).trim();
    const before = mainPid();
    const status = await runSvc(['status', 'sandbox', '--dir', project], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^sbx-1 +\\S+ +running +${before} +\\S+ +200 `, 'm'));
    const restart = await runSvc(['restart', 'sandbox', '--dir', project], env);
    expect(restart.code, restart.stderr).toBe(0);
    expect(mainPid()).not.toBe(before);
    expect(restart.stdout).toContain(`running (pid ${mainPid()})`);
    // The helper script a person runs on the host (as the login user, through sudo).
    const helper = sandbox().ssh('sbx-1', `~/script/${name}/status`);
    expect(helper.code, helper.stderr).toBe(0);
    expect(helper.stdout).toContain(`${name}@${slot}.service`);
  }, 120_000);

  it('switch: an idle slot port another process holds is refused before the release starts', async () => {
    const name = 'api-switch';
    const project = join(work, name);
    const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
    const upstream = `/var/lib/svc/${name}/upstream.conf`;
    const before = root(`cat ${upstream}`).stdout;
    const idle = before.includes(':13000;') ? 23000 : 13000;
    // A process answering 200 to everything on the idle slot's port: it would pass the gate.
    // (Up to 30 s for it to answer: node's start in the container is slow on a busy machine.)
    const squat = root(
      `systemd-run --unit svc-test-squat /usr/bin/node -e 'require("http").createServer((q, s) => s.end("squat")).listen(${idle}, "127.0.0.1")' && for i in $(seq 300); do curl -fsS -o /dev/null http://127.0.0.1:${idle}/ok && exit 0; sleep 0.1; done; exit 1`,
    );
    expect(squat.code, squat.stderr).toBe(0);
    try {
      writeFileSync(join(project, 'release-id.txt'), 'r4\n');
      writeFileSync(join(project, 'server.js'), patchServer(server.get(name)!, 'r4'));
      const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
        ...sandbox().env,
        HOME: join(work, 'home'),
      });
      const output = result.stdout + result.stderr;
      expect(result.code, output).not.toBe(0);
      expect(output).toContain(`port ${idle} (slot `);
      expect(output).toContain('is held by another process');
      expect(root(`cat ${upstream}`).stdout).toBe(before);
    } finally {
      root('systemctl stop svc-test-squat');
    }
  }, 120_000);

  it('restart: the same load and releases, for comparison', async () => {
    const name = 'api-restart';
    const project = newProject(name, ['--cutover', 'restart', '--port', '3100']);
    const { samples, deploys } = await underLoad(project, name, 3100);
    const problems = samples
      .map((sample) => sampleProblem(sample, deploys))
      .filter((problem): problem is string => problem !== undefined);
    console.info(`cutover: restart: ${summary(samples, problems)}`);
    expect(samples.length).toBeGreaterThan(1000);
    // The load sees a restart's gap: what makes the switch's zero above mean something.
    expect(problems.length, summary(samples, problems)).toBeGreaterThan(0);
  }, 600_000);
});
