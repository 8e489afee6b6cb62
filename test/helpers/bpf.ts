// What eBPF tracing this machine has attached right now, read from /proc (no bpftool needed):
// the processes holding a tracepoint BPF program. A program lives only while a descriptor (the
// loader's, or its perf event's) refers to it, so none held means none attached.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** BPF_PROG_TYPE_TRACEPOINT, as /proc/PID/fdinfo/FD shows it (`prog_type:\t5`). */
const TRACEPOINT = /^prog_type:\s+5$/m;

/**
 * `pid:fd` of every descriptor that holds a tracepoint BPF program, in the processes `mine` keeps
 * (machine-wide without it). Test files run at once: each looks only at its own tracers.
 */
export function tracepointPrograms(mine: (pid: string) => boolean = () => true): string[] {
  const held: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && mine(name))) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone meanwhile
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
        if (TRACEPOINT.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')))
          held.push(`${pid}:${fd}`);
      } catch {
        // closed meanwhile
      }
    }
  }
  return held;
}

/** A process whose environment carries `marker` (what a test set on the tracer it started). */
export function carries(marker: string): (pid: string) => boolean {
  return (pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
    } catch {
      return false; // gone meanwhile
    }
  };
}

/** A process in the pid namespace of process `of` (a sandbox host's PID 1). */
export function inPidNamespaceOf(of: number): (pid: string) => boolean {
  const ns = readlinkSync(`/proc/${of}/ns/pid`);
  return (pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`) === ns;
    } catch {
      return false; // gone meanwhile
    }
  };
}

/** The bpftrace processes `mine` keeps. */
export function bpftraceProcesses(mine: (pid: string) => boolean): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid) || !mine(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bpftrace';
    } catch {
      return false;
    }
  });
}
