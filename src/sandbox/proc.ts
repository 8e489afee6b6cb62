// Processes the sandbox started, and nothing else. A pid alone is not an identity (the kernel
// reuses pids, and start times repeat after a reboot), so every record carries the process's start
// time from /proc/PID/stat and the boot id; a process is "ours" only while all three match. Nothing
// here looks a process up by name. (teardown.ts also checks it is inside the host: a record is
// read from the state directory, so it is a claim, not a proof.)
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SvcError } from '../core/errors.js';

export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot when the process started. */
  start: string;
  /** What it is, for messages: unshare, holder, sshd, monit, nspawn, leader. */
  role: string;
  /** /proc/sys/kernel/random/boot_id when it was recorded: a start time means nothing across boots. */
  boot: string;
}

export interface ProcStat {
  comm: string;
  state: string;
  ppid: number;
  start: string;
}

/** /proc/PID/stat: the command is in parentheses and may itself contain ") ". */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); starttime is field 22.
  const [state, ppid] = fields;
  const start = fields[19];
  if (!state || !ppid || !start) return undefined;
  return { comm: text.slice(open + 1, close), state, ppid: Number(ppid), start };
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

let bootIdCache: string | undefined;
/** This boot of the machine (a fresh random id per boot). */
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return bootIdCache;
}

/** Record a process we just started (or found as a child of one we started). */
export function recordProcess(pid: number, role: string): ProcessRecord | undefined {
  const stat = readProcStat(pid);
  return stat && { pid, start: stat.start, role, boot: bootId() };
}

/** Still running, and still the process we recorded. A zombie has finished: it only awaits reaping. */
export function isAlive(record: ProcessRecord): boolean {
  if (record.boot !== bootId()) return false;
  const stat = readProcStat(record.pid);
  return stat !== undefined && stat.start === record.start && !['Z', 'X', 'x'].includes(stat.state);
}

/** The cgroup paths of a process, one per hierarchy (/proc/PID/cgroup: ID:CONTROLLERS:PATH). */
export function cgroupsOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(':').slice(2).join(':'));
  } catch {
    return [];
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The network namespace a process is in, as the kernel names it (net:[INODE]). */
export function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Send a signal to a recorded process, only if it is still that process. */
export function signal(record: ProcessRecord, name: NodeJS.Signals): void {
  if (!isAlive(record)) return;
  try {
    process.kill(record.pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Poll until `done()` or the deadline; every wait in the sandbox is bounded. */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Wait (bounded) for recorded processes to end; returns those still alive. */
export async function waitForExit(
  records: readonly ProcessRecord[],
  timeoutMs: number,
): Promise<ProcessRecord[]> {
  await waitUntil(() => records.every((record) => !isAlive(record)), timeoutMs);
  return records.filter(isAlive);
}

function describeCommand(argv: readonly string[]): string {
  return argv.length > 5 ? `${argv.slice(0, 5).join(' ')} ...` : argv.join(' ');
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command (argv, never a shell line) and report how it ended; bounded by a timeout. */
export function execute(
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file!,
      args,
      { encoding: 'utf8', timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        if (typeof error.code === 'number') {
          return resolve({ code: error.code, stdout, stderr: error.killed ? 'timed out' : stderr });
        }
        if (error.killed) return resolve({ code: -1, stdout, stderr: 'timed out' });
        reject(new SvcError(`${describeCommand(argv)}: ${error.message}`));
      },
    );
    // A command may exit without reading its input; that is its answer, not an error here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}

/** Run a command that must succeed; a failure becomes one line naming the command. */
export async function run(
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const result = await execute(argv, options);
  if (result.code === 0) return result;
  const why = result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`;
  throw new SvcError(`${describeCommand(argv)}: ${why}`);
}

/** Live (not zombie) processes in a network namespace, by its inode: what killing PID 1 ends. */
export function livePidsInNetns(netnsInode: number): number[] {
  const wanted = `net:[${netnsInode}]`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => netnsOf(pid) === wanted && readProcStat(pid)?.state !== 'Z');
}
