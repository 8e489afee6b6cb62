// Releases that stay safe to roll back to (issue 11), on two real sandbox hosts (init: monit),
// with failed releases in the history: good A, B and C, D that crashes at start, F that never
// answers /ok (both rolled back by the health gate), then good E, with the project's playbook
// keeping 4. The failed releases are marked bad in root's records and never count toward keep,
// so no good release is pushed out; `svc rollback --to` refuses a bad release without --force;
// `svc rollback` picks the newest release live and healthy on every host, and when one host lacks
// it the plan says so on every host and nothing moves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-keep';
const PORT = 3231;
const HOSTS = ['sbx-1', 'sbx-2'] as const;

describe('retention and rollback with failed releases in the history', () => {
  let sbx: Sandbox;
  let work: string;
  let project: string;
  let good: string;
  /** Release IDs by the letter of the deploy that made them. */
  const id: Record<string, string> = {};

  const svc = (args: string[]) =>
    runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });
  const onHost = (host: string, command: string) => {
    const result = sbx.ssh(host, command, { user: 'root' });
    expect(result.code, `${host}: ${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const current = (host: string) =>
    onHost(host, `readlink /var/www/${NAME}/current`)
      .trim()
      .replace(/^releases\//, '');
  const releases = (host: string) =>
    onHost(host, `ls /var/www/${NAME}/releases`).split('\n').filter(Boolean).sort();
  const history = (host: string) =>
    (
      JSON.parse(onHost(host, `cat /var/lib/svc/${NAME}/installed.json`)) as {
        history: { id: string; status: string }[];
      }
    ).history.map((entry) => `${entry.id}:${entry.status}`);
  const ids = (...letters: string[]) => letters.map((letter) => id[letter]!).sort();

  /** Deploys the project as it is now; the release it made (or tried to) under `letter`. */
  async function deploy(letter: string, expected: number, extra: string[] = []) {
    const result = await svc(['deploy', 'sandbox', '--yes', ...extra]);
    expect(result.code, result.stdout + result.stderr).toBe(expected);
    // A failed deploy's release is the one directory no earlier deploy made (kept, marked bad).
    const known = new Set(Object.values(id));
    const fresh = releases('sbx-1').filter((release) => !known.has(release));
    id[letter] = expected === 0 ? current('sbx-1') : fresh[0]!;
    expect(fresh).toEqual([id[letter]]);
    return result;
  }

  beforeAll(async () => {
    sbx = await startSandbox({ count: 2 });
    work = mkdtempSync(join(tmpdir(), 'svc-retention-'));
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
        String(PORT),
        '--dir',
        project,
      ],
      { env: { ...process.env, CI: '1' } },
    );
    good = readFileSync(join(project, 'server.js'), 'utf8');
    // The project's own playbook: svc's default, keeping 4 releases.
    const playbook = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');
    execFileSync('mkdir', ['-p', join(project, 'playbooks')]);
    writeFileSync(
      join(project, 'playbooks', 'deploy.yaml'),
      playbook.replace('release: { keep: 5 }', 'release: { keep: 4 }'),
    );
  }, 240_000);

  afterAll(async () => {
    await sbx?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('good A, B, C; D crashes, F never answers: both marked bad in root’s records, C serving', async () => {
    for (const letter of ['A', 'B', 'C']) {
      writeFileSync(join(project, 'VERSION'), `${letter}\n`);
      await deploy(letter, 0);
    }
    writeFileSync(
      join(project, 'server.js'),
      `console.error('D: cannot open the database (on purpose)');\nprocess.exit(1);\n${good}`,
    );
    await deploy('D', 1);
    writeFileSync(
      join(project, 'server.js'),
      "import { createServer } from 'node:http';\ncreateServer((req, res) => { res.writeHead(503); res.end('not ok\\n'); }).listen(Number(process.env.PORT), '0.0.0.0');\n",
    );
    await deploy('F', 1, ['--health-timeout', '3']);
    for (const host of HOSTS) {
      expect(current(host)).toBe(id.C);
      expect(history(host)).toEqual([
        `${id.A}:good`,
        `${id.B}:good`,
        `${id.C}:good`,
        `${id.D}:bad`,
        `${id.F}:bad`,
      ]);
      // Root's state, not a path the service user can write.
      expect(
        onHost(host, `stat -c '%U %a' /var/lib/svc/${NAME} /var/lib/svc/${NAME}/installed.json`),
      ).toBe('root 700\nroot 644\n');
    }
  }, 240_000);

  it('svc rollback --to a bad release is refused in one line; --force is only for --to', async () => {
    const refused = await svc(['rollback', 'sandbox', '--to', id.D!, '--yes']);
    expect(refused.code).toBe(1);
    for (const host of HOSTS) {
      expect(refused.stdout).toMatch(
        new RegExp(
          `release ${id.D} failed its health check on ${host} at \\S+: pass --force to roll back to it anyway`,
        ),
      );
      expect(current(host)).toBe(id.C);
    }
    const alone = await svc(['rollback', 'sandbox', '--force', '--yes']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe(
      'svc: error: --force: only with --to ID (svc rollback never picks a bad release itself)\n',
    );
  }, 120_000);

  it('good E with keep 4: the failed releases go, no good one is pushed out', async () => {
    writeFileSync(join(project, 'server.js'), good);
    writeFileSync(join(project, 'VERSION'), 'E\n');
    const result = await deploy('E', 0);
    for (const letter of ['D', 'F'])
      expect(result.stdout).toMatch(
        new RegExp(`- release\\s+/var/www/${NAME}/releases/${id[letter]}`),
      );
    expect(result.stdout).not.toContain(`/var/www/${NAME}/releases/${id.A}`);
    for (const host of HOSTS) {
      expect(current(host)).toBe(id.E);
      expect(releases(host)).toEqual(ids('A', 'B', 'C', 'E'));
    }
  }, 120_000);

  it('svc rollback with the candidate missing on one host: a plan problem, nothing moves', async () => {
    onHost('sbx-2', `rm -rf /var/www/${NAME}/releases/${id.C}`);
    const refused = await svc(['rollback', 'sandbox', '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toContain(
      `release ${id.C} (the newest live and healthy on every selected host) is no longer on sbx-2: roll back with --to ID to a release every host has`,
    );
    expect(refused.stdout).toContain(
      'not rolled back: sbx-2 cannot be (a rollback moves every selected host or none)',
    );
    for (const host of HOSTS) expect(current(host)).toBe(id.E);
  }, 120_000);

  it('svc rollback of the hosts that have it picks C; --to B moves both hosts', async () => {
    const one = await svc(['rollback', 'sbx-1', '--yes']);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toContain(`releases/${id.C}`);
    expect(current('sbx-1')).toBe(id.C);
    expect(current('sbx-2')).toBe(id.E);
    const both = await svc(['rollback', 'sandbox', '--to', id.B!, '--yes']);
    expect(both.code, both.stdout + both.stderr).toBe(0);
    for (const host of HOSTS) expect(current(host)).toBe(id.B);
    // The live release and the one live and healthy before it stay, whatever keep says.
    expect(releases('sbx-1')).toEqual(ids('A', 'B', 'C', 'E'));
    // And a plain rollback now goes back to where each host was last healthy together: E.
    const back = await svc(['rollback', 'sandbox', '--dry-run']);
    expect(back.stdout).toContain(`-> releases/${id.E}`);
  }, 180_000);

  it('records that lie and an absolute current, keep 2: the release live before the deploy stays', async () => {
    // sbx-1's records now call B, the live release, bad; its current is the absolute path.
    onHost(
      'sbx-1',
      [
        `sed -i 's/"id":"${id.B}","status":"good"/"id":"${id.B}","status":"bad"/g' /var/lib/svc/${NAME}/installed.json`,
        `ln -s /var/www/${NAME}/releases/${id.B} /var/www/${NAME}/current.lie`,
        `mv -T /var/www/${NAME}/current.lie /var/www/${NAME}/current`,
      ].join(' && '),
    );
    expect(history('sbx-1').filter((entry) => entry.startsWith(id.B!))).toEqual([
      `${id.B}:bad`,
      `${id.B}:bad`,
    ]);
    // And keep 2 from now on: only what must stay, stays.
    const playbook = join(project, 'playbooks', 'deploy.yaml');
    writeFileSync(
      playbook,
      readFileSync(playbook, 'utf8').replace('release: { keep: 4 }', 'release: { keep: 2 }'),
    );
    writeFileSync(join(project, 'VERSION'), 'G\n');
    await deploy('G', 0);
    expect(current('sbx-1')).toBe(id.G);
    // B was live (whatever the records say), C the last healthy before G by them.
    expect(releases('sbx-1')).toEqual(ids('B', 'C', 'G'));
    expect(releases('sbx-2')).toEqual(ids('B', 'G'));
  }, 120_000);
});
