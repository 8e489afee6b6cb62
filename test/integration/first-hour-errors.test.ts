// Errors a user meets in the first hour (issue 10, section 4), through the real bin/svc: each is
// one line that says what to do.
import { spawnSync } from 'node:child_process';
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

function svc(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(SVC, args, {
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
