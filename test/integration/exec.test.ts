// `svc exec` on two real sandbox hosts: the command runs in the live release as the service user
// with the service's environment (an env: value and a secret); its exit status is svc's; with
// several hosts each line is prefixed and the exit says which failed; a hostile argv arrives word
// for word; on a terminal, one host gets a pseudo-terminal (a shell there sees a tty).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PtySession } from '../helpers/pty.js';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const SECRET = 'exec-secret-91c2';

let sbx: Sandbox;
let work: string;
let project: string;
const sessions: PtySession[] = [];

const svc = (args: string[]) =>
  runSvc([...args.slice(0, 2), '--dir', project, ...args.slice(2)], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-exec-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    [
      'new',
      NAME,
      '--yes',
      '--init',
      'monit',
      '--dir',
      project,
      '--env',
      'GREETING=hello there',
      '--env',
      `DB_PASSWORD=${SECRET}`,
    ],
    { env: { ...process.env, CI: '1', HOME: join(work, 'home') } },
  );
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
});

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc exec', () => {
  it('runs in the live release as the service user, with env: and secrets', async () => {
    const result = await svc([
      'exec',
      'sandbox',
      '--host',
      'sbx-1',
      '--',
      '/bin/sh',
      '-c',
      'id -un; pwd; printf "%s|%s\\n" "$GREETING" "$DB_PASSWORD"; [ -t 0 ] || echo no-tty',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `${NAME}\n/var/www/${NAME}/current\nhello there|${SECRET}\nno-tty\n`,
    );
  });

  it('passes the exit status through', async () => {
    const result = await svc([
      'exec',
      'sandbox',
      '--host',
      'sbx-2',
      '--',
      '/bin/sh',
      '-c',
      'exit 7',
    ]);
    expect(result.code).toBe(7);
    expect(result.stderr).toBe('');
  });

  it('prefixes each host when several run it, and says which failed', async () => {
    const marker = `/var/db/${NAME}/fail-here`;
    expect(sbx.ssh('sbx-2', `touch ${marker}`, { user: 'root' }).code).toBe(0);
    try {
      const result = await svc([
        'exec',
        'sandbox',
        '--',
        '/bin/sh',
        '-c',
        `echo out; echo err >&2; if [ -e ${marker} ]; then exit 4; fi`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout.split('\n').sort()).toEqual(['', 'sbx-1 | out', 'sbx-2 | out']);
      expect(result.stderr.split('\n').sort()).toEqual([
        '',
        'sbx-1 | err',
        'sbx-2 | err',
        'svc: error: sbx-2: exited with status 4',
      ]);
    } finally {
      sbx.ssh('sbx-2', `rm -f ${marker}`, { user: 'root' });
    }
  });

  it('hands a hostile argv over word for word', async () => {
    const words = [`a'b`, '$(id -u)', '`id`', 'x\ny', '"q"', '', '\\', ' lead', ';|&', '*'];
    const result = await svc([
      'exec',
      'sandbox',
      '--host',
      'sbx-1',
      '--',
      'printf',
      '[%s]',
      ...words,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(words.map((word) => `[${word}]`).join(''));
  });

  it('refuses a --host that is not one of the target', async () => {
    const result = await svc(['exec', 'sandbox', '--host', 'sbx-9', '--', 'true']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "svc: error: --host: sbx-9 is not one of the target's hosts (sbx-1, sbx-2)\n",
    );
  });

  it('a host without a live release: 125 and why, nothing run', async () => {
    const current = `/var/www/${NAME}/current`;
    expect(sbx.ssh('sbx-2', `mv ${current} ${current}.away`, { user: 'root' }).code).toBe(0);
    try {
      const result = await svc(['exec', 'sandbox', '--host', 'sbx-2', '--', 'echo', 'ran']);
      expect(result.code).toBe(125);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `svc exec: no live release: ${current} does not exist (deploy first)\n`,
      );
    } finally {
      sbx.ssh('sbx-2', `mv ${current}.away ${current}`, { user: 'root' });
    }
  });

  it('on a terminal, one host gets a pseudo-terminal: a shell there is interactive', async () => {
    const session = new PtySession(
      ['exec', 'sandbox', '--dir', project, '--host', 'sbx-1', '--', '/bin/sh', '-i'],
      work,
      { ...sbx.env, HOME: join(work, 'home') },
    );
    sessions.push(session);
    await session.expectOutput(/\$ /, 30_000);
    session.send('[ -t 0 ] && echo "tty:$(id -un):$GREETING"\r');
    await session.expectOutput(new RegExp(`tty:${NAME}:hello there`), 30_000);
    session.send('exit 5\r');
    expect(await session.waitForExit(30_000)).toEqual({ code: 5, signal: null });
  }, 60_000);
});
