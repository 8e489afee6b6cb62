// An encrypted identity file asks for its passphrase once per run, however many hosts use it:
// the real bin/svc on a pseudo-terminal, planning two real sandbox hosts in parallel.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtySession } from '../helpers/pty.js';
import { startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const PASSPHRASE = 'correct horse battery staple';
let sbx: Sandbox;
let work: string;
let session: PtySession | undefined;

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-passphrase-'));
  const ssh = join(work, 'home', '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  const key = join(ssh, 'encrypted');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', key]);
  const publicKey = readFileSync(`${key}.pub`, 'utf8');
  for (const host of sbx.inventory.hosts) {
    const added = sbx.ssh(host.name, 'cat >> /home/deploy/.ssh/authorized_keys', {
      user: 'root',
      input: publicKey,
    });
    expect(added.code, added.stderr).toBe(0);
  }
  // Literal addresses go through ~/.ssh/config, which names the encrypted key.
  writeFileSync(join(ssh, 'config'), `Host ${sbx.net}.*\n  IdentityFile ${key}\n  User deploy\n`);
  execFileSync(
    SVC,
    [
      'new',
      'api-orders',
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--dir',
      join(work, 'api-orders'),
    ],
    { env: { ...process.env, CI: '1' } },
  );
}, 120_000);

afterAll(async () => {
  await session?.stop();
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('an encrypted identity file', () => {
  it('asks its passphrase once for two hosts, then plans both', async () => {
    const targets = sbx.inventory.hosts.map((host) => host.address).join(',');
    const env = { ...sbx.env, HOME: join(work, 'home'), SSH_AUTH_SOCK: '' };
    session = new PtySession(['plan', targets, '--dir', join(work, 'api-orders')], work, env);
    await session.answer(/Passphrase for .*encrypted/, PASSPHRASE);
    const exit = await session.waitForExit(60_000);
    expect(exit, session.output).toEqual({ code: 0, signal: null });
    // The prompt redraws at each keystroke; once answered, it is never asked again.
    const answered = session.output.split('✔ Passphrase for');
    expect(answered).toHaveLength(2);
    expect(answered[1]).not.toContain('Passphrase for');
    expect(session.output).toMatch(/on 2 hosts\./);
    expect(session.output).not.toContain('host(s) failed');
  }, 90_000);
});
