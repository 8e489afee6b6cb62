// A live cutover: restart service moved to switch without a stop first, beyond systemd (issue
// 11), on real sandbox hosts with the host's own nginx: under `init: monit` (monit and
// start-stop-daemon alone, a light host) and under OpenRC (the real openrc-run and
// supervise-daemon, monit watching). Under a small bounded load (only to the sandbox host's
// address, a fixed number of requests and a time limit): the gap is measured on the host, only
// refused connections (or resets from the stopping process) fail, never a wrong answer; then the
// restart way's process is gone and nothing starts it again.
//
// Needs root, a built dist/ and, for the OpenRC host, the OpenRC .deb files (scripts/fetch-openrc).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { startLoad } from '../helpers/load.js';
import { gapFailures } from '../helpers/load-gap.js';
import { RELEASE_HEADER, patchServer } from '../helpers/cutover-releases.js';

interface Kind {
  title: string;
  name: string;
  port: number;
  init: 'monit' | 'openrc';
  sandbox: { openrc?: boolean };
}

const KINDS: Kind[] = [
  { title: 'init: monit', name: 'api-mvm', port: 3241, init: 'monit', sandbox: {} },
  {
    title: 'OpenRC, monit watching',
    name: 'api-mvo',
    port: 3242,
    init: 'openrc',
    sandbox: { openrc: true },
  },
];

describe.each(KINDS)('a live restart service moved to switch ($title)', (kind) => {
  const { name, port } = kind;
  let sbx: Sandbox | undefined;
  let work = '';
  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };
  const root = (command: string) => sandbox().ssh('sbx-1', command, { user: 'root' });
  const env = () => ({ ...sandbox().env, HOME: join(work, 'home') });
  const dirOf = (cutover: string) => join(work, `${name}-${cutover}`);

  async function deploy(dir: string, release: string): Promise<string> {
    writeFileSync(
      join(dir, 'server.js'),
      patchServer(readFileSync(join(dir, 'server.js.orig'), 'utf8'), release),
    );
    writeFileSync(join(dir, 'release-id.txt'), `${release}\n`);
    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', dir], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return result.stdout + result.stderr;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), `svc-cutover-migrate-${name}-`));
    for (const cutover of ['restart', 'switch']) {
      const dir = dirOf(cutover);
      execFileSync(
        SVC,
        [
          'new',
          name,
          '--yes',
          '--dir',
          dir,
          '--init',
          kind.init,
          '--port',
          `${port}`,
          '--cutover',
          cutover,
        ],
        { env: { ...process.env, CI: '1' } },
      );
      writeFileSync(join(dir, 'server.js.orig'), readFileSync(join(dir, 'server.js'), 'utf8'));
      writeFileSync(join(dir, '.svcignore'), 'server.js.orig\n');
    }
    sbx = await startSandbox({ count: 1, user: 'deploy', ...kind.sandbox });
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('under load: one measured gap, only refused connections, and the old process gone for good', async () => {
    await deploy(dirOf('restart'), 'm1');
    const oldPid = root(`cat /run/${name}.pid`).stdout.trim();
    expect(oldPid).toMatch(/^[1-9]\d*$/);
    const plan = await runSvc(['plan', 'sandbox', '--dir', dirOf('switch')], env());
    expect(plan.stdout, plan.stderr).toMatch(/stop .*\(cutover: restart, pid \d+; it serves port/);
    const load = startLoad({
      host: sandbox().host('sbx-1').address,
      port,
      path: '/',
      slowPath: '/',
      header: RELEASE_HEADER,
      maxRequests: 20_000,
      seconds: 120,
      keepAliveWorkers: 2,
      newConnectionWorkers: 2,
      slowWorkers: 0,
    });
    let output = '';
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      output = await deploy(dirOf('switch'), 'm2');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await load.stop();
    }
    const gap = /no listener there for (\d+) ms/.exec(output)?.[1];
    expect(gap, output).toBeDefined();
    const { failed, kinds, unexpected, windowMs } = gapFailures(load.samples);
    console.info(
      `restart -> switch (${kind.title}): ${load.samples.length} requests, ${failed.length} failed (${kinds.join(', ') || 'none'}) within ${windowMs} ms; the host measured no listener on port ${port} for ${gap} ms`,
    );
    expect(load.samples.length).toBeGreaterThan(200);
    // Only refused (or reset) connections, in one window around a short gap; how many is the
    // load's pace times the gap, so not counted (a busy machine moves both).
    expect(unexpected, kinds.join(', ')).toEqual([]);
    expect(Number(gap)).toBeLessThan(2000);
    expect(windowMs, kinds.join(', ')).toBeLessThanOrEqual(Number(gap) + 2000);
    expect(new Set(load.samples.map((sample) => sample.release).filter(Boolean))).toEqual(
      new Set(['m1', 'm2']),
    );
    // The old process is gone, nothing of the restart way is left to start it again.
    expect(root(`kill -0 ${oldPid}`).code).not.toBe(0);
    expect(root(`test -e /run/${name}.pid`).code).not.toBe(0);
    const summary = root('monit summary').stdout;
    expect(summary).not.toMatch(new RegExp(`^ *${name} +`, 'm'));
    expect(summary).toMatch(new RegExp(`^ *${name}-a +OK `, 'm'));
    if (kind.init === 'openrc') {
      expect(root(`rc-service ${name} status 2>&1`).stdout).toMatch(/status: stopped/);
      expect(root('rc-update show default').stdout).not.toMatch(new RegExp(`^ *${name} \\|`, 'm'));
    }
    // A second plan has nothing to do.
    const again = await runSvc(['plan', 'sandbox', '--dir', dirOf('switch')], env());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain('switch service');
  }, 400_000);
});
