// Fault injection on sandbox hosts, from outside svc: a wrapper that pauses one step of a deploy
// at a known point, and the ways a connection can die (its sshd session killed, the host's
// network link down, sshd restarted). Only processes and links the sandbox made are touched,
// by pid or by name from the sandbox's own records.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../helpers/sandbox.js';

export const REACHED = '/tmp/svc-fault-reached';

/**
 * Puts /usr/local/bin/NAME (first on the apply script's PATH) in front of the real command: the
 * first call whose arguments match `when` (a sh condition over "$@") marks REACHED and sleeps
 * `seconds` before going on; every other call goes straight through.
 */
export function pauseAt(
  sbx: Sandbox,
  host: string,
  command: string,
  when: string,
  seconds: number,
): void {
  const real = root(sbx, host, `PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ${command}`).trim();
  const wrapper = [
    '#!/bin/sh',
    `if [ ! -e ${REACHED} ] && { ${when}; }; then : > ${REACHED}; sleep ${seconds}; fi`,
    `exec ${real} "$@"`,
  ].join('\n');
  root(
    sbx,
    host,
    `rm -f ${REACHED} && cat > /usr/local/bin/${command} && chmod 755 /usr/local/bin/${command}`,
    `${wrapper}\n`,
  );
}

export function removePauses(sbx: Sandbox, host: string, commands: readonly string[]): void {
  root(sbx, host, `rm -f ${REACHED} ${commands.map((c) => `/usr/local/bin/${c}`).join(' ')}`);
}

/** Waits until a pause was reached on the host; false after `seconds`. */
export async function reached(sbx: Sandbox, host: string, seconds = 30): Promise<boolean> {
  for (let waited = 0; waited < seconds * 10; waited++) {
    if (sbx.ssh(host, `test -e ${REACHED}`, { user: 'root' }).code === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

export function root(sbx: Sandbox, host: string, command: string, input?: string): string {
  const result = sbx.ssh(host, command, { user: 'root', ...(input !== undefined && { input }) });
  if (result.code !== 0) throw new Error(`${host}: ${command}: ${result.stderr}`);
  return result.stdout;
}

/**
 * A command as the machine's root inside the host's namespaces (nsenter into its holder): for
 * faults the host's own root may not cause, like remounting a filesystem (it has no CAP_SYS_ADMIN).
 */
export function hostAdmin(sbx: Sandbox, host: string, command: string): string {
  const holder = String(sbx.host(host).pid);
  return execFileSync(
    'nsenter',
    ['-t', holder, '-m', '-u', '-i', '-n', '-p', '--', 'sh', '-c', command],
    { encoding: 'utf8' },
  );
}

interface HostRecordFile {
  veth: string;
  processes: { pid: number; role: string }[];
}

function record(sbx: Sandbox, host: string): HostRecordFile {
  return JSON.parse(
    readFileSync(join(sbx.stateDir, 'hosts', host, 'record.json'), 'utf8'),
  ) as HostRecordFile;
}

function sshdListener(sbx: Sandbox, host: string): number {
  const sshd = record(sbx, host).processes.find((p) => p.role === 'sshd');
  if (!sshd) throw new Error(`${host}: no sshd in the sandbox record`);
  return sshd.pid;
}

/** Child pids of `pid`, with their command names. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const children: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (ppid === pid) children.push({ pid: Number(entry), comm });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * Cuts every SSH connection to the host at once: SIGKILL to each session's sshd processes (the
 * listener's children, and their sshd children that carry the connection after privilege
 * separation). What those sessions started keeps running, as after a real drop.
 */
export function cutConnections(sbx: Sandbox, host: string): number {
  const sessions = childrenOf(sshdListener(sbx, host));
  const carriers = sessions.flatMap((session) =>
    childrenOf(session.pid).filter((child) => child.comm === 'sshd'),
  );
  for (const { pid } of [...carriers, ...sessions]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // it ended with the other half of its session
    }
  }
  return sessions.length;
}

/** sshd restarted as a service manager does it: SIGHUP, and sshd re-executes itself. */
export function restartSshd(sbx: Sandbox, host: string): void {
  process.kill(sshdListener(sbx, host), 'SIGHUP');
}

/** The host's network link, from the machine's side of its veth pair. */
export function setLink(sbx: Sandbox, host: string, state: 'up' | 'down'): void {
  execFileSync('ip', ['link', 'set', record(sbx, host).veth, state]);
}
