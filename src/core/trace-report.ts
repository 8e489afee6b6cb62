// `svc trace`'s report of one host: the strict parser of trace-script.ts's output (the tracer's
// counts: strace's summary table or bpftrace's maps, core/trace-bpftrace.ts; the tools passed
// over and why; the descriptors the calls touched and those open at the end), what the process
// waited on, and the text shown. Pure.
import { parseBpftraceMaps } from './trace-bpftrace.js';
import { TRACE_FORMAT } from './trace-script.js';
import { visible } from './visible.js';
import { decodeHex } from './hex-text.js';

export interface SyscallRow {
  name: string;
  calls: number;
  errors: number;
  /** Wall-clock seconds inside the call (strace -w), all calls together. */
  seconds: number;
  usecsPerCall: number;
}

/** The tracers the trace script can run, in the order it tries them. */
export const TRACERS = ['bpftrace', 'sysdig', 'strace'] as const;

export interface TraceReport {
  tool: 'bpftrace' | 'strace';
  /** The host's machine (uname -m): bpftrace's calls are numbers, named for it. */
  arch: string;
  /** Tools tried before this one, and why each was passed over. */
  skipped: { tool: string; reason: string }[];
  pids: number[];
  syscalls: SyscallRow[];
  total?: { calls: number; errors: number; seconds: number };
  /** Descriptors named by the calls (strace -yy only): path, socket, pipe; most used first. */
  touched: { what: string; calls: number }[];
  /** Descriptors open when the trace ended, by path or kind. */
  open: { what: string; count: number }[];
  /** Calls that block, by the share of the traced time spent in them. */
  waiting: { name: string; percent: number }[];
  /** What the tracer said on stderr (a refused attach, say). */
  tracerSaid?: string;
}

/** System calls in which a process sits waiting for something else. */
const BLOCKING = new Set([
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'poll',
  'ppoll',
  'select',
  'pselect6',
  'futex',
  'nanosleep',
  'clock_nanosleep',
  'accept',
  'accept4',
  'read',
  'recvfrom',
  'recvmsg',
  'wait4',
  'waitid',
  'pause',
  'rt_sigsuspend',
  'rt_sigtimedwait',
  'io_getevents',
  'io_uring_enter',
]);

const SUMMARY = /^\s*(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\d+)\s+(?:(\d+)\s+)?([a-z_][a-z0-9_]*)$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

export function parseTraceOutput(output: string, host: string): TraceReport {
  const lines = output.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (line: string, why: string) =>
    new Error(`${host}: unexpected trace output (${why}): ${JSON.stringify(line.slice(0, 80))}`);
  if (lines[0] !== `B ${TRACE_FORMAT}`) throw bad(lines[0] ?? '', 'not the start of a trace');
  if (lines.at(-1) !== 'E') throw bad(lines.at(-1) ?? '', 'truncated: no end marker');
  const report: TraceReport = {
    tool: 'strace',
    arch: '',
    skipped: [],
    pids: [],
    syscalls: [],
    touched: [],
    open: [],
    waiting: [],
  };
  const order = ['S', 'W', 'P', 'Y', 'T', 'O', 'X'];
  let last = -1;
  let tool: string | undefined;
  const counted: string[] = [];
  for (const line of lines.slice(1, -1)) {
    const fields = line.split('\t');
    const tag = fields[0]!;
    const index = order.indexOf(tag);
    if (index < 0) throw bad(line, 'unknown record');
    // W and X once; the others repeat, in this order.
    if (index < last || (index === last && (tag === 'W' || tag === 'X')))
      throw bad(line, 'out of place');
    last = index;
    const hex = (value: string | undefined) => {
      if (value === undefined || !HEX.test(value)) throw bad(line, 'not hex');
      return decodeHex(value);
    };
    const count = (value: string | undefined) => {
      if (value === undefined || !/^\d{1,15}$/.test(value)) throw bad(line, 'not a number');
      return Number(value);
    };
    const arity = { S: 3, W: 3, P: 2, Y: 2, T: 3, O: 3, X: 2 }[tag]!;
    if (fields.length !== arity) throw bad(line, 'fields');
    if (tag === 'S') {
      if (!(TRACERS as readonly string[]).includes(fields[1]!)) throw bad(line, 'unknown tracer');
      report.skipped.push({ tool: fields[1]!, reason: hex(fields[2]) });
    } else if (tag === 'W') {
      if (fields[1] !== 'bpftrace' && fields[1] !== 'strace') throw bad(line, 'unknown tracer');
      if (!/^[a-z0-9_]{1,32}$/.test(fields[2]!)) throw bad(line, 'not a machine name');
      tool = report.tool = fields[1];
      report.arch = fields[2]!;
    } else if (tag === 'P') report.pids.push(count(fields[1]));
    else if (tag === 'T') report.touched.push({ calls: count(fields[1]), what: hex(fields[2]) });
    else if (tag === 'O') report.open.push({ count: count(fields[1]), what: hex(fields[2]) });
    else if (tag === 'X') {
      const said = hex(fields[1]).trim();
      if (said !== '') report.tracerSaid = said;
    } else if (tool === undefined) throw bad(line, 'before the tracer is named');
    else if (tool === 'bpftrace') counted.push(hex(fields[1]));
    else {
      const text = hex(fields[1]);
      const match = SUMMARY.exec(text);
      if (!match) continue; // the header and the dashed rules
      const row = {
        name: match[6]!,
        calls: Number(match[4]),
        errors: Number(match[5] ?? 0),
        seconds: Number(match[2]),
        usecsPerCall: Number(match[3]),
      };
      if (row.name === 'total')
        report.total = { calls: row.calls, errors: row.errors, seconds: row.seconds };
      else report.syscalls.push(row);
    }
  }
  if (tool === undefined) throw new Error(`${host}: trace output names no tracer`);
  if (tool === 'bpftrace') {
    try {
      Object.assign(report, parseBpftraceMaps(counted, report.arch));
    } catch (error) {
      throw new Error(`${host}: unexpected trace output (${(error as Error).message})`);
    }
  }
  report.syscalls.sort((a, b) => b.seconds - a.seconds || b.calls - a.calls);
  // Shares of the tracer's own total (strace's "% time" column), else of the rows read.
  const totalSeconds =
    report.total?.seconds ?? report.syscalls.reduce((sum, row) => sum + row.seconds, 0);
  report.waiting =
    totalSeconds > 0
      ? report.syscalls
          .filter((row) => BLOCKING.has(row.name))
          .slice(0, 3)
          .map((row) => ({
            name: row.name,
            percent: Math.round((row.seconds / totalSeconds) * 1000) / 10,
          }))
      : [];
  return report;
}

/** The report as text: the syscall table, then waiting, touched and open descriptors. */
export function traceText(host: string, report: TraceReport): string[] {
  const lines = [`${visible(host)}: ${report.tool}, pids ${report.pids.join(' ')}`];
  if (report.skipped.length > 0)
    lines.push(
      `  not used: ${report.skipped.map((s) => `${s.tool} (${visible(s.reason)})`).join('; ')}`,
    );
  if (report.syscalls.length === 0) {
    lines.push(
      `  no system calls seen${report.tracerSaid ? `: ${visible(report.tracerSaid)}` : ''}`,
    );
  } else {
    const rows = report.syscalls
      .slice(0, 15)
      .map((row) => [
        row.name,
        String(row.calls),
        String(row.errors),
        row.seconds.toFixed(6),
        String(row.usecsPerCall),
      ]);
    const header = ['SYSCALL', 'CALLS', 'ERRORS', 'SECONDS', 'USECS/CALL'];
    const widths = header.map((title, i) =>
      Math.max(title.length, ...rows.map((r) => r[i]!.length)),
    );
    for (const row of [header, ...rows])
      lines.push(
        `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`,
      );
    if (report.syscalls.length > 15) lines.push(`  ... ${report.syscalls.length - 15} more`);
  }
  if (report.waiting.length > 0)
    lines.push(
      `  waiting: ${report.waiting.map((w) => `${w.name} ${w.percent.toFixed(1)}%`).join(', ')}`,
    );
  if (report.touched.length > 0)
    lines.push(
      `  touched most: ${report.touched
        .slice(0, 8)
        .map((t) => `${visible(t.what)} (${t.calls})`)
        .join(', ')}`,
    );
  if (report.open.length > 0)
    lines.push(
      `  open now: ${report.open
        .slice(0, 8)
        .map((o) => `${visible(o.what)} (${o.count})`)
        .join(', ')}`,
    );
  return lines;
}
