// What eBPF tracing this machine has attached right now, read from /proc (no bpftool needed):
// the processes holding a tracepoint BPF program. A program lives only while a descriptor (the
// loader's, or its perf event's) refers to it, so none held means none attached.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** BPF_PROG_TYPE_TRACEPOINT, as /proc/PID/fdinfo/FD shows it (`prog_type:\t5`). */
const TRACEPOINT = /^prog_type:\s+5$/m;

/** `pid:fd` of every descriptor, machine-wide, that holds a tracepoint BPF program. */
export function tracepointPrograms(): string[] {
  const held: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
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
