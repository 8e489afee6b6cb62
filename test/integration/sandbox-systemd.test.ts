// svc sandbox up --systemd: a host booting the machine's own systemd as PID 1 (systemd-nspawn,
// volatile overlay), reached with the real OpenSSH client; then a `down` that leaves nothing.
//
// Needs root, a built dist/ and systemd-container (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { closeSync, existsSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  leftovers,
  sandboxSupport,
  snapshotSandbox,
  startSandbox,
  type Sandbox,
} from '../helpers/sandbox.js';

const tag = `svc-sbx-test-${randomBytes(4).toString('hex')}`;

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('svc sandbox up --systemd', () => {
  let sbx: Sandbox;
  let bootSeconds = 0;

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    const started = Date.now();
    sbx = await startSandbox({ count: 1, systemd: true, user: 'root' });
    bootSeconds = (Date.now() - started) / 1000;
  }, 120_000);

  afterAll(async () => {
    await sbx?.down();
  }, 60_000);

  it('records a systemd host whose login user is root', () => {
    expect(sbx.inventory.hosts).toHaveLength(1);
    expect(sbx.host('sbx-1')).toMatchObject({ kind: 'systemd', user: 'root', port: 22 });
    expect(bootSeconds).toBeLessThan(60);
  });

  it('boots systemd as PID 1 to running (or degraded, naming the failed units)', () => {
    const state = sbx.ssh('sbx-1', 'systemctl is-system-running').stdout.trim();
    const failed = sbx.ssh('sbx-1', 'systemctl --failed --plain --no-legend').stdout.trim();
    expect(['running', 'degraded'], `state ${state}; failed units: ${failed}`).toContain(state);
    if (state === 'degraded') console.warn(`sbx-1 is degraded; failed units:\n${failed}`);
    expect(sbx.ssh('sbx-1', 'cat /proc/1/comm')).toMatchObject({ code: 0, stdout: 'systemd\n' });
    expect(sbx.ssh('sbx-1', 'hostname').stdout).toBe('sbx-1\n');
  });

  it('runs sshd and monit as systemd services', () => {
    expect(sbx.ssh('sbx-1', 'systemctl is-active ssh monit')).toMatchObject({
      code: 0,
      stdout: 'active\nactive\n',
    });
    const status = sbx.ssh('sbx-1', 'monit status && monit reload');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("System 'sbx-1'");
  });

  it('lets deploy in with passwordless sudo', () => {
    expect(
      sbx.ssh('sbx-1', 'id -un && sudo -n systemctl is-system-running', { user: 'deploy' }),
    ).toMatchObject({ code: 0, stdout: expect.stringMatching(/^deploy\n(running|degraded)\n$/) });
  });

  it('keeps writes in the volatile overlay, off the machine', () => {
    expect(
      sbx.ssh('sbx-1', `mkdir /var/www/${tag} /etc/${tag} && useradd ${tag.slice(0, 30)}`).code,
    ).toBe(0);
    expect(existsSync(`/var/www/${tag}`)).toBe(false);
    expect(existsSync(`/etc/${tag}`)).toBe(false);
  });

  it('presents its own host key, not the machine one', () => {
    const known = readFileSync(sbx.inventory.knownHostsFile, 'utf8').trim().split(' ');
    expect(known[0]).toBe(sbx.host('sbx-1').address);
    for (const file of ['/etc/ssh/ssh_host_ed25519_key.pub', '/etc/ssh/ssh_host_rsa_key.pub']) {
      if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toContain(known[2]);
    }
    // Strict host key checking against that line passes (every ssh() above relies on it).
    expect(sbx.ssh('sbx-1', 'true').code).toBe(0);
  });

  it('down powers the host off and leaves nothing', async () => {
    const snapshot = snapshotSandbox(sbx.stateDir);
    expect(snapshot.processes.map((p) => p.role).sort()).toEqual(['leader', 'nspawn']);
    expect(snapshot.inside.length).toBeGreaterThan(5);
    // The host's console log (nspawn's own output too), held open: down removes the file. When
    // the container powers itself off, its PID 1 ends by reboot(), which nspawn reports as "has
    // been shut down"; a host killed after down's 20 s poweroff timeout never gets there.
    const log = openSync(join(realpathSync(sbx.stateDir), 'hosts', 'sbx-1', 'host.log'), 'r');
    try {
      const started = Date.now();
      const result = await sbx.svc(['sandbox', 'down', '--state-dir', sbx.stateDir]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const said = readFileSync(log, 'utf8');
      expect(said).toMatch(/^Container \S+ has been shut down\.$/m);
      // A backstop only: the poweroff's 20 s timeout, svc's start-up and its waits, on a busy
      // machine.
      expect(Date.now() - started).toBeLessThan(45_000);
    } finally {
      closeSync(log);
    }
    expect(leftovers(snapshot)).toEqual([]);
  }, 90_000);
});
