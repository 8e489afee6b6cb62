// svc trace's bpftrace path (src/core/trace-bpftrace.ts and parseTraceOutput with W bpftrace):
// the maps bpftrace 0.17 printed here for the trace program (a shell loop starting `sleep`,
// captured from `bpftrace -e PROGRAM` on this machine), hostile or broken lines refused with
// their exact error line, and the report built from them.
import { describe, expect, it } from 'vitest';
import { parseBpftraceMaps } from '../../src/core/trace-bpftrace.js';
import { parseTraceOutput, traceText } from '../../src/core/trace-report.js';

const hex = (text: string) => Buffer.from(text).toString('hex');

// As bpftrace 0.17 printed it (trimmed to a few calls of each map; the blank lines are its own).
const CAPTURED = [
  'Attaching 6 probes...',
  '@c[230]: 9',
  '@c[61]: 19',
  '@c[3]: 188',
  '@c[257]: 300',
  '@c[59]: 10',
  '@e[61]: 10',
  '@e[257]: 130',
  '@ns[3]: 124175',
  '@ns[257]: 399282',
  '@ns[59]: 956553',
  '@ns[230]: 1825725463',
  '@ns[61]: 1881340738',
  '',
  '',
  '',
];

describe('parseBpftraceMaps', () => {
  it('names the calls for the machine and joins the three maps', () => {
    const counts = parseBpftraceMaps(CAPTURED, 'x86_64');
    expect(counts.syscalls).toStrictEqual([
      { name: 'clock_nanosleep', calls: 9, errors: 0, seconds: 1.825725463, usecsPerCall: 202858 },
      { name: 'wait4', calls: 19, errors: 10, seconds: 1.881340738, usecsPerCall: 99018 },
      { name: 'close', calls: 188, errors: 0, seconds: 0.000124175, usecsPerCall: 1 },
      { name: 'openat', calls: 300, errors: 130, seconds: 0.000399282, usecsPerCall: 1 },
      { name: 'execve', calls: 10, errors: 0, seconds: 0.000956553, usecsPerCall: 96 },
    ]);
    expect(counts.total).toStrictEqual({ calls: 526, errors: 140, seconds: 3.708546211 });
  });

  it('shows a number it has no name for as syscall_N, on any machine', () => {
    expect(parseBpftraceMaps(['@c[462]: 1'], 'x86_64').syscalls[0]!.name).toBe('syscall_462');
    expect(parseBpftraceMaps(['@c[0]: 1'], 'aarch64').syscalls[0]!.name).toBe('syscall_0');
  });

  it('reads nothing seen as no calls', () => {
    expect(parseBpftraceMaps(['Attaching 6 probes...', '', ''], 'x86_64')).toStrictEqual({
      syscalls: [],
      total: { calls: 0, errors: 0, seconds: 0 },
    });
  });

  const refused: [string, string[], string][] = [
    ['another map', ['@s[1]: 5'], 'not a bpftrace count: "@s[1]: 5"'],
    ['a negative count', ['@c[1]: -5'], 'not a bpftrace count: "@c[1]: -5"'],
    ['a key that is not a number', ['@c[read]: 5'], 'not a bpftrace count: "@c[read]: 5"'],
    [
      'a huge number',
      ['@c[1]: 12345678901234567890'],
      'not a bpftrace count: "@c[1]: 12345678901234567890"',
    ],
    ['text after the count', ['@c[1]: 5 x'], 'not a bpftrace count: "@c[1]: 5 x"'],
    ['an escape sequence', ['\u001b[2J@c[1]: 5'], 'not a bpftrace count: "\\u001b[2J@c[1]: 5"'],
    [
      'bpftrace saying something else',
      ['WARNING: lost 3 events'],
      'not a bpftrace count: "WARNING: lost 3 events"',
    ],
    ['a count twice', ['@c[1]: 5', '@c[1]: 6'], 'a count twice: "@c[1]: 6"'],
    ['errors of a call never counted', ['@c[1]: 5', '@e[2]: 1'], 'a syscall without calls: 2'],
    ['time of a call never counted', ['@ns[2]: 100'], 'a syscall without calls: 2'],
  ];
  it.each(refused)('refuses %s', (_, lines, message) => {
    expect(() => parseBpftraceMaps(lines, 'x86_64')).toThrow(new Error(message));
  });
});

function output(counted: string[]): string {
  return [
    'B svc-trace 2',
    'W\tbpftrace\tx86_64',
    'P\t42',
    ...counted.map((line) => `Y\t${hex(line)}`),
    `O\t12\t${hex('socket')}`,
    `X\t${hex('')}`,
    'E',
    '',
  ].join('\n');
}

describe('a bpftrace trace', () => {
  it('is a report like strace’s: sorted by time, with what it waited on', () => {
    const report = parseTraceOutput(output(CAPTURED), 'web1');
    expect(report.tool).toBe('bpftrace');
    expect(report.skipped).toStrictEqual([]);
    expect(report.syscalls.map((row) => row.name)).toEqual([
      'wait4',
      'clock_nanosleep',
      'execve',
      'openat',
      'close',
    ]);
    expect(report.total).toStrictEqual({ calls: 526, errors: 140, seconds: 3.708546211 });
    expect(report.waiting).toStrictEqual([
      { name: 'wait4', percent: 50.7 },
      { name: 'clock_nanosleep', percent: 49.2 },
    ]);
    expect(report.touched).toStrictEqual([]);
    expect(traceText('web1', report).slice(0, 4)).toEqual([
      'web1: bpftrace, pids 42',
      '  SYSCALL          CALLS  ERRORS   SECONDS  USECS/CALL',
      '  wait4               19      10  1.881341       99018',
      '  clock_nanosleep      9       0  1.825725      202858',
    ]);
  });

  it('is refused whole, naming the host, when a line is not a count', () => {
    expect(() => parseTraceOutput(output(['@c[1]: 5', 'hello']), 'web1')).toThrow(
      new Error('web1: unexpected trace output (not a bpftrace count: "hello")'),
    );
  });
});
