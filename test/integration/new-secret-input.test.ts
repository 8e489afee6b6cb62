// `svc new --secret/--env` through the built bin/svc (review of issue 15): a value with a line
// break is refused in one line before anything is written (it used to write a key of its own into
// the secrets file); `--secret KEY` takes the value from stdin, or from a prompt that echoes
// nothing on a terminal, so it is on no command line; --help says KEY=VALUE is visible to others.
// Needs `npm run build` first (bin/svc runs dist/).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSecretsFile } from '../../src/core/secrets.js';
import { KEY, PtySession, SVC } from '../helpers/pty.js';

let root: string;
let count = 0;
const sessions: PtySession[] = [];
const VALUE = `v-${process.pid}-${Math.random().toString(36).slice(2)} with blanks`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function svcNew(args: string[], stdin?: string): Promise<Run & { dir: string }> {
  const dir = join(root, `p${++count}`);
  return new Promise((resolve) => {
    const child = spawn(
      SVC,
      ['new', 'api-orders', '--yes', '--cutover', 'restart', '--dir', dir, ...args],
      {
        env: { ...process.env, CI: '1', NO_COLOR: '1', HOME: join(root, 'home') },
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      },
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, dir }));
  });
}

const secretsOf = (dir: string) =>
  Object.fromEntries(
    parseSecretsFile(readFileSync(join(dir, '.svc/secrets/default'), 'utf8'), 'secrets'),
  );

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-new-secret-'));
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('svc new values that would write a key of their own', () => {
  it.each([
    ['--secret', 'DB_PASSWORD=hunter2\nINJECTED=1', 'DB_PASSWORD'],
    ['--secret', 'DB_PASSWORD=hunter2\rINJECTED=1', 'DB_PASSWORD'],
    ['--env', 'QUEUE=mail\nINJECTED=1', 'QUEUE'],
    ['--env', 'DB_PASSWORD=hunter2\nINJECTED=1', 'DB_PASSWORD'],
  ])('%s %j: one line, nothing written', async (flag, text, key) => {
    const run = await svcNew([flag, text]);
    expect(run.stderr).toBe(
      `svc: error: ${flag}: ${key} contains a line break; the env file holds one line per value\n`,
    );
    expect(run.code).toBe(1);
    expect(existsSync(run.dir)).toBe(false);
  });
});

describe('svc new --secret KEY', () => {
  it('reads the value from stdin when it is not a terminal', async () => {
    const run = await svcNew(
      ['--secret', 'DB_PASSWORD', '--secret', 'STRIPE_KEY=sk'],
      `${VALUE}\n`,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(secretsOf(run.dir)).toEqual({ DB_PASSWORD: VALUE, STRIPE_KEY: 'sk' });
    expect(readFileSync(join(run.dir, 'svc.yaml'), 'utf8')).toMatch(
      /^secrets:\n {2}- DB_PASSWORD\n {2}- STRIPE_KEY$/m,
    );
    expect(run.stdout).not.toContain(VALUE);
  });

  it('refuses two keys from one stdin, and a value of two lines, writing nothing', async () => {
    const two = await svcNew(['--secret', 'A_KEY', '--secret', 'B_KEY'], 'x\n');
    expect(two.stderr).toBe(
      'svc: error: --secret: A_KEY, B_KEY all want a value from stdin, which holds one; give one KEY alone per run, or run on a terminal\n',
    );
    const lines = await svcNew(['--secret', 'DB_PASSWORD'], 'hunter2\nINJECTED=1\n');
    expect(lines.stderr).toBe(
      'svc: error: --secret: DB_PASSWORD contains a line break; the env file holds one line per value (read from stdin)\n',
    );
    for (const run of [two, lines]) {
      expect(run.code).toBe(1);
      expect(existsSync(run.dir)).toBe(false);
    }
  });

  it('reads nothing on a dry run', async () => {
    // stdin is a pipe never written nor closed: a read would wait for ever.
    const dir = join(root, 'dry');
    const child = spawn(
      SVC,
      [
        'new',
        'api-orders',
        '--yes',
        '--cutover',
        'restart',
        '--dry-run',
        '--dir',
        dir,
        '--secret',
        'DB_PASSWORD',
      ],
      {
        env: { ...process.env, CI: '1', NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(stdout).toContain('.svc/secrets/default');
    expect(existsSync(dir)).toBe(false);
  });

  it.runIf(process.platform === 'linux')(
    'asks on a terminal and echoes nothing',
    async () => {
      if (spawnSync('script', ['--version']).status !== 0)
        throw new Error('this test needs util-linux `script` on PATH');
      const cwd = mkdtempSync(join(root, 'tty-'));
      const session = new PtySession(
        ['new', 'api-orders', '--yes', '--cutover', 'restart', '--secret', 'DB_PASSWORD'],
        cwd,
        {
          HOME: join(root, 'home'),
        },
      );
      sessions.push(session);
      await session.expectOutput(/Value of DB_PASSWORD \(not shown\)/);
      session.send(VALUE + KEY.enter);
      const exit = await session.waitForExit();
      expect(exit, session.output).toEqual({ code: 0, signal: null });
      expect(session.output).toContain('Created api-orders');
      expect(session.output).not.toContain(VALUE);
      expect(secretsOf(join(cwd, 'api-orders'))).toEqual({ DB_PASSWORD: VALUE });
    },
    60_000,
  );

  it('--help says a value on the command line is visible to other users', () => {
    const help = spawnSync(SVC, ['new', '--help'], { encoding: 'utf8' }).stdout.replace(
      /\s+/g,
      ' ',
    );
    expect(help).toContain('--secret <KEY[=VALUE]>');
    expect(help).toContain(
      'KEY alone reads the value from a hidden prompt, or from stdin when not a terminal (KEY=VALUE is visible to other local users in ps',
    );
  });
});
