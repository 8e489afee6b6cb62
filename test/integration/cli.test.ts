// The real bin/svc, as a user runs it: exit codes, one-line errors, nothing written on error.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest-file.js';

const SVC = new URL('../../bin/svc', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'svc-cli-'));
let cwd = '';
let counter = 0;

beforeEach(() => {
  cwd = join(root, String(counter++));
  mkdirSync(cwd);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function svc(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(SVC, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CI: '1', SVC_DEBUG: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every path under dir, for asserting nothing was written. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('svc --version and help', () => {
  it('prints the version from package.json', () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    expect(svc(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('documents the commands and exit codes', () => {
    const { code, stdout } = svc(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('new [options] <name>');
    expect(stdout).toMatch(/130\s+interrupted/);
  });

  it('svc help new shows the flags and examples', () => {
    const { code, stdout } = svc(['help', 'new']);
    expect(code).toBe(0);
    expect(stdout).toContain('--init <system>');
    expect(stdout).toContain('$ svc new api-orders --yes');
  });
});

describe('svc new refuses bad input with one line and writes nothing', () => {
  it.each([
    [
      ['new', 'orders', '--yes'],
      'svc: error: invalid service name "orders": a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters (did you mean api-orders?)',
    ],
    [
      ['new', 'api-x;reboot', '--yes'],
      'svc: error: invalid service name "api-x;reboot": a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters (did you mean api-x-reboot?)',
    ],
    [
      ['new', 'api-orders', '--yes', '--port', '0'],
      'svc: error: --port: must be an integer between 1 and 65535 (got "0")',
    ],
    [
      ['new', 'api-orders', '--yes', '--port', '80x'],
      'svc: error: --port: must be an integer between 1 and 65535 (got "80x")',
    ],
    [
      ['new', 'api-orders', '--yes', '--init', 'runit'],
      "svc: error: option '--init <system>' argument 'runit' is invalid. Allowed choices are systemd, openrc, upstart, monit.",
    ],
    [
      ['new', 'api-orders', '--yes', '--env', 'lower=x'],
      'svc: error: --env: lower must be an upper-case variable name (A-Z, 0-9, _)',
    ],
    [
      ['new', 'api-orders', '--yes', '--user', 'Root'],
      'svc: error: --user: must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or - (got "Root")',
    ],
    [
      ['new', 'api-orders', '--yes', '--health', 'ok'],
      'svc: error: --health: must be a URL path such as /ok (letters, digits, . _ ~ - /) (got "ok")',
    ],
    [
      ['new', 'service-mailer', '--yes', '--port', '3000'],
      'svc: error: --port: not asked for a service- project',
    ],
    [
      ['new', 'www-shop', '--yes', '--runtime', 'static', '--init', 'systemd'],
      'svc: error: --init: a static site runs no process (nginx serves it)',
    ],
    [
      ['new', 'api-orders', '--yes', '--init', 'monit', '--no-monit'],
      'svc: error: --no-monit: with --init monit, the monit check is what starts the service',
    ],
    [
      ['new', 'api-orders', '--prot', '3000'],
      "svc: error: unknown option '--prot' (Did you mean --port?)",
    ],
    [['nwe'], "svc: error: unknown command 'nwe' (Did you mean new?)"],
  ])('svc %j', (args, expected) => {
    const { code, stdout, stderr } = svc(args);
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: `${expected}\n` });
    expect(tree(cwd)).toEqual([]);
  });

  it('refuses a non-empty target unless --force', () => {
    mkdirSync(join(cwd, 'api-orders'));
    writeFileSync(join(cwd, 'api-orders', 'keep.txt'), 'mine');
    const refused = svc(['new', 'api-orders', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `svc: error: ${join(cwd, 'api-orders')}: directory is not empty; pass --force to write into it\n`,
    );
    expect(tree(cwd)).toEqual(['api-orders', 'api-orders/keep.txt']);

    const forced = svc(['new', 'api-orders', '--yes', '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(cwd, 'api-orders', 'keep.txt'), 'utf8')).toBe('mine');
    expect(tree(join(cwd, 'api-orders'))).toContain('svc.yaml');
  });

  it('without a terminal and without --yes, fails at once', () => {
    const { code, stderr } = svc(['new', 'api-orders']);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^svc: error: no terminal to ask on: pass --yes to take the defaults, or answer with --description, .*\n$/,
    );
    expect(tree(cwd)).toEqual([]);
  });

  it('prints the stack only under --verbose or SVC_DEBUG=1', () => {
    expect(svc(['new', 'orders', '--yes']).stderr).not.toContain('    at ');
    expect(svc(['new', 'orders', '--yes', '--verbose']).stderr).toContain('    at ');
    expect(svc(['new', 'orders', '--yes'], { SVC_DEBUG: '1' }).stderr).toContain('    at ');
  });
});

describe('svc new writes a project', () => {
  it('--dry-run lists every file with its mode and writes nothing', () => {
    const { code, stdout } = svc(['new', 'api-orders', '--yes', '--init', 'openrc', '--dry-run']);
    expect(code).toBe(0);
    // cutover: switch by default: the OpenRC script of the slots, the slot launcher monit's two
    // checks call, and nginx's front.
    expect(stdout).toContain('Would write 10 files to api-orders/');
    expect(stdout).toContain('  0755  config/etc/init.d/api-orders\n');
    expect(stdout).toContain('  0755  config/usr/local/lib/svc/api-orders/ctl\n');
    expect(stdout).toContain('  0644  config/etc/nginx/sites-enabled/api-orders.conf\n');
    // svc renders the env file at deploy time: no values file in the project.
    expect(stdout).not.toContain('config/etc/default/');
    expect(tree(cwd)).toEqual([]);
  });

  it('writes the files with their modes, and a manifest svc can read back', () => {
    const { code } = svc([
      'new',
      'api-orders',
      '--yes',
      '--dir',
      'out/orders',
      '--env',
      'GREETING=hello world',
      '--env',
      'DB_PASSWORD=value-of-db-password',
      '--port',
      '3100',
    ]);
    expect(code).toBe(0);
    const dir = join(cwd, 'out', 'orders');
    const manifest = parseManifest(readFileSync(join(dir, 'svc.yaml')));
    expect(manifest).toMatchObject({
      name: 'api-orders',
      port: 3100,
      // A value goes to env:; a secret-looking key to secrets:, its value to .svc/secrets/default.
      env: { GREETING: 'hello world' },
      secrets: ['DB_PASSWORD'],
    });
    expect(readFileSync(join(dir, 'svc.yaml'), 'utf8')).not.toContain('value-of-db-password');
    expect(readFileSync(join(dir, '.svc/secrets/default'), 'utf8')).toContain(
      'DB_PASSWORD=value-of-db-password\n',
    );
    expect(statSync(join(dir, '.svc/secrets/default')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.svc/secrets')).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, 'config/etc/default'))).toBe(false);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    // No staging directory is left beside the project.
    expect(readdirSync(join(cwd, 'out'))).toEqual(['orders']);
  });

  it('sends a URL with a password to the secrets whatever its key, and says where each key went', () => {
    const { code, stdout } = svc([
      'new',
      'api-orders',
      '--yes',
      '--env',
      'DATABASE_URL=postgres://app:url-password@db/orders',
      '--env',
      'QUEUE=mail',
    ]);
    expect(code).toBe(0);
    const dir = join(cwd, 'api-orders');
    expect(parseManifest(readFileSync(join(dir, 'svc.yaml')))).toMatchObject({
      env: { QUEUE: 'mail' },
      secrets: ['DATABASE_URL'],
    });
    expect(readFileSync(join(dir, 'svc.yaml'), 'utf8')).not.toContain('url-password');
    expect(readFileSync(join(dir, '.svc/secrets/default'), 'utf8')).toContain(
      'DATABASE_URL=postgres://app:url-password@db/orders\n',
    );
    expect(stdout).not.toContain('url-password');
    expect(stdout).toContain(
      '\nValues in svc.yaml env: (committed, shipped in each release): QUEUE\n' +
        'Secrets in .svc/secrets/default (0600, git-ignored): DATABASE_URL\n',
    );
  });
});
