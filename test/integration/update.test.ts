// svc update (issue 13) on real projects: made by the real `svc new` (bin/svc), committed with
// real git, then updated to a changed scaffold: a second scaffolds directory, a copy of svc's own
// with real edits (a unit setting, a monit timeout, a logrotate count, and a line in the unit that
// names the port), rendered by runUpdate exactly as svc's own would be. The merged projects are
// checked by the programs that read them on a host (systemd-analyze verify, monit -t, nginx -t).
//
// Needs root (nginx -t in a private mount namespace), git, monit, nginx and systemd-analyze, and
// a built dist/ (npm run build).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runUpdate, type UpdateFlags } from '../../src/cli/update.js';
import { SVC_VERSION } from '../../src/cli/version.js';
import { parseRecordAnswers } from '../../src/core/scaffold-record.js';
import { renderScaffold } from '../../src/scaffold/record.js';
import { SCAFFOLDS_DIR } from '../../src/scaffold/render.js';
import { writeUpdate } from '../../src/scaffold/update-write.js';
import { SVC } from '../helpers/sandbox.js';
import { changedScaffolds, edit } from '../helpers/scaffold-change.js';

const NAME = 'www-shop';
const UNIT = `config/etc/systemd/system/${NAME}.service`;
const MONIT = `config/etc/monit/conf.d/${NAME}`;
const NGINX = `config/etc/nginx/sites-enabled/${NAME}.conf`;
const LOGROTATE = `config/etc/logrotate.d/${NAME}`;
const EXTRA_MONIT_TEST = '  if totalmem > 200 MB for 5 cycles then alert\n';

let work = '';
let next = '';
let template = '';
let count = 0;

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', dir, ...args], {
    encoding: 'utf8',
  });

/** A fresh copy of the generated project, committed in its own repository. */
function project(): string {
  const dir = join(work, `p${++count}`);
  cpSync(template, dir, { recursive: true });
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'svc new');
  return dir;
}

async function update(dir: string, flags: UpdateFlags = {}, scaffolds = next) {
  let out = '';
  const sink = {
    write: (text: string) => ((out += text), true),
  } as unknown as NodeJS.WritableStream;
  const code = await runUpdate(flags, { cwd: dir, out: sink, scaffoldsDir: scaffolds });
  return { code, out };
}

/** One line of the report: the outcome in a column as wide as the longest. */
const row = (outcome: string, path: string) => `\n  ${outcome.padEnd(9)}  ${path}\n`;
const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const append = (dir: string, path: string, text: string) =>
  writeFileSync(join(dir, path), read(dir, path) + text);
const commit = (dir: string, message: string) => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', message);
};

/** What the changed scaffold renders for this project's recorded answers (port overridable). */
function nextRender(dir: string, port?: number) {
  const { answers } = parseRecordAnswers(read(dir, '.svc/scaffold/answers.yaml'));
  const changed = port === undefined ? answers : { ...answers, port };
  return renderScaffold(changed, SVC_VERSION, next).files;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The checks validators.test.ts runs, on one merged project. */
function validate(dir: string): void {
  const unit = run('systemd-analyze', ['verify', join(dir, UNIT)]);
  expect(unit.output).toBe('');
  expect(unit.status).toBe(0);

  const monitDir = join(work, `monit-${++count}`);
  mkdirSync(monitDir);
  const rc = join(monitDir, 'monitrc');
  writeFileSync(
    rc,
    `set daemon 30\nset idfile ${monitDir}/id\nset statefile ${monitDir}/state\ninclude ${join(dir, MONIT)}\n`,
  );
  chmodSync(rc, 0o700);
  const monit = run('monit', ['-t', '-c', rc]);
  expect(monit.output).toContain('Control file syntax OK');
  expect(monit.status).toBe(0);

  const nginxDir = join(work, `nginx-${++count}`);
  mkdirSync(nginxDir);
  const conf = join(nginxDir, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${nginxDir}/nginx.pid;\nerror_log ${nginxDir}/error.log;\nevents {}\nhttp { include ${join(dir, NGINX)}; }\n`,
  );
  const nginx = run('unshare', [
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'set -e; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /var/lib/nginx; mkdir -p /var/log/nginx; nginx -t -c "$1"',
    'sh',
    conf,
  ]);
  expect(nginx.output).toContain('test is successful');
  expect(nginx.status).toBe(0);
}

beforeAll(() => {
  if (!existsSync(join(SVC, '..', '..', 'dist', 'bundle', 'svc.mjs')))
    throw new Error('dist/ is missing: run npm run build first');
  work = mkdtempSync(join(tmpdir(), 'svc-update-'));
  next = changedScaffolds(join(work, 'scaffolds-next'));
  template = join(work, 'template');
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--runtime', 'node', '--init', 'systemd', '--cutover', 'restart'].concat(
      ['--user', 'daemon', '--dir', template],
    ),
    { env: { ...process.env, NO_COLOR: '1' } },
  );
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc update', () => {
  it('svc new records what it generated, and git tracks the record (never a secret)', () => {
    const dir = join(work, 'secrets');
    execFileSync(
      SVC,
      ['new', 'api-rec', '--yes', '--dir', dir, '--env', 'GREETING=hello-value'].concat([
        '--secret',
        'DB_PASSWORD=s3cret-value',
      ]),
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    const tracked = git(dir, 'ls-files').split('\n');
    expect(tracked).toContain('.svc/scaffold/answers.yaml');
    expect(tracked).toContain('.svc/scaffold/files/svc.yaml');
    expect(tracked.filter((path) => path.startsWith('.svc/secrets'))).toEqual([]);
    const record = listFiles(join(dir, '.svc/scaffold'));
    for (const path of record) {
      const text = read(dir, `.svc/scaffold/${path}`);
      expect(text).not.toContain('hello-value');
      expect(text).not.toContain('s3cret-value');
    }
    // Every generated file but svc.yaml (whose env: and secrets: are the user's) as written.
    for (const path of record.filter((p) => p.startsWith('files/') && p !== 'files/svc.yaml'))
      expect(read(dir, path.slice('files/'.length)), path).toBe(read(dir, `.svc/scaffold/${path}`));
  });

  it('without a scaffold change, bin/svc update leaves every file as it is (exit 0)', () => {
    const dir = project();
    const result = spawnSync(SVC, ['update'], { cwd: dir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(row('unchanged', 'svc.yaml'));
    expect(result.stdout).toContain(
      `Up to date with svc ${SVC_VERSION}'s scaffold: nothing written.`,
    );
    expect(result.stdout).not.toMatch(/^ {2}(updated|merged|conflict|kept)/m);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('an untouched project is updated exactly to the new render, and the record with it', async () => {
    const dir = project();
    const { code, out } = await update(dir);
    expect(code, out).toBe(0);
    for (const file of nextRender(dir)) {
      expect(read(dir, file.path), file.path).toBe(file.content);
      expect(read(dir, `.svc/scaffold/files/${file.path}`), file.path).toBe(file.content);
    }
    expect(out).toContain(row('updated', UNIT));
    expect(out).toContain(row('updated', LOGROTATE));
    expect(read(dir, UNIT)).toContain('RestartSec=3\n');
    // The update changed the three files the scaffold changed, and the record: nothing else.
    const changed = git(dir, 'status', '--porcelain').split('\n').filter(Boolean);
    expect(changed.filter((line) => !line.includes('.svc/scaffold/')).sort()).toEqual(
      [` M ${LOGROTATE}`, ` M ${MONIT}`, ` M ${UNIT}`].sort(),
    );
    // The next update merges from here: nothing left to do.
    commit(dir, 'update');
    const again = await update(dir);
    expect(again.out).not.toMatch(/^ {2}(updated|merged|conflict)/m);
  });

  it("a user's edit far from the scaffold change merges cleanly", async () => {
    const dir = project();
    edit(
      join(dir, UNIT),
      'After=network-online.target\n',
      'After=network-online.target postgresql.service\n',
    );
    append(dir, MONIT, EXTRA_MONIT_TEST);
    commit(dir, 'my edits');
    const { code, out } = await update(dir);
    expect(code, out).toBe(0);
    expect(out).toContain(row('merged', UNIT));
    expect(out).toContain(row('merged', MONIT));
    const unit = read(dir, UNIT);
    expect(unit).toContain('After=network-online.target postgresql.service\n');
    expect(unit).toContain('RestartSec=3\n');
    expect(unit).not.toContain('<<<<<<<');
    expect(read(dir, MONIT)).toContain('with timeout 15 seconds');
    expect(read(dir, MONIT).endsWith(EXTRA_MONIT_TEST)).toBe(true);
    validate(dir);
  });

  it('an edit on the same lines is a conflict: markers, listed, exit 1; rerun refused until resolved', async () => {
    const dir = project();
    edit(join(dir, UNIT), 'RestartSec=2\n', 'RestartSec=5\n');
    commit(dir, 'slower restarts');
    const { code, out } = await update(dir);
    expect(code).toBe(1);
    expect(read(dir, UNIT)).toContain(
      `<<<<<<< project\nRestartSec=5\n=======\nRestartSec=3\n>>>>>>> svc ${SVC_VERSION}\n`,
    );
    expect(out).toContain(row('conflict', `${UNIT} (1 conflict)`));
    expect(out).toContain(`Conflicts in 1 file (resolve each <<<<<<< project`);
    expect(out.trimEnd().split('\n')).toContain(`  ${UNIT}`);
    commit(dir, 'with markers');
    await expect(update(dir)).rejects.toThrow(
      `${UNIT}: still has conflict markers from a svc update; resolve and commit them first, or pass --force`,
    );
  });

  it('--conflict rej: the file keeps your lines, FILE.rej has the scaffold change', async () => {
    const dir = project();
    edit(join(dir, UNIT), 'RestartSec=2\n', 'RestartSec=5\n');
    commit(dir, 'slower restarts');
    const { code } = await update(dir, { conflict: 'rej' });
    expect(code).toBe(1);
    expect(read(dir, UNIT)).toContain('RestartSec=5\n');
    expect(read(dir, UNIT)).not.toContain('<<<<<<<');
    expect(read(dir, `${UNIT}.rej`)).toMatch(/\n-RestartSec=2\n\+RestartSec=3\n$/);
  });

  it('a file the user deleted stays deleted', async () => {
    const dir = project();
    git(dir, 'rm', '-q', LOGROTATE);
    commit(dir, 'no logrotate');
    const { code, out } = await update(dir);
    expect(code, out).toBe(0);
    expect(existsSync(join(dir, LOGROTATE))).toBe(false);
    expect(out).toContain(row('kept', `${LOGROTATE} (you deleted it; it stays deleted)`));
  });

  it("--port 4000: svc.yaml, the unit, the monit check and the nginx site follow; the user's monit test stays", async () => {
    const dir = project();
    append(dir, MONIT, EXTRA_MONIT_TEST);
    commit(dir, 'memory check');
    const { code, out } = await update(dir, { port: '4000' });
    expect(code, out).toBe(0);
    expect(out).toContain('answers: port 8080 -> 4000');
    const manifest = parseYaml(read(dir, 'svc.yaml')) as { port: number; appPort: number };
    expect([manifest.port, manifest.appPort]).toEqual([4000, 14000]);
    expect(read(dir, UNIT)).toContain('# It answers HTTP on 127.0.0.1:14000.\n');
    expect(read(dir, MONIT)).toContain('port 14000 protocol http');
    expect(read(dir, MONIT).endsWith(EXTRA_MONIT_TEST)).toBe(true);
    expect(read(dir, NGINX)).toContain('listen 4000 default_server;');
    expect(read(dir, NGINX)).toContain('server 127.0.0.1:14000;');
    // Every file but the monit check (which has the user's test too) is the new render's.
    for (const file of nextRender(dir, 4000).filter((f) => f.path !== MONIT))
      expect(read(dir, file.path), file.path).toBe(file.content);
    validate(dir);
  });

  it('--dry-run reports per file and writes nothing', async () => {
    const dir = project();
    const { code, out } = await update(dir, { dryRun: true });
    expect(code, out).toBe(0);
    expect(out).toContain('(dry run, nothing written)');
    expect(out).toContain(row('updated', UNIT));
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('--init openrc: the systemd unit is removed, the OpenRC script added (0755)', async () => {
    const dir = project();
    const { code, out } = await update(dir, { init: 'openrc' });
    expect(code, out).toBe(0);
    expect(out).toContain(row('removed', UNIT));
    expect(out).toContain(row('added', `config/etc/init.d/${NAME}`));
    expect(existsSync(join(dir, UNIT))).toBe(false);
    expect(statSync(join(dir, `config/etc/init.d/${NAME}`)).mode & 0o777).toBe(0o755);
    expect(read(dir, MONIT)).toContain(`/sbin/rc-service ${NAME} start`);
  });

  it("svc.yaml merges as data: the user's comment and env: stay, --port follows, a hand-edited port conflicts", async () => {
    const dir = project();
    edit(
      join(dir, 'svc.yaml'),
      'port: 8080\n',
      '# the shop, behind the load balancer\nport: 8080\n',
    );
    edit(join(dir, 'svc.yaml'), 'env: {}\n', 'env:\n  LOG_LEVEL: debug # until launch\n');
    commit(dir, 'my svc.yaml');
    const { code, out } = await update(dir, { port: '4000' });
    expect(code, out).toBe(0);
    expect(out).toContain(row('merged', 'svc.yaml'));
    const text = read(dir, 'svc.yaml');
    expect(text).toContain('# the shop, behind the load balancer\nport: 4000\n');
    expect(text).toContain('env:\n  LOG_LEVEL: debug # until launch\n');
    expect(parseYaml(text)).toMatchObject({
      port: 4000,
      appPort: 14000,
      env: { LOG_LEVEL: 'debug' },
    });
    commit(dir, 'port 4000');

    // The user edits the port by hand: the generated files do not follow, and svc says so.
    edit(join(dir, 'svc.yaml'), 'port: 4000\n', 'port: 4100\n');
    commit(dir, 'port by hand');
    const drift = await update(dir);
    expect(drift.out).toContain(
      'note: svc.yaml differs from the answers the generated files follow (port 4000 -> 4100)',
    );
    // ... and --port 4200 then is a conflict in svc.yaml, around that key.
    const clash = await update(dir, { port: '4200' });
    expect(clash.code).toBe(1);
    expect(clash.out).toContain(row('conflict', 'svc.yaml (1 conflict; keys port)'));
    expect(read(dir, 'svc.yaml')).toContain(
      `# the shop, behind the load balancer\n<<<<<<< project\nport: 4100\n=======\nport: 4200\n>>>>>>> svc ${SVC_VERSION}\nappPort: 14200\n`,
    );
  });

  it('refuses bad input in one line, writing nothing', async () => {
    const dir = project();
    await expect(update(dir, { port: '0' })).rejects.toThrow(
      '--port: must be an integer between 1 and 65535 (got "0")',
    );
    await expect(update(dir, { cutover: 'sideways' })).rejects.toThrow(
      '--cutover: must be one of restart, switch',
    );
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    await expect(update(dir)).rejects.toThrow(
      `${dir}: uncommitted changes (notes.txt); commit them first, so that git diff shows exactly what svc update did, or pass --force`,
    );
    expect(git(dir, 'status', '--porcelain')).toBe('?? notes.txt\n');
    // --force runs anyway.
    expect((await update(dir, { force: true })).code).toBe(0);
    expect(read(dir, UNIT)).toContain('RestartSec=3\n');
  });

  it('a project without a record: says how to adopt; --adopt records, then updates merge', async () => {
    const dir = project();
    rmSync(join(dir, '.svc'), { recursive: true });
    append(dir, MONIT, EXTRA_MONIT_TEST);
    commit(dir, 'an old project');
    await expect(update(dir)).rejects.toThrow(
      'run svc update --adopt to record the current scaffold',
    );
    const adopted = await update(dir, { adopt: true }, SCAFFOLDS_DIR);
    expect(adopted.out).toContain(
      `1 of them different from yours (counted as your edits: ${MONIT})`,
    );
    commit(dir, 'adopt');
    const { code, out } = await update(dir);
    expect(code, out).toBe(0);
    expect(read(dir, MONIT)).toContain('with timeout 15 seconds');
    expect(read(dir, MONIT).endsWith(EXTRA_MONIT_TEST)).toBe(true);
  });

  it('Ctrl-C at any moment: the project as it was, or wholly updated; nothing left behind', async () => {
    const dir = project();
    const state = () =>
      listFiles(dir)
        .filter((path) => !path.startsWith('.git/'))
        .map((path) => `${path}\n${read(dir, path)}`);
    const before = state();
    const started = Date.now();
    expect(spawnSync(SVC, ['update', '--port', '4000'], { cwd: dir }).status).toBe(0);
    const took = Date.now() - started;
    const after = state();
    expect(after).not.toEqual(before);
    const outcomes = new Set<string>();
    for (let attempt = 0; attempt < 12; attempt++) {
      git(dir, 'reset', '-q', '--hard');
      git(dir, 'clean', '-qfdx');
      const child = spawn(SVC, ['update', '--port', '4000'], { cwd: dir, stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // From at once to as long as a whole update took: some land before, some while writing.
      await new Promise((resolve) => setTimeout(resolve, (took * attempt) / 10));
      child.kill('SIGINT');
      await exited;
      const now = state();
      expect([before, after]).toContainEqual(now);
      outcomes.add(
        now === before || JSON.stringify(now) === JSON.stringify(before) ? 'old' : 'new',
      );
    }
    console.info(`Ctrl-C outcomes: ${[...outcomes].join(', ')}`);
  }, 60_000);

  it('--adopt in a project whose .gitignore still ignores .svc/ says how to have the record committed', async () => {
    const dir = project();
    rmSync(join(dir, '.svc'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n.svc/\n*.log\n');
    commit(dir, 'an old project');
    const { out } = await update(dir, { adopt: true }, SCAFFOLDS_DIR);
    expect(out).toContain(
      'note: git ignores .svc/scaffold/ here (a .gitignore line `.svc/`?): make it `.svc/*` followed by `!.svc/scaffold/`, so the record is committed',
    );
    expect(out).toContain('counted as your edits: .gitignore');
  });

  it('a directory of the project that is a link (config/etc/monit -> elsewhere) is refused, nothing written', async () => {
    const dir = project();
    const outside = join(work, `outside-${++count}`);
    cpSync(join(dir, 'config/etc/monit'), outside, { recursive: true });
    rmSync(join(dir, 'config/etc/monit'), { recursive: true });
    symlinkSync(outside, join(dir, 'config/etc/monit'));
    commit(dir, 'monit elsewhere');
    const was = read(outside, `conf.d/${NAME}`);
    await expect(update(dir)).rejects.toThrow(
      `config/etc/monit: a symbolic link; svc update reads and writes ${MONIT} only through the project's own directories`,
    );
    expect(read(outside, `conf.d/${NAME}`)).toBe(was);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('a write that fails leaves the project and the record as they were', () => {
    const dir = project();
    const snapshot = () =>
      listFiles(dir)
        .filter((path) => !path.startsWith('.git/'))
        .map((path) => `${path}\n${read(dir, path)}`);
    const was = snapshot();
    // The last write's directory is a file: writing its temporary file fails after the others.
    expect(() =>
      writeUpdate(dir, {
        writes: [
          { path: UNIT, content: 'new unit\n', mode: 0o644 },
          { path: 'README.md/x', content: 'x\n', mode: 0o644 },
        ],
        removes: [LOGROTATE],
        record: [{ path: '.svc/scaffold/answers.yaml', content: 'svc: x\n', mode: 0o644 }],
      }),
    ).toThrow();
    expect(snapshot()).toEqual(was);
  });
});
