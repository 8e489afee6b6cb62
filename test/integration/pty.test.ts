// `svc new` end to end on a real terminal: the built bin/svc runs inside a pseudo-terminal made by
// util-linux `script`, and the test types at its @inquirer prompts the way a person would. `script`
// reads what to type from its stdin (a pipe here) and writes the terminal's output to its stdout.
// Needs `npm run build` first (bin/svc runs dist/).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, KEY, PtySession, SVC, WAIT_MS } from '../helpers/pty.js';

const DIST_MAIN = fileURLToPath(new URL('../../dist/bundle/svc.mjs', import.meta.url));

let root: string;
const sessions: PtySession[] = [];

/** A fresh, empty working directory for one test. */
function freshCwd(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

function startSvc(args: readonly string[], cwd: string): PtySession {
  const session = new PtySession(args, cwd);
  sessions.push(session);
  return session;
}

beforeAll(() => {
  if (!existsSync(DIST_MAIN)) throw new Error('dist/ is missing: run `npm run build` first');
  root = mkdtempSync(join(tmpdir(), 'svc-pty-'));
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('svc new on a terminal', () => {
  beforeAll(() => {
    const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error('these tests need util-linux `script` on PATH');
    }
  });

  it('asks every api- question and writes what was answered', async () => {
    const cwd = freshCwd('answers');
    const svc = startSvc(['new', 'api-orders'], cwd);

    await svc.answer(/\? Description \(api-orders: HTTP API\)/, 'Orders API');
    await svc.answer(/\? Port \(3000\)/, '4123');
    await svc.answer(/\? Health check path \(\/ok\)/, ''); // take the default
    // Choices are INIT_SYSTEMS in order: systemd (default), openrc, upstart, monit.
    await svc.expectOutput(/\? Init system\s+❯ systemd\s+openrc\s+upstart\s+monit/);
    svc.send(KEY.down);
    await svc.expectOutput(/❯ openrc/);
    svc.send(KEY.enter);
    await svc.expectOutput(/✔ Init system openrc/);
    await svc.answer(/\? Add a monit check\? \(Y\/n\)/, 'n');
    await svc.expectOutput(/✔ Add a monit check\? No/);
    await svc.answer(/\? Service user \(api-orders\)/, ''); // take the default
    await svc.answer(/\? Environment variable KEY=VALUE \(empty to finish\)/, 'FOO=bar');
    await svc.expectOutput(/✔ Environment variable KEY=VALUE \(empty to finish\) FOO=bar/);
    await svc.answer(/\? Environment variable KEY=VALUE \(empty to finish\)/, '');

    const exit = await svc.waitForExit();
    expect(exit, svc.output).toEqual({ code: 0, signal: null });
    expect(svc.output).toContain('Created api-orders in api-orders/');

    const project = join(cwd, 'api-orders');
    const manifest = parse(readFileSync(join(project, 'svc.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: 'api-orders',
      description: 'Orders API',
      port: 4123,
      health: '/ok',
      init: 'openrc',
      monit: false,
      user: 'api-orders',
      // A value that does not look secret goes to svc.yaml's env:; svc writes the env file itself.
      env: { FOO: 'bar' },
    });
    expect(existsSync(join(project, 'config/etc/default'))).toBe(false);
    const initScript = join(project, 'config/etc/init.d/api-orders');
    expect(statSync(initScript).isFile()).toBe(true);
    expect(statSync(initScript).mode & 0o777).toBe(0o755);
    expect(existsSync(join(project, 'config/etc/monit'))).toBe(false);
  }, 60_000);

  it('Ctrl-C at the first prompt exits 130 without a stack and writes nothing', async () => {
    const cwd = freshCwd('interrupt');
    const svc = startSvc(['new', 'api-orders'], cwd);

    await svc.expectOutput(/\? Description \(api-orders: HTTP API\)/);
    svc.send(KEY.ctrlC);

    const exit = await svc.waitForExit();
    expect(exit, svc.output).toEqual({ code: 130, signal: null });
    // `script -e` reports a child killed by SIGINT as 130 too: svc's own message tells them apart.
    expect(svc.output).toContain('svc: interrupted');
    expect(svc.output).not.toContain('    at ');
    expect(existsSync(join(cwd, 'api-orders'))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  }, 60_000);
});

describe('svc new without a terminal', () => {
  it('refuses to ask, in one line on stderr, without --yes', () => {
    const cwd = freshCwd('no-tty');
    const result = spawnSync(process.execPath, [SVC, 'new', 'api-x'], {
      cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: WAIT_MS,
    });

    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^svc: error: no terminal to ask on/);
    expect(result.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });
});
