// The strict parser of what the trace's bpftrace program printed (core/trace-tools.ts): its
// three maps, keyed by system call number (`@c[232]: 17` calls, `@e[…]` errors, `@ns[…]`
// nanoseconds inside the call), turned into the syscall rows strace's summary gives. Pure.
import { syscallName } from './syscall-names.js';
import type { SyscallRow } from './trace-report.js';

const MAP_LINE = /^@(c|e|ns)\[(\d{1,4})\]: (\d{1,19})$/;
/** bpftrace's own line before the maps; and print() leaves blank lines between them. */
const ATTACHING = /^Attaching \d+ probes?\.\.\.$/;

export interface BpftraceCounts {
  syscalls: SyscallRow[];
  total: { calls: number; errors: number; seconds: number };
}

/** Throws `why: "line"` for anything it does not know; the caller adds the host. */
export function parseBpftraceMaps(lines: readonly string[], arch: string): BpftraceCounts {
  const maps = {
    c: new Map<number, number>(),
    e: new Map<number, number>(),
    ns: new Map<number, number>(),
  };
  for (const line of lines) {
    if (line === '' || ATTACHING.test(line)) continue;
    const match = MAP_LINE.exec(line);
    if (!match) throw new Error(`not a bpftrace count: ${JSON.stringify(line.slice(0, 80))}`);
    const map = maps[match[1] as 'c' | 'e' | 'ns'];
    const nr = Number(match[2]);
    if (map.has(nr)) throw new Error(`a count twice: ${JSON.stringify(line)}`);
    map.set(nr, Number(match[3]));
  }
  for (const nr of [...maps.e.keys(), ...maps.ns.keys()])
    if (!maps.c.has(nr)) throw new Error(`a syscall without calls: ${nr}`);
  const syscalls = [...maps.c].map(([nr, calls]): SyscallRow => {
    const ns = maps.ns.get(nr) ?? 0;
    return {
      name: syscallName(arch, nr),
      calls,
      errors: maps.e.get(nr) ?? 0,
      seconds: ns / 1e9,
      usecsPerCall: calls > 0 ? Math.round(ns / calls / 1000) : 0,
    };
  });
  const sum = (map: Map<number, number>) => [...map.values()].reduce((a, b) => a + b, 0);
  const total = {
    calls: sum(maps.c),
    errors: sum(maps.e),
    seconds: sum(maps.ns) / 1e9,
  };
  return { syscalls, total };
}
