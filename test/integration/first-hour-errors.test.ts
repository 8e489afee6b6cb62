// Errors a user meets in the first hour (issue 10, section 4), through the real bin/svc: each is
// one line that says what to do.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

const SVC = new URL('../../bin/svc', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'svc-first-errors-'));
let cwd = '';
let counter = 0;

beforeEach(() => {
  cwd = join(root, String(counter++));
  mkdirSync(cwd);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** bin/svc run asynchronously (the test's own loopback servers must keep answering meanwhile). */
/**
 * Name lookups from /etc/hosts only: the machine's resolver is never asked (no query leaves the
 * machine), inside a private mount namespace that sees its own /etc/nsswitch.conf.
 */
function filesOnlyResolver(argv: string[]): [string, string[]] {
  const nss = join(cwd, 'nsswitch.conf');
  writeFileSync(nss, 'passwd: files\ngroup: files\nhosts: files\n');
  const mount = 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"';
  return ['unshare', ['-m', 'sh', '-c', mount, 'sh', nss, ...argv]];
}

function svcAsync(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const [command, argv] = filesOnlyResolver([SVC, ...args]);
    const child = spawn(command, argv, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', CI: '1', SVC_DEBUG: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function svc(args: string[], env: NodeJS.ProcessEnv = {}) {
  const [command, argv] = filesOnlyResolver([SVC, ...args]);
  const result = spawnSync(command, argv, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CI: '1', SVC_DEBUG: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A valid project made by svc new, then svc.yaml edited by `edit`. */
function projectWith(edit: (yaml: string) => string): void {
  expect(svc(['new', 'api-orders', '--yes', '--dir', '.', '--force']).code).toBe(0);
  const file = join(cwd, 'svc.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

describe('svc.yaml mistakes', () => {
  it('a misspelt required key is one line, not an "unknown key" and a "required" line', () => {
    projectWith((yaml) => yaml.replace('stopTimeout:', 'stopTimout:'));
    const result = svc(['plan', 'sandbox']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'svc: error: svc.yaml: stopTimout: unknown key (did you mean stopTimeout? it is required)\n',
    );
  });

  it('init: sytemd gets a did-you-mean', () => {
    projectWith((yaml) => yaml.replace('init: systemd', 'init: sytemd'));
    const result = svc(['plan', 'sandbox']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'svc: error: svc.yaml: init: must be one of systemd, openrc, upstart, monit (did you mean systemd?)\n',
    );
  });
});

describe('svc new', () => {
  it.each(['api-', 'api', 'www-'])(
    '%s suggests a name after the kind, not a doubled kind',
    (name) => {
      const result = svc(['new', name, '--yes']);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.stderr).not.toMatch(/api-api|www-www/);
      expect(result.stderr).toMatch(/a name goes after (api|www)-: (api-orders|www-shop), say/);
    },
  );

  it('the Next: hint uses svc as it was run when svc is not on PATH', () => {
    const result = svc(['new', 'api-orders', '--yes'], { PATH: '/usr/bin:/bin' });
    expect(result.code, result.stderr).toBe(0);
    // Far from the checkout, the path is absolute (../../../.. reads worse); near, relative.
    expect(result.stdout).toContain(`Next: cd api-orders && ${SVC} plan HOST`);
    expect(result.stdout).not.toMatch(/&& svc plan/);
  });
});

/** A loopback TCP server doing `onConnection` with each client; its port. */
async function loopbackServer(onConnection: (socket: import('node:net').Socket) => void) {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return { port, close };
}

describe('an unreachable host', () => {
  /** HOME with an identity file and no agent: svc gets as far as connecting. */
  function withKey(): NodeJS.ProcessEnv {
    const home = join(cwd, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      join(home, '.ssh', 'id_ed25519'),
    ]);
    return { HOME: home, SSH_AUTH_SOCK: '' };
  }

  /** Every line of stdout and stderr that gives the reason. */
  function reasonLines(output: { stdout: string; stderr: string }, reason: string): string[] {
    return `${output.stdout}${output.stderr}`.split('\n').filter((line) => line.includes(reason));
  }

  it('connection refused: one line, once, that says what to check (plan and deploy)', async () => {
    projectWith((yaml) => yaml);
    const env = withKey();
    const closed = await loopbackServer(() => undefined);
    await closed.close();
    const target = `127.0.0.1:${closed.port}`;
    for (const command of [['plan'], ['deploy', '--yes']]) {
      const result = await svcAsync([...command, target], env);
      expect(result.code).toBe(1);
      const said = reasonLines(result, 'connection refused');
      expect(said, result.stdout).toEqual([
        `127.0.0.1 (root@127.0.0.1:${closed.port}): connection refused: is sshd running there?`,
      ]);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/ECONNREFUSED/);
    }
  });

  it('a host that never answers: timed out after N s', async () => {
    projectWith((yaml) => yaml);
    const silent = await loopbackServer(() => undefined);
    try {
      const result = await svcAsync(
        ['plan', `127.0.0.1:${silent.port}`, '--connect-timeout', '1'],
        withKey(),
      );
      expect(result.code).toBe(1);
      expect(reasonLines(result, 'timed out')).toEqual([
        `127.0.0.1 (root@127.0.0.1:${silent.port}): timed out after 1 s: is the address right, and the host up?`,
      ]);
    } finally {
      await silent.close();
    }
  });

  it('a port that hangs up at once: not "Connection lost before handshake"', async () => {
    projectWith((yaml) => yaml);
    const rude = await loopbackServer((socket) => socket.destroy());
    try {
      const result = await svcAsync(['plan', `127.0.0.1:${rude.port}`], withKey());
      expect(result.code).toBe(1);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/Connection lost before handshake/);
      expect(reasonLines(result, 'before the ssh handshake')).toHaveLength(1);
    } finally {
      await rude.close();
    }
  });

  it('no agent and no identity file: says to ssh-add a key or set IdentityFile', async () => {
    projectWith((yaml) => yaml);
    const home = join(cwd, 'empty-home');
    mkdirSync(home);
    const result = await svcAsync(['plan', '127.0.0.1:1'], { HOME: home, SSH_AUTH_SOCK: '' });
    expect(result.code).toBe(1);
    expect(reasonLines(result, 'ssh-add')).toEqual([
      '127.0.0.1 (root@127.0.0.1:1): no ssh-agent and no identity file: ssh-add a key or set IdentityFile',
    ]);
  });
});

describe('a bare word as TARGET', () => {
  it('that is no group, alias or resolvable name says so, and connects nowhere', async () => {
    projectWith((yaml) => yaml);
    const empty = join(cwd, 'empty-home');
    mkdirSync(empty);
    const result = await svcAsync(['deploy', 'webservers', '--yes'], {
      HOME: empty,
      SVC_SANDBOX_DIR: join(cwd, 'no-sandbox'),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'svc: error: target "webservers": not an inventory group, an ~/.ssh/config alias or a host name that resolves (svc.yaml has no hosts: section)\n',
    );
  });

  it('that resolves (localhost, from /etc/hosts) is still a host', async () => {
    projectWith((yaml) => yaml);
    const closed = await loopbackServer(() => undefined);
    await closed.close();
    const empty = join(cwd, 'empty-home');
    mkdirSync(empty);
    const result = await svcAsync(['plan', `localhost:${closed.port}`], { HOME: empty });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`localhost (root@localhost:${closed.port}): `);
  });
});
