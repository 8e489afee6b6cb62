// The monit-only launcher (init monit: config/usr/local/lib/svc/NAME/ctl) really run, with the
// real start-stop-daemon: `ctl start` of a release that crashes at once fails (exit 1, saying
// so), so monit sees the failed start at once; a good release starts, stays up and stops.
//
// Runs as root in a private mount and network namespace (unshare): /run, /var/www and /var/log
// are tmpfs there, so the pidfile, release and log never touch the machine's own directories,
// and the server listens in a network of its own. Needs a built dist/, root, util-linux's
// unshare and dpkg's start-stop-daemon.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SVC = join(REPO, 'bin', 'svc');
const NAME = 'api-launched';

let root = '';
let project = '';

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'bundle', 'svc.mjs'))) {
    throw new Error('dist/ is missing: run npm run build first');
  }
  root = mkdtempSync(join(tmpdir(), 'svc-launcher-'));
  project = join(root, NAME);
  execFileSync(
    process.execPath,
    [
      SVC,
      'new',
      NAME,
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--user',
      'daemon',
      '--dir',
      project,
    ],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  start: number;
  stderr: string;
  /** After the start: whether the pidfile's process is alive, then after `ctl stop`. */
  alive: string;
  stop: string;
}

/**
 * Lays `release` out as the current release in a private namespace, runs `ctl start`, reports,
 * runs `ctl stop`, and kills whatever the pidfile still names so nothing outlives the namespace.
 */
function launch(release: string): Outcome {
  const ctl = join(project, `config/usr/local/lib/svc/${NAME}/ctl`);
  const script = [
    'set -u',
    'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/www && mount -t tmpfs tmpfs /var/log || exit 90',
    'mkdir -p "/var/www/$1/current" "/var/log/$1" && chown daemon:daemon "/var/log/$1" || exit 91',
    'cp "$2" "/var/www/$1/current/server.js" || exit 92',
    'sh "$3" start 2>/tmp/ctl-start.err; echo "start=$?"',
    'pid=$(cat "/run/$1.pid" 2>/dev/null)',
    'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo alive=yes; else echo alive=no; fi',
    'sh "$3" stop >/dev/null 2>&1; echo "stopped=$?"',
    'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo after=alive; kill -9 "$pid"; else echo after=gone; fi',
    'echo "stderr=$(tr "\\n" " " </tmp/ctl-start.err)"',
  ].join('\n');
  const result = spawnSync(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'sh', '-c', script, 'sh', NAME, release, ctl],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const fields = Object.fromEntries(
    result.stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  expect(result.status, result.stderr + result.stdout).toBe(0);
  return {
    start: Number(fields.start),
    stderr: fields.stderr ?? '',
    alive: fields.alive ?? '',
    stop: `${fields.stopped}/${fields.after}`,
  };
}

describe('ctl start (init monit)', () => {
  it('fails at once for a release that exits right after starting, saying so', () => {
    const release = join(root, 'crash');
    mkdirSync(release);
    writeFileSync(join(release, 'server.js'), 'process.exit(3);\n');
    const outcome = launch(join(release, 'server.js'));
    expect(outcome.start, outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain('the service exited within 2 s of starting');
    expect(outcome.stderr).toContain(`/var/log/${NAME}/${NAME}.log`);
    expect(outcome.alive).toBe('no');
  });

  it('starts a good release, which stays up, and stops it', () => {
    const outcome = launch(join(project, 'server.js'));
    expect(outcome, outcome.stderr).toMatchObject({ start: 0, alive: 'yes', stop: '0/gone' });
  });
});
