// The monit-only launcher (init monit: config/usr/local/lib/svc/NAME/ctl) really run, with the
// real start-stop-daemon: `ctl start` says started only once the process listens on its port (the
// env file's PORT) on a socket of its own, and fails (exit 1, saying so) the moment the process
// exits or when it has not listened within 8 s, so monit sees a failed start at once, however
// long the crash took; a good release starts, stays up and stops.
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

/** The port the env file gives the service: not svc.yaml's 3000, so the file is what counts. */
const PORT = 4321;

/**
 * Lays `release` out as the current release in a private namespace, with an env file giving it
 * PORT, runs `ctl start`, reports, runs `ctl stop`, and kills whatever the pidfile still names so
 * nothing outlives the namespace. `hold`: another process listens on PORT before the start.
 */
function launch(release: string, hold = false): Outcome {
  const ctl = join(project, `config/usr/local/lib/svc/${NAME}/ctl`);
  const script = [
    'set -u',
    'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/www && mount -t tmpfs tmpfs /var/log && mount -t tmpfs tmpfs /etc/default || exit 90',
    'ip link set lo up || exit 93',
    'mkdir -p "/var/www/$1/current" "/var/log/$1" && chown daemon:daemon "/var/log/$1" || exit 91',
    'cp "$2" "/var/www/$1/current/server.js" || exit 92',
    '(umask 077 && printf "PORT=%s\\n" "$4" > "/etc/default/$1") || exit 94',
    'holder=',
    'if [ "$5" = hold ]; then',
    `  "$6" -e "require('net').createServer().listen(Number(process.argv[1]))" "$4" & holder=$!`,
    '  hex=$(printf %04X "$4"); n=0',
    '  until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -Eq ":$hex [0-9A-F]+:0000 0A "; do',
    '    n=$((n + 1)); [ $n -lt 200 ] || exit 95; sleep 0.05',
    '  done',
    'fi',
    'sh "$3" start 2>/tmp/ctl-start.err; echo "start=$?"',
    'pid=$(cat "/run/$1.pid" 2>/dev/null)',
    'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo alive=yes; else echo alive=no; fi',
    'sh "$3" stop >/dev/null 2>&1; echo "stopped=$?"',
    'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo after=alive; kill -9 "$pid"; else echo after=gone; fi',
    '[ -z "$holder" ] || kill -9 "$holder"',
    'echo "stderr=$(tr "\\n" " " </tmp/ctl-start.err)"',
  ].join('\n');
  const result = spawnSync(
    'unshare',
    [
      '--mount',
      '--net',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      NAME,
      release,
      ctl,
      String(PORT),
      hold ? 'hold' : '-',
      process.execPath,
    ],
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

function release(name: string, source: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'server.js'), source);
  return join(dir, 'server.js');
}

const LOG = `/var/log/${NAME}/${NAME}.log`;

describe('ctl start (init monit): started means listening on its port', () => {
  it('fails for a release that exits right after starting, saying so', () => {
    const outcome = launch(release('crash', 'process.exit(3);\n'));
    expect(outcome.start, outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain(`the service exited before it listened on port ${PORT}`);
    expect(outcome.stderr).toContain(LOG);
    expect(outcome.alive).toBe('no');
  });

  // The flake this replaces: a release that takes more than 2 s to crash (node under load) was
  // "started". No timing makes this pass now: it never listens, so it is never started.
  it('fails for a release that exits 3 s after starting, without having listened', () => {
    const outcome = launch(release('slow-crash', 'setTimeout(() => process.exit(3), 3000);\n'));
    expect(outcome.start, outcome.stderr).toBe(1);
    expect(outcome.stderr).toMatch(
      new RegExp(
        `exited before it listened on port ${PORT}|did not listen on port ${PORT} within 8 s`,
      ),
    );
    expect(outcome.stderr).toContain(LOG);
  });

  it('fails for a release that stays up but never listens, while another process holds its port', () => {
    const outcome = launch(release('deaf', 'setInterval(() => {}, 1000);\n'), true);
    expect(outcome.start, outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain(
      `the service did not listen on port ${PORT} within 8 s of starting (still starting, or listening elsewhere?)`,
    );
    expect(outcome.stderr).toContain(LOG);
  });

  it("starts a good release on the env file's port, which stays up, and stops it", () => {
    const outcome = launch(join(project, 'server.js'));
    expect(outcome, outcome.stderr).toMatchObject({ start: 0, alive: 'yes', stop: '0/gone' });
  });
});
