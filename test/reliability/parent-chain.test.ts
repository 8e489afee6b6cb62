// Root never writes where another user can plant a link, and the sensitive-path gate holds on
// the path the host resolves (issue 9, points 5 and 6), on real sandbox hosts (sshd + monit):
// - a directory on the way to a config/ file that a non-root user owns or can write is a plan
//   problem naming it; a root-owned group-writable one can be accepted with --allow-path naming
//   exactly it; a world-writable one (sticky or not) never;
// - a link on the host (/srv/conf -> /etc) does not lead a config/ file or a project playbook's
//   link step around the sensitive list;
// - a directory the plan itself gives to the service user, and a link inside another link's
//   target in a directory that user owns, are refused the same way (review 2, points 1 and 3);
// - a link planted at a destination during the apply (between the stale check and the rename)
//   or at PATH.svc-old before a rollback is replaced, never written through: the file it points
//   at is untouched.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { pauseAt, reached, removePauses, root } from './helpers/faults.js';

const NAME = 'api-chain';
let sbx: Sandbox;
let work: string;
let project: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });
// The default health timeout (30 s): no deploy here needs the gate to give up on a release (the
// crashing one is seen dead within a poll), and a good one may start slowly on a busy machine.
const deploy = (host: string, args: string[] = []) => svc(['deploy', host, '--yes', ...args]);
const exists = (host: string, path: string) =>
  sbx.ssh(host, `test -e '${path}' || test -L '${path}'`, { user: 'root' }).code === 0;
const config = (path: string) => join(project, 'config', path);
function writeConfig(path: string, text: string): void {
  mkdirSync(join(config(path), '..'), { recursive: true });
  writeFileSync(config(path), text);
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-chain-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    [
      'new',
      NAME,
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--port',
      '3201',
      '--dir',
      project,
    ],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  // svc's own layout deploys as it is: /var/www, /var/log, /var/lib/svc, the login's home.
  for (const host of ['sbx-1', 'sbx-2']) {
    const first = await deploy(host);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('directories another user can write (sbx-1)', () => {
  const host = 'sbx-1';
  beforeAll(() => writeConfig('srv/shared/app.conf', 'shared\n'));
  afterAll(() => {
    rmSync(config('srv'), { recursive: true, force: true });
    root(sbx, host, 'rm -rf /srv/shared');
  });

  it('the service user owning a directory on the way: a plan problem naming it; nothing written', async () => {
    root(sbx, host, `install -d -m 0755 -o ${NAME} -g ${NAME} /srv/shared`);
    const plan = await svc(['plan', host]);
    expect(plan.code, plan.stdout).toBe(1);
    expect(plan.stdout).toContain(
      `/srv/shared on ${host} is owned by ${NAME} (0755 ${NAME}:${NAME}), and root would write below it (/srv/shared/app.conf)`,
    );
    const result = await deploy(host, ['--allow-path', '/srv/shared']);
    expect(result.code).not.toBe(0);
    expect(exists(host, '/srv/shared/app.conf')).toBe(false);
  }, 60_000);

  it('a root-owned directory writable by another group: refused, or accepted with --allow-path naming exactly it', async () => {
    root(sbx, host, `chown root:${NAME} /srv/shared && chmod 0775 /srv/shared`);
    const plan = await svc(['plan', host]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain(
      `/srv/shared on ${host} is writable by group ${NAME} (0775 root:${NAME})`,
    );
    expect(plan.stdout).toContain('or accept it with --allow-path /srv/shared');
    // A prefix, or the file below it, is not the directory.
    for (const wrong of ['/srv', '/srv/shared/app.conf', '/srv/shared/']) {
      const refused = await svc(['plan', host, '--allow-path', wrong]);
      expect(refused.code, wrong).not.toBe(0);
    }
    const result = await deploy(host, ['--allow-path', '/srv/shared']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(root(sbx, host, 'cat /srv/shared/app.conf')).toBe('shared\n');
  }, 90_000);

  it('a world-writable directory, sticky or not: never, whatever the flag', async () => {
    root(sbx, host, 'chown root:root /srv/shared && chmod 1777 /srv/shared');
    writeConfig('srv/shared/app.conf', 'changed\n');
    const result = await deploy(host, ['--allow-path', '/srv/shared']);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      `/srv/shared on ${host} is writable by every user (sticky) (1777 root:root)`,
    );
    expect(root(sbx, host, 'cat /srv/shared/app.conf')).toBe('shared\n');
  }, 60_000);
});

describe('a link on the way to a sensitive path (sbx-1)', () => {
  const host = 'sbx-1';
  beforeAll(() => root(sbx, host, 'ln -sfn /etc /srv/conf'));
  afterAll(() => {
    root(sbx, host, 'rm -f /srv/conf /etc/sudoers.d/api-chain /etc/cron.d/api-chain');
    rmSync(config('srv'), { recursive: true, force: true });
    rmSync(join(project, 'playbooks'), { recursive: true, force: true });
  });

  it('a config/ file through /srv/conf -> /etc is gated as /etc/sudoers.d/...', async () => {
    writeConfig('srv/conf/sudoers.d/api-chain', `${NAME} ALL=(ALL) NOPASSWD: ALL\n`);
    const plan = await svc(['plan', host]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain(
      `/srv/conf/sudoers.d/api-chain on ${host} resolves to /etc/sudoers.d/api-chain, which is a sensitive file (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d/api-chain`,
    );
    // Allowing the path as written does not allow where it leads.
    const result = await deploy(host, ['--allow-path', '/srv/conf/sudoers.d/api-chain']);
    expect(result.code).not.toBe(0);
    expect(exists(host, '/etc/sudoers.d/api-chain')).toBe(false);
    rmSync(config('srv'), { recursive: true, force: true });
  }, 60_000);

  it("a project playbook's link step through it is gated as well", async () => {
    const playbook = readFileSync(join(__dirname, '..', '..', 'playbooks', 'deploy.yaml'), 'utf8');
    mkdirSync(join(project, 'playbooks'), { recursive: true });
    writeFileSync(
      join(project, 'playbooks', 'deploy.yaml'),
      `${playbook}- link: { path: /srv/conf/cron.d/api-chain, target: /var/www/api-chain/current/crontab }\n`,
    );
    const result = await deploy(host);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      `/srv/conf/cron.d/api-chain on ${host} resolves to /etc/cron.d/api-chain, which is a sensitive link (/etc/cron.*/**)`,
    );
    expect(exists(host, '/etc/cron.d/api-chain')).toBe(false);
    // The same playbook without that step deploys: svc's own steps pass the gate.
    writeFileSync(join(project, 'playbooks', 'deploy.yaml'), playbook);
    const plain = await deploy(host);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
  }, 90_000);
});

// Review 2, points 1 and 3: a directory the plan itself gives to the service user, and a link
// met inside another link's target, on a real host.
describe('what the plan hands out, and links inside links (sbx-1)', () => {
  const host = 'sbx-1';
  afterAll(() => {
    rmSync(config('srv'), { recursive: true, force: true });
    rmSync(join(project, 'playbooks'), { recursive: true, force: true });
    root(sbx, host, 'rm -rf /srv/data /srv/a /srv/userdir /srv/real');
  });

  it('a directory the project playbook gives to the service user: root does not write below it', async () => {
    const playbook = readFileSync(join(__dirname, '..', '..', 'playbooks', 'deploy.yaml'), 'utf8');
    mkdirSync(join(project, 'playbooks'), { recursive: true });
    writeFileSync(
      join(project, 'playbooks', 'deploy.yaml'),
      playbook.replace(
        '- overlay: { from: config }',
        "- dir: { path: '/srv/data', mode: '0755', owner: '<%- it.user %>' }\n- overlay: { from: config }",
      ),
    );
    writeConfig('srv/data/sub/app.conf', 'x\n');
    const result = await deploy(host);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      `/srv/data on ${host} is owned by ${NAME} (0755 ${NAME}:${NAME}), and root would write below it (/srv/data/sub`,
    );
    expect(exists(host, '/srv/data/sub/app.conf')).toBe(false);
    rmSync(join(project, 'playbooks'), { recursive: true, force: true });
    rmSync(config('srv'), { recursive: true, force: true });
  }, 60_000);

  it("a link inside another link's target, in a directory the service user owns: a plan problem naming it", async () => {
    root(
      sbx,
      host,
      `mkdir -p /srv/real/sub && install -d -m 0755 -o ${NAME} -g ${NAME} /srv/userdir && ln -sfn /srv/real /srv/userdir/x && ln -sfn /srv/userdir/x /srv/a`,
    );
    writeConfig('srv/a/sub/app.conf', 'x\n');
    const plan = await svc(['plan', host]);
    expect(plan.code, plan.stdout).toBe(1);
    expect(plan.stdout).toContain(
      `/srv/userdir on ${host} is owned by ${NAME} (0755 ${NAME}:${NAME}), and root would write below it (/srv/a/sub/app.conf)`,
    );
    rmSync(config('srv'), { recursive: true, force: true });
  }, 60_000);
});

describe('links planted at a destination (sbx-2)', () => {
  const host = 'sbx-2';
  const victim = '/etc/svc-victim';

  beforeAll(() => {
    root(sbx, host, `echo victim > ${victim} && install -d -m 0755 /etc/svc-victim-dir`);
    writeConfig('etc/svc-chain/app.conf', 'one\n');
  });

  it('during the apply, before the rename: the link is replaced, not written through', async () => {
    writeConfig('etc/svc-chain/new.conf', 'new\n');
    pauseAt(sbx, host, 'install', 'case "$*" in *new.conf.svc-new*) true ;; *) false ;; esac', 4);
    try {
      const running = deploy(host);
      expect(await reached(sbx, host)).toBe(true);
      // Past the stale check: a link to a directory where the file is about to be renamed.
      root(sbx, host, 'ln -sfn /etc/svc-victim-dir /etc/svc-chain/new.conf');
      const result = await running;
      expect(result.code, result.stdout + result.stderr).toBe(0);
    } finally {
      removePauses(sbx, host, ['install']);
    }
    expect(root(sbx, host, 'ls -A /etc/svc-victim-dir')).toBe('');
    expect(root(sbx, host, 'stat -c %F /etc/svc-chain/new.conf')).toBe('regular file\n');
    expect(root(sbx, host, 'cat /etc/svc-chain/new.conf')).toBe('new\n');
  }, 90_000);

  it('at PATH.svc-old before a rollback: the old file comes back, the link target is untouched', async () => {
    // From a host in step with the project, whatever the test before left.
    root(
      sbx,
      host,
      'rm -rf /etc/svc-chain/new.conf /etc/svc-victim-dir/* /etc/svc-victim-dir/.??*',
    );
    const synced = await deploy(host);
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    const before = root(sbx, host, `stat -c '%U:%G %a' ${victim} && sha256sum < ${victim}`);
    root(sbx, host, `ln -sfn ${victim} /etc/svc-chain/app.conf.svc-old`);
    writeConfig('etc/svc-chain/app.conf', 'two\n');
    const server = join(project, 'server.js');
    const good = readFileSync(server, 'utf8');
    writeFileSync(server, `process.exit(1);\n${good}`);
    try {
      const result = await deploy(host);
      expect(result.stdout).toMatch(/sbx-2 +rolled back/);
    } finally {
      writeFileSync(server, good);
    }
    expect(root(sbx, host, `stat -c '%U:%G %a' ${victim} && sha256sum < ${victim}`)).toBe(before);
    expect(root(sbx, host, 'cat /etc/svc-chain/app.conf')).toBe('one\n');
    expect(root(sbx, host, 'stat -c %F /etc/svc-chain/app.conf')).toBe('regular file\n');
    expect(exists(host, '/etc/svc-chain/app.conf.svc-old')).toBe(false);
  }, 90_000);
});
