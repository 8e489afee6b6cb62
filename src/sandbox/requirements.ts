// What the sandbox needs from the machine, checked before anything is created so a missing piece
// is one line naming the Debian package, not a failure halfway through.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SvcError } from '../core/errors.js';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new SvcError('svc sandbox needs root (it creates network namespaces and mounts)');
  }
}

interface Tool {
  name: string;
  package: string;
  /** Run inside the host by absolute path, so found there rather than on PATH. */
  path?: string;
}

const COMMON: Tool[] = [
  { name: 'ip', package: 'iproute2' },
  { name: 'ssh-keygen', package: 'openssh-client' },
  { name: 'sshd', package: 'openssh-server', path: '/usr/sbin/sshd' },
  { name: 'monit', package: 'monit', path: '/usr/bin/monit' },
  { name: 'sudo', package: 'sudo', path: '/usr/bin/sudo' },
  { name: 'useradd', package: 'passwd' },
];
const LIGHT: Tool[] = [{ name: 'unshare', package: 'util-linux' }];
const SYSTEMD: Tool[] = [
  { name: 'systemd-nspawn', package: 'systemd-container' },
  { name: 'nsenter', package: 'util-linux' },
  { name: 'systemd', package: 'systemd', path: '/lib/systemd/systemd' },
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function found(tool: Tool): boolean {
  if (tool.path) return executable(tool.path);
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  return dirs.some((dir) => dir !== '' && executable(join(dir, tool.name)));
}

export function requireTools(kind: 'light' | 'systemd'): void {
  const tools = [...COMMON, ...(kind === 'systemd' ? SYSTEMD : LIGHT)];
  const missing = tools.filter((tool) => !found(tool));
  if (missing.length > 0) {
    const list = missing.map((tool) => `${tool.name} (Debian package ${tool.package})`);
    throw new SvcError(`svc sandbox needs ${list.join(', ')}: install it and try again`);
  }
}
