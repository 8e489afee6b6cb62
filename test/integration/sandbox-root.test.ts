// Root inside a light sandbox host is not the machine's root: tried from inside, over SSH as the
// host's root, every way back to the machine's filesystem fails (unmount what hides it, remount it
// writable, mount something new, make a disk device, write a kernel setting, rewrite the host's own
// state directory), and markers the test put on the real filesystem stay untouched. Deploys still
// work as root there: deploy.test.ts and lifecycle.test.ts run on these hosts.
//
// Needs root, a built dist/ and the packages in .ci/run. SVC_SKIP_SANDBOX=1 skips it.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxSupport, startSandbox, type Sandbox } from '../helpers/sandbox.js';

const tag = `svc-sbx-root-${randomBytes(4).toString('hex')}`;
/** On the machine's root filesystem (read-only in the host), and in its /tmp (hidden by a tmpfs). */
const markers = [`/${tag}`, `/tmp/${tag}`];

/**
 * Each attempt runs as root in the host and must fail; after each, the markers on the machine
 * (its / and the /tmp the host's tmpfs hides) must be as the test wrote them.
 */
const attempts: Record<string, string> = {
  'umount /tmp': 'umount /tmp',
  'umount -l /tmp': 'umount -l /tmp',
  'remount / rw': `mount -o remount,rw / && echo changed > /${tag}`,
  'write / directly': `echo changed > /${tag}`,
  'remove a file on /': `rm -f /${tag}`,
  'mount a new tmpfs': 'mount -t tmpfs tmpfs /mnt',
  'bind-mount /': 'mkdir -p /tmp/r && mount --bind / /tmp/r',
  'make a disk device': 'mknod /tmp/disk b 8 0',
  // Writing back the value it has: harmless should it ever succeed.
  'write a kernel setting': 'cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern',
  'enter the holder': 'nsenter -t 1 -m true',
  "rewrite the host's state directory": 'touch /run/svc-sandbox/planted',
};

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('svc sandbox: root in a light host', () => {
  let sbx: Sandbox;

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    for (const marker of markers) writeFileSync(marker, 'real\n');
    sbx = await startSandbox({ count: 1, user: 'root' });
  });

  afterAll(async () => {
    await sbx?.down();
    for (const marker of markers) rmSync(marker, { force: true });
  });

  it('is root, and can still do what a deploy needs: chown, useradd, sudo', () => {
    const result = sbx.ssh(
      'sbx-1',
      'id -u && useradd --system svc-probe && install -d -o svc-probe /var/www/probe && stat -c %U /var/www/probe && su -s /bin/sh svc-probe -c "id -un" && sudo -n -u svc-probe id -un',
    );
    expect(result).toMatchObject({ code: 0, stdout: '0\nsvc-probe\nsvc-probe\nsvc-probe\n' });
  });

  it.each(Object.entries(attempts))('cannot %s', (_, command) => {
    const result = sbx.ssh('sbx-1', `${command}; echo "exit=$?"`);
    expect(result.stdout).not.toMatch(/exit=0\n$/);
    expect(result.stdout).toMatch(/exit=\d+\n$/);
    for (const marker of markers) expect(readFileSync(marker, 'utf8')).toBe('real\n');
    expect(existsSync(join(sbx.stateDir, 'hosts', 'sbx-1', 'planted'))).toBe(false);
  });

  it('has no CAP_SYS_ADMIN (nor may anything it starts gain it, nor any process to ptrace with it), and a /dev without disks', () => {
    const result = sbx.ssh(
      'sbx-1',
      "grep CapBnd /proc/self/status; sudo -n grep CapBnd /proc/self/status; grep CapBnd /proc/1/status; find /dev -type b | wc -l; ls /dev | tr '\\n' ' '",
    );
    const [bounding, viaSudo, pid1, blockDevices, devices] = result.stdout.split('\n');
    for (const line of [bounding!, viaSudo!, pid1!]) {
      const mask = BigInt(`0x${line.split(/\s+/)[1]}`);
      expect(mask & (1n << 21n)).toBe(0n); // CAP_SYS_ADMIN
      expect(mask & (1n << 16n)).toBe(0n); // CAP_SYS_MODULE
      expect(mask & (1n << 27n)).toBe(0n); // CAP_MKNOD
    }
    expect(blockDevices).toBe('0');
    expect(devices).toBe('fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ');
  });
});
