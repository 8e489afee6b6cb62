// What svc says about how it was run and about a name it could not look up, through the real
// bin/svc: hints use the path the user typed; a DNS lookup that failed for now (EAI_AGAIN) is
// said as such, not as a name that does not exist. No query leaves the machine: lookups run in
// a private network namespace (only a loopback that is down) and mount namespace, whose
// nsswitch.conf asks DNS and whose resolv.conf names a server on that loopback.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;
let root = '';

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-hints-dns-'));
  // A checkout-like copy: bin/svc beside dist/ (a link to this checkout's build).
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(REPO, 'bin', 'svc'), join(root, 'bin', 'svc'));
  symlinkSync(join(REPO, 'dist'), join(root, 'dist'));
  writeFileSync(join(root, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: dns\n');
  writeFileSync(join(root, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  // A home with an identity file and no agent: svc gets as far as connecting.
  mkdirSync(join(root, 'home', '.ssh'), { recursive: true });
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-f',
    join(root, 'home', '.ssh', 'id_ed25519'),
  ]);
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** argv run with the shell's exec (the path as typed reaches the kernel), no network, DNS only. */
function run(cwd: string, argv: string[]) {
  const script = [
    'mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf',
    'mount --bind "$1/resolv.conf" /etc/resolv.conf',
    'shift',
    'exec "$@"',
  ].join(' && ');
  const result = spawnSync('unshare', ['-n', '-m', 'sh', '-c', script, 'sh', root, ...argv], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: '/usr/bin:/bin',
      HOME: join(root, 'home'),
      SSH_AUTH_SOCK: '',
      NO_COLOR: '1',
      CI: '1',
      SVC_DEBUG: '',
    },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the Next: hint', () => {
  it('run by an absolute path: that path, even near the project', () => {
    const result = run(root, [join(root, 'bin', 'svc'), 'new', 'api-one', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Next: cd api-one && ${join(root, 'bin', 'svc')} plan HOST`);
  });

  it('run by a relative path: relative to where the hint runs', () => {
    const result = run(root, ['bin/svc', 'new', 'api-two', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Next: cd api-two && ../bin/svc plan HOST');
  });
});

describe('a DNS lookup that fails for now (EAI_AGAIN)', () => {
  const svc = () => join(root, 'bin', 'svc');

  it('a bare-word TARGET: says the lookup failed for now, not that the name does not resolve', () => {
    const project = join(root, 'api-one');
    const result = run(project, [svc(), 'plan', 'webservers']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'svc: error: target "webservers": looking the name up failed for now (temporary DNS failure, EAI_AGAIN): check the network and /etc/resolv.conf, then try again\n',
    );
  });

  it('a host name to connect to: one line that says the same', () => {
    const project = join(root, 'api-one');
    const result = run(project, [svc(), 'plan', 'root@shop.example:22']);
    expect(result.code).toBe(1);
    const lines = `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.includes('shop.example (root@shop.example:22): '));
    expect(lines).toEqual([
      'shop.example (root@shop.example:22): looking the name up failed for now (temporary DNS failure, EAI_AGAIN): check the network and /etc/resolv.conf, then try again',
    ]);
  });
});
