// The help's first examples with every default reach a running service (issue 10, section 2):
// `svc new NAME --yes`, `svc sandbox up`, `svc deploy sandbox --yes`, typed as a new user types
// them, in the project directory, on real sandbox hosts. svc.yaml's default is init: systemd, so
// the sandbox must make a host that boots systemd without being told.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drawNet,
  readInventoryFile,
  sandboxSupport,
  SVC,
  type CommandResult,
} from '../helpers/sandbox.js';

function svcIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  return new Promise<CommandResult>((resolve) => {
    execFile(
      SVC,
      [...args],
      { cwd, env: { ...env, NO_COLOR: '1', SVC_DEBUG: '' }, encoding: 'utf8', timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('the first examples, every default', () => {
  const work = mkdtempSync(join(tmpdir(), 'svc-first-hour-'));
  const stateDir = join(work, 'sandbox');
  const project = join(work, 'api-first');
  let env: NodeJS.ProcessEnv = {};
  let up: CommandResult | undefined;

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    const created = await svcIn(work, ['new', 'api-first', '--yes'], process.env);
    expect(created.code, created.stderr).toBe(0);
    for (let attempt = 0; attempt < 6; attempt++) {
      env = { ...process.env, SVC_SANDBOX_DIR: stateDir, SVC_SANDBOX_NET: drawNet() };
      up = await svcIn(project, ['sandbox', 'up'], env);
      if (up.code === 0 || !/already (routed|used)/.test(up.stderr)) break;
    }
  }, 180_000);

  afterAll(async () => {
    const down = await svcIn(work, ['sandbox', 'down'], env);
    rmSync(work, { recursive: true, force: true });
    if (down.code !== 0) throw new Error(`svc sandbox down failed: ${down.stderr}`);
  }, 90_000);

  it('svc sandbox up in the project makes the host kind its svc.yaml needs, and says so', () => {
    expect(up?.code, up?.stderr).toBe(0);
    expect(up?.stdout).toContain('svc.yaml here says init: systemd');
    expect(readInventoryFile(stateDir).hosts.map((host) => host.kind)).toEqual(['systemd']);
  });

  it('svc deploy sandbox --yes reaches a running service', async () => {
    const deploy = await svcIn(project, ['deploy', 'sandbox', '--yes'], env);
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(deploy.stdout).toMatch(/sbx-1 +deployed/);
    const status = await svcIn(project, ['status', 'sandbox'], env);
    expect(status.code, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(status.stdout).toMatch(/running/);
  }, 180_000);

  it('deploying again: the table names the live release, and "in place" is explained once', async () => {
    const again = await svcIn(project, ['deploy', 'sandbox', '--yes'], env);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toMatch(/^sbx-1 +unchanged +[0-9a-f]{12} /m);
    expect(again.stdout.match(/"in place": /g)).toHaveLength(1);
  }, 120_000);
});

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')(
  'an init: systemd project on light hosts',
  () => {
    const work = mkdtempSync(join(tmpdir(), 'svc-first-light-'));
    const stateDir = join(work, 'sandbox');
    const project = join(work, 'api-light');
    let env: NodeJS.ProcessEnv = {};
    let up: CommandResult | undefined;

    beforeAll(async () => {
      const unsupported = sandboxSupport();
      if (unsupported) throw new Error(unsupported);
      const created = await svcIn(work, ['new', 'api-light', '--yes'], process.env);
      expect(created.code, created.stderr).toBe(0);
      for (let attempt = 0; attempt < 6; attempt++) {
        env = { ...process.env, SVC_SANDBOX_DIR: stateDir, SVC_SANDBOX_NET: drawNet() };
        up = await svcIn(project, ['sandbox', 'up', '--light'], env);
        if (up.code === 0 || !/already (routed|used)/.test(up.stderr)) break;
      }
    }, 120_000);

    afterAll(async () => {
      const down = await svcIn(work, ['sandbox', 'down'], env);
      rmSync(work, { recursive: true, force: true });
      if (down.code !== 0) throw new Error(`svc sandbox down failed: ${down.stderr}`);
    }, 90_000);

    it('deploy refuses naming the fix, and never suggests --retry-failed', async () => {
      expect(up?.code, up?.stderr).toBe(0);
      expect(readInventoryFile(stateDir).hosts.map((host) => host.kind)).toEqual(['light']);
      const deploy = await svcIn(project, ['deploy', 'sandbox', '--yes'], env);
      expect(deploy.code).toBe(1);
      expect(deploy.stdout).toContain('svc sandbox up --systemd');
      expect(deploy.stdout).toContain('init: monit');
      expect(deploy.stdout).not.toContain('--retry-failed');
    }, 120_000);

    it('a plain sandbox up here says the hosts are the wrong kind and what to do', async () => {
      const again = await svcIn(project, ['sandbox', 'up'], env);
      expect(again.code).toBe(1);
      // svc was run by its absolute path (not on PATH): the fix names it so, to be pasted.
      expect(again.stderr).toBe(
        `svc: error: the sandbox has light hosts, but svc.yaml here says init: systemd: ${SVC} sandbox down, then ${SVC} sandbox up (systemd hosts); or ${SVC} sandbox up --light to keep them\n`,
      );
    });
  },
);
