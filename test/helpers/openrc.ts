// OpenRC hosts for tests: light sandbox hosts where Debian 12's OpenRC (0.45) runs services with
// the real openrc-run, supervise-daemon and rc-service, while the host's PID 1 stays the
// sandbox's holder. Installing Debian's openrc on this machine would replace its init, so
// scripts/fetch-openrc (run by .ci/run) only downloads the .deb files; here they are unpacked and
// copied into a host's /usr and /etc overlays (writes that land in the sandbox's state
// directory, never on the machine), and OpenRC's state in the host's own /run is made by
// `openrc sysinit` and `openrc default`, as a booting host would.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from './sandbox.js';

const DEBS = fileURLToPath(new URL('../.openrc/debs/', import.meta.url));
const PACKAGES = ['openrc', 'librc1', 'libeinfo1', 'insserv'];

/** undefined when the OpenRC packages are here; else what to run. */
export function openrcSupport(): string | undefined {
  const have = existsSync(DEBS) ? readdirSync(DEBS) : [];
  const missing = PACKAGES.filter((p) => !have.some((file) => file.startsWith(`${p}_`)));
  return missing.length === 0
    ? undefined
    : `the OpenRC packages are missing (${missing.join(', ')}): run scripts/fetch-openrc (see .ci/run)`;
}

/**
 * On the host, as root: unpack what arrives on stdin over / (following the host's /sbin -> usr/sbin
 * links), then boot OpenRC's state. The network is the sandbox's, up before the host: like a
 * container, OpenRC is told it is provided (rc_provide), so a script's `need net` is met as on a
 * host whose networking service has started.
 */
const BOOT = `set -e
tar -C / --keep-directory-symlink --no-same-owner -xf -
printf 'rc_provide="loopback net"\\n' >> /etc/rc.conf
mkdir -p /run/openrc
openrc sysinit >/dev/null 2>&1
openrc default >/dev/null 2>&1
test -f /run/openrc/softlevel
`;

/** Makes every host of the sandbox an OpenRC host. */
export function installOpenrc(sbx: Sandbox): void {
  const unsupported = openrcSupport();
  if (unsupported) throw new Error(unsupported);
  const root = mkdtempSync(join(tmpdir(), 'svc-openrc-root-'));
  try {
    for (const deb of readdirSync(DEBS).filter((f) => f.endsWith('.deb'))) {
      execFileSync('dpkg-deb', ['-x', join(DEBS, deb), root]);
    }
    // Documentation and shell completions are not needed to run services.
    // The top directories by name, not `.`: / itself is not the host's to touch.
    const top = readdirSync(root);
    const archive = execFileSync('tar', ['-C', root, '--exclude=usr/share', '-cf', '-', ...top], {
      maxBuffer: 64 << 20,
    });
    for (const host of sbx.inventory.hosts) {
      const [file, ...args] = sbx.sshArgs(host.name, 'root');
      const result = spawnSync(file!, [...args, BOOT], { input: archive, timeout: 60_000 });
      if (result.status !== 0) {
        throw new Error(`${host.name}: OpenRC did not boot: ${String(result.stderr).trim()}`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
