// What svc deletes, what it keeps, and what a failed first deploy leaves behind, on real sandbox
// hosts (sshd + monit, init: monit):
// - a file that left config/ is deleted only if svc's records list it AND its content is still
//   what svc installed; an adopted file gets its original back (issue 9, point 4);
// - the stale-plan check ignores what the plan does not read (the service's pid, other
//   services' unrelated records) and still refuses a change to what it does (point 9);
// - a crashing first deploy leaves no process, no launcher, no env file and no monit check (point 8).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLock } from '../helpers/lock.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;

/** Each project its own port: several share a host here. */
function newProject(name: string, port: number): string {
  const dir = join(work, name);
  execFileSync(
    SVC,
    [
      'new',
      name,
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--port',
      String(port),
      '--dir',
      dir,
    ],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  return dir;
}

const svc = (args: string[]) => runSvc(args, { ...sbx.env, HOME: join(work, 'home') });
// The default health timeout (30 s): a good release may start slowly on a busy machine, and the
// crashing first deploy below is seen dead within a poll (it passes its own, shorter one).
const deploy = (project: string, host: string, args: string[] = []) =>
  svc(['deploy', host, '--yes', '--dir', project, ...args]);

function onHost(host: string, command: string): string {
  const result = sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}
const exists = (host: string, path: string) =>
  sbx.ssh(host, `test -e '${path}' || test -L '${path}'`, { user: 'root' }).code === 0;

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-records-'));
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('what svc deletes (sbx-1)', () => {
  let project: string;
  const extra = (name: string) => join(project, 'config', 'etc', 'svc-extra', name);

  beforeAll(() => {
    project = newProject('api-keep', 3101);
    mkdirSync(join(project, 'config', 'etc', 'svc-extra'), { recursive: true });
    writeFileSync(extra('a.conf'), 'a\n');
    writeFileSync(extra('b.conf'), 'b\n');
  });

  it('installs config files and records the content it wrote', async () => {
    const result = await deploy(project, 'sbx-1');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const records = JSON.parse(onHost('sbx-1', 'cat /var/lib/svc/api-keep/installed.json')) as {
      files: string[];
      sha256: string[];
    };
    const index = records.files.indexOf('/etc/svc-extra/a.conf');
    expect(index).toBeGreaterThanOrEqual(0);
    expect(records.sha256[index]).toBe(
      onHost('sbx-1', 'sha256sum < /etc/svc-extra/a.conf').split(' ')[0],
    );
  }, 60_000);

  it('deletes an unchanged file that left config/, keeps one changed on the host, and says so', async () => {
    onHost('sbx-1', 'echo edited-on-the-host >> /etc/svc-extra/b.conf');
    rmSync(extra('a.conf'));
    rmSync(extra('b.conf'));
    const plan = await svc(['plan', 'sbx-1', '--dir', project]);
    expect(plan.stdout).toMatch(/- .*\/etc\/svc-extra\/a\.conf/);
    expect(plan.stdout).toContain(
      '/etc/svc-extra/b.conf left config/ but is kept: it was changed since svc installed it',
    );
    const result = await deploy(project, 'sbx-1');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(exists('sbx-1', '/etc/svc-extra/a.conf')).toBe(false);
    expect(onHost('sbx-1', 'cat /etc/svc-extra/b.conf')).toBe('b\nedited-on-the-host\n');
    // No longer svc's: the next plan says nothing about it.
    expect(onHost('sbx-1', 'cat /var/lib/svc/api-keep/installed.list')).not.toContain('b.conf');
    const again = await svc(['plan', 'sbx-1', '--dir', project, '--detailed-exitcode']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).not.toContain('b.conf');
  }, 90_000);

  it('never deletes a recorded file whose content it has no record of (a planted or old record)', async () => {
    onHost('sbx-1', 'printf precious > /etc/svc-precious');
    const file = '/var/lib/svc/api-keep/installed.json';
    const records = JSON.parse(onHost('sbx-1', `cat ${file}`)) as Record<string, unknown>;
    // An older svc's records: paths without hashes, one of them a file svc never wrote.
    const planted: Record<string, unknown> = {
      ...records,
      files: [...(records.files as string[]), '/etc/svc-precious'],
    };
    delete planted.sha256;
    onHost('sbx-1', `cat > ${file} <<'EOF'\n${JSON.stringify(planted)}\nEOF`);
    onHost('sbx-1', 'echo /etc/svc-precious >> /var/lib/svc/api-keep/installed.list');
    const result = await deploy(project, 'sbx-1');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout + result.stderr).toContain('/etc/svc-precious left config/ but is kept');
    expect(onHost('sbx-1', 'cat /etc/svc-precious')).toBe('precious');
  }, 90_000);

  it('gives an adopted file its original back when it leaves config/', async () => {
    onHost('sbx-1', 'printf "the host\'s own\\n" > /etc/svc-adopted.conf');
    writeFileSync(join(project, 'config', 'etc', 'svc-adopted.conf'), 'from the project\n');
    const refused = await deploy(project, 'sbx-1');
    expect(refused.code).not.toBe(0);
    expect(onHost('sbx-1', 'cat /etc/svc-adopted.conf')).toBe("the host's own\n");
    const adopted = await deploy(project, 'sbx-1', ['--adopt']);
    expect(adopted.code, adopted.stderr + adopted.stdout).toBe(0);
    expect(onHost('sbx-1', 'cat /etc/svc-adopted.conf')).toBe('from the project\n');
    rmSync(join(project, 'config', 'etc', 'svc-adopted.conf'));
    const plan = await svc(['plan', 'sbx-1', '--dir', project]);
    expect(plan.stdout).toContain('the original from before --adopt is put back');
    const back = await deploy(project, 'sbx-1');
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(onHost('sbx-1', 'cat /etc/svc-adopted.conf')).toBe("the host's own\n");
    expect(onHost('sbx-1', 'ls /var/lib/svc/api-keep/adopted 2>/dev/null || true').trim()).toBe('');
  }, 120_000);

  it("refuses a config/ file in svc's own records, even with --allow-path", async () => {
    const path = '/var/lib/svc/api-other/installed.json';
    mkdirSync(join(project, 'config', 'var', 'lib', 'svc', 'api-other'), { recursive: true });
    writeFileSync(
      join(project, 'config', path.slice(1)),
      '{"version":1,"files":["/etc/shadow"]}\n',
    );
    try {
      const result = await deploy(project, 'sbx-1', ['--allow-path', path]);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain("/var/lib/svc is svc's own state");
      expect(exists('sbx-1', path)).toBe(false);
    } finally {
      rmSync(join(project, 'config', 'var'), { recursive: true });
    }
  }, 60_000);
});

describe('the stale-plan check (sbx-1)', () => {
  let project: string;
  beforeAll(async () => {
    project = newProject('api-stale', 3102);
    const first = await deploy(project, 'sbx-1');
    expect(first.code, first.stderr + first.stdout).toBe(0);
  }, 60_000);

  /** A deploy planned now and applied once `meanwhile` has changed the host under the lock. */
  async function deployAround(meanwhile: () => void) {
    writeFileSync(join(project, 'VERSION'), `${Date.now()}\n`);
    const lock = await holdLock(sbx, 'sbx-1', 'api-stale', '{"who":"test"}');
    const pending = deploy(project, 'sbx-1', ['--lock-wait', '60']);
    try {
      // The deploy has planned and is waiting for the lock once its note appears in the output
      // of nothing: wait until its staging directory exists on the host.
      const waiting = await eventually(
        () => sbx.ssh('sbx-1', 'ls -d /var/lib/svc/stage.api-stale.*', { user: 'root' }).code === 0,
        30,
      );
      expect(waiting).toBe(true);
      meanwhile();
    } finally {
      await lock.release();
    }
    return pending;
  }

  it('is not tripped by a restarted service or an unrelated deploy of another service', async () => {
    const before = onHost('sbx-1', 'cat /run/api-stale.pid').trim();
    const result = await deployAround(() => {
      onHost('sbx-1', '/usr/local/lib/svc/api-stale/ctl restart >/dev/null 2>&1');
      onHost(
        'sbx-1',
        `mkdir -p /var/lib/svc/api-unrelated && printf '%s\\n' '{"version":1,"service":"api-unrelated","files":["/etc/unrelated.conf"],"history":[]}' > /var/lib/svc/api-unrelated/installed.json`,
      );
      expect(onHost('sbx-1', 'cat /run/api-stale.pid').trim()).not.toBe(before);
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/sbx-1 +deployed/);
  }, 120_000);

  it('still refuses when something the plan reads changed', async () => {
    const result = await deployAround(() =>
      onHost('sbx-1', 'echo "# edited" >> /etc/logrotate.d/api-stale'),
    );
    expect(result.stdout).toMatch(/sbx-1 +stale/);
    onHost('sbx-1', "sed -i '/^# edited$/d' /etc/logrotate.d/api-stale");
  }, 120_000);

  it('still refuses when another service now claims a path the plan writes', async () => {
    const result = await deployAround(() =>
      onHost(
        'sbx-1',
        `printf '%s\\n' '{"version":1,"service":"api-unrelated","files":["/etc/logrotate.d/api-stale"],"history":[]}' > /var/lib/svc/api-unrelated/installed.json`,
      ),
    );
    expect(result.stdout).toMatch(/sbx-1 +stale/);
    onHost('sbx-1', 'rm -rf /var/lib/svc/api-unrelated');
  }, 120_000);
});

describe('a first deploy that crashes at once (sbx-2, init: monit)', () => {
  it('leaves no process, no launcher, no env file and no monit check, and says so', async () => {
    const project = newProject('api-crash', 3103);
    const server = join(project, 'server.js');
    writeFileSync(server, `process.exit(1);\n${readFileSync(server, 'utf8')}`);
    const result = await deploy(project, 'sbx-2', ['--health-timeout', '6']);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/sbx-2 +rolled back/);
    expect(result.stdout).toContain(
      'there was no previous release: the service was stopped and its unit, check and files removed',
    );
    for (const path of [
      '/etc/monit/conf.d/api-crash',
      '/usr/local/lib/svc/api-crash/ctl',
      '/etc/default/api-crash',
      '/etc/logrotate.d/api-crash',
      '/var/www/api-crash/current',
    ])
      expect(exists('sbx-2', path), path).toBe(false);
    const noProcess = () =>
      sbx.ssh('sbx-2', 'ps -o pid= -u api-crash', { user: 'root' }).stdout.trim() === '';
    const noCheck = () => sbx.ssh('sbx-2', 'monit summary api-crash', { user: 'root' }).code !== 0;
    // monit forgets the check at its next cycle; nothing may start the service again meanwhile.
    expect(await eventually(() => noProcess() && noCheck(), 20)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(noProcess() && noCheck()).toBe(true);
  }, 120_000);
});
