// svc trace's report (src/core/trace-report.ts): the parser of the trace script's output, with
// strace 6.1's own summary lines (taken from `strace -f -C -w -y -o FILE`), hostile or broken
// output refused with its exact error line, what the process waited on, and the text shown.
import { describe, expect, it } from 'vitest';
import { parseTraceOutput, traceText, type TraceReport } from '../../src/core/trace-report.js';

const hex = (text: string) => Buffer.from(text).toString('hex');

// strace 6.1's -C -w summary, as it printed it here.
const SUMMARY = [
  '% time     seconds  usecs/call     calls    errors syscall',
  '------ ----------- ----------- --------- --------- ----------------',
  ' 54.94    0.046317       11579         4         2 wait4',
  '  8.26    0.006965         116        60           mmap',
  '  7.41    0.006245          99        63        16 newfstatat',
  '  0.09    0.000076          38         2           write',
  '------ ----------- ----------- --------- --------- ----------------',
  '100.00    0.084302         234       359        52 total',
];

function output(
  parts: { summary?: string[]; extra?: string[]; x?: string; skipped?: string[] } = {},
): string {
  return [
    'B svc-trace 2',
    ...(parts.skipped ?? []),
    'W\tstrace\tx86_64',
    'P\t42',
    'P\t43',
    ...(parts.summary ?? SUMMARY).map((line) => `Y\t${hex(line)}`),
    `T\t120\t${hex('TCP:[127.0.0.1:3000->10.1.0.1:5000]')}`,
    `T\t7\t${hex('/var/log/api-orders/api-orders.log')}`,
    `O\t12\t${hex('socket')}`,
    `O\t1\t${hex('/dev/null')}`,
    ...(parts.extra ?? []),
    `X\t${hex(parts.x ?? '')}`,
    'E',
    '',
  ].join('\n');
}

const FULL: TraceReport = {
  tool: 'strace',
  arch: 'x86_64',
  skipped: [],
  pids: [42, 43],
  syscalls: [
    { name: 'wait4', calls: 4, errors: 2, seconds: 0.046317, usecsPerCall: 11579 },
    { name: 'mmap', calls: 60, errors: 0, seconds: 0.006965, usecsPerCall: 116 },
    { name: 'newfstatat', calls: 63, errors: 16, seconds: 0.006245, usecsPerCall: 99 },
    { name: 'write', calls: 2, errors: 0, seconds: 0.000076, usecsPerCall: 38 },
  ],
  total: { calls: 359, errors: 52, seconds: 0.084302 },
  touched: [
    { calls: 120, what: 'TCP:[127.0.0.1:3000->10.1.0.1:5000]' },
    { calls: 7, what: '/var/log/api-orders/api-orders.log' },
  ],
  open: [
    { count: 12, what: 'socket' },
    { count: 1, what: '/dev/null' },
  ],
  waiting: [{ name: 'wait4', percent: 54.9 }],
};

describe('parseTraceOutput', () => {
  it('reads the summary, the descriptors touched and open, and what it waited on', () => {
    expect(parseTraceOutput(output(), 'web1')).toStrictEqual(FULL);
  });

  it('sorts by time, then calls, whatever order the summary had', () => {
    const summary = [SUMMARY[0]!, SUMMARY[5]!, SUMMARY[3]!, SUMMARY[2]!, SUMMARY[4]!];
    expect(parseTraceOutput(output({ summary }), 'web1').syscalls.map((r) => r.name)).toEqual([
      'wait4',
      'mmap',
      'newfstatat',
      'write',
    ]);
  });

  it('keeps what the tracer said, and reports no calls when it could not attach', () => {
    const report = parseTraceOutput(
      output({
        summary: [],
        x: 'strace: attach: ptrace(PTRACE_SEIZE, 42): Operation not permitted\n',
      }),
      'web1',
    );
    expect(report.syscalls).toStrictEqual([]);
    expect(report.waiting).toStrictEqual([]);
    expect(report.tracerSaid).toBe(
      'strace: attach: ptrace(PTRACE_SEIZE, 42): Operation not permitted',
    );
    expect(traceText('web1', report)).toEqual([
      'web1: strace, pids 42 43',
      '  no system calls seen: strace: attach: ptrace(PTRACE_SEIZE, 42): Operation not permitted',
      '  touched most: TCP:[127.0.0.1:3000->10.1.0.1:5000] (120), /var/log/api-orders/api-orders.log (7)',
      '  open now: socket (12), /dev/null (1)',
    ]);
  });

  it('waits: the blocking calls by their share of the time, at most three', () => {
    const summary = [
      SUMMARY[0]!,
      ' 60.00    0.600000        1000       600           epoll_wait',
      ' 20.00    0.200000         100      2000           futex',
      ' 10.00    0.100000          10     10000           writev',
      '  5.00    0.050000           5     10000           read',
      '  5.00    0.050000           5     10000        10 accept4',
    ];
    expect(parseTraceOutput(output({ summary }), 'web1').waiting).toStrictEqual([
      { name: 'epoll_wait', percent: 60 },
      { name: 'futex', percent: 20 },
      { name: 'read', percent: 5 },
    ]);
  });

  const errors: [string, string, string][] = [
    ['empty output', '', 'web1: unexpected trace output (not the start of a trace): ""'],
    [
      'no end marker',
      output().replace(/E\n$/, ''),
      `web1: unexpected trace output (truncated: no end marker): "X\\t"`,
    ],
    [
      'an unknown record',
      output({ extra: ['Z\t1'] }),
      'web1: unexpected trace output (unknown record): "Z\\t1"',
    ],
    [
      'a pid after the summary',
      output({ extra: ['P\t7'] }),
      'web1: unexpected trace output (out of place): "P\\t7"',
    ],
    [
      'a second tracer line',
      output().replace('P\t42', 'W\tstrace\tx86_64\nP\t42'),
      'web1: unexpected trace output (out of place): "W\\tstrace\\tx86_64"',
    ],
    [
      'a tracer svc does not know',
      output().replace('W\tstrace\tx86_64', 'W\tsysdig\tx86_64'),
      'web1: unexpected trace output (unknown tracer): "W\\tsysdig\\tx86_64"',
    ],
    [
      'a tracer line without the machine',
      output().replace('W\tstrace\tx86_64', 'W\tstrace'),
      'web1: unexpected trace output (fields): "W\\tstrace"',
    ],
    [
      'a machine name that is not one',
      output().replace('W\tstrace\tx86_64', 'W\tstrace\tx86 64'),
      'web1: unexpected trace output (not a machine name): "W\\tstrace\\tx86 64"',
    ],
    [
      'a tool passed over that svc does not know',
      output({ skipped: [`S\tdtrace\t${hex('x')}`] }),
      `web1: unexpected trace output (unknown tracer): "S\\tdtrace\\t${hex('x')}"`,
    ],
    [
      'a tool passed over after the tracer is named',
      output({ extra: [`S\tsysdig\t${hex('x')}`] }),
      `web1: unexpected trace output (out of place): "S\\tsysdig\\t${hex('x')}"`,
    ],
    [
      'counts before the tracer is named',
      output().replace('W\tstrace\tx86_64\n', ''),
      `web1: unexpected trace output (before the tracer is named): ${JSON.stringify(`Y\t${hex(SUMMARY[0]!)}`.slice(0, 80))}`,
    ],
    [
      'a count that is not a number',
      output({ extra: [`O\t-1\t${hex('x')}`] }),
      `web1: unexpected trace output (not a number): "O\\t-1\\t${hex('x')}"`,
    ],
    [
      'hex that is not hex',
      output({ extra: ['O\t1\tzz'] }),
      'web1: unexpected trace output (not hex): "O\\t1\\tzz"',
    ],
    [
      'a field too many',
      output({ extra: ['O\t1\t41\t41'] }),
      'web1: unexpected trace output (fields): "O\\t1\\t41\\t41"',
    ],
  ];
  it.each(errors)('refuses %s', (_, text, message) => {
    expect(() => parseTraceOutput(text, 'web1')).toThrow(new Error(message));
  });

  it('refuses output that names no tracer', () => {
    expect(() => parseTraceOutput('B svc-trace 2\nP\t1\nE\n', 'web1')).toThrow(
      new Error('web1: trace output names no tracer'),
    );
  });

  it('shows names from the host with their control characters made visible', () => {
    const report = parseTraceOutput(
      output().replace(hex('/dev/null'), hex('/tmp/\u001b[2Jx')),
      'web1',
    );
    expect(traceText('web1', report).at(-1)).toBe('  open now: socket (12), /tmp/\\x1b[2Jx (1)');
  });

  it('says which tools were passed over and why, before the table', () => {
    const report = parseTraceOutput(
      output({
        skipped: [
          `S\tbpftrace\t${hex('cannot attach: ERROR: Operation not permitted')}`,
          `S\tsysdig\t${hex('its kernel driver is not loaded (no /dev/scap0)\u001b[2J')}`,
        ],
      }),
      'web1',
    );
    expect(report.skipped).toStrictEqual([
      { tool: 'bpftrace', reason: 'cannot attach: ERROR: Operation not permitted' },
      { tool: 'sysdig', reason: 'its kernel driver is not loaded (no /dev/scap0)\u001b[2J' },
    ]);
    expect(traceText('web1', report).slice(0, 3)).toEqual([
      'web1: strace, pids 42 43',
      '  not used: bpftrace (cannot attach: ERROR: Operation not permitted); sysdig (its kernel driver is not loaded (no /dev/scap0)\\x1b[2J)',
      '  SYSCALL     CALLS  ERRORS   SECONDS  USECS/CALL',
    ]);
  });

  it('lays out the table', () => {
    expect(traceText('web1', FULL).slice(0, 7)).toEqual([
      'web1: strace, pids 42 43',
      '  SYSCALL     CALLS  ERRORS   SECONDS  USECS/CALL',
      '  wait4           4       2  0.046317       11579',
      '  mmap           60       0  0.006965         116',
      '  newfstatat     63      16  0.006245          99',
      '  write           2       0  0.000076          38',
      '  waiting: wait4 54.9%',
    ]);
  });
});
