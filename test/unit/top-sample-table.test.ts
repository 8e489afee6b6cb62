// svc top's sample: the parser of the top script's output (src/core/top-sample.ts) as tables of
// outputs, good ones with the exact sample and hostile or broken ones with the exact error line;
// the row (CPU % from two readings, sums over the tree, ages); the table and its sorts
// (src/core/top-table.ts).
import { describe, expect, it } from 'vitest';
import {
  cpuPercent,
  parseTopOutput,
  topRow,
  type TopRow,
  type TopSample,
} from '../../src/core/top-sample.js';
import {
  formatBytes,
  silentLine,
  slotNotes,
  sortRows,
  topTable,
  type SortKey,
} from '../../src/core/top-table.js';

const hex = (text: string) => Buffer.from(text).toString('hex');

interface Parts {
  first?: string[];
  processes?: string[];
  pid?: string;
  d?: string;
  f?: string;
  /** The slots' record (cutover: switch), after F. */
  l?: string;
  i?: string;
  m?: string;
  r?: string;
  h?: string;
}

/** Output as the script prints it, each part replaceable. */
function output(parts: Parts = {}): string {
  const lines = ['B svc-top 1', 'K\t100\t4096'];
  if (parts.first) lines.push('T0\t1000.00', ...parts.first);
  lines.push(
    'T\t1002.00',
    `S\t${parts.pid ?? '42'}`,
    ...(parts.processes ?? ['P\t42\t50000\t300\t11\t2560', 'P\t43\t90000\t20\t1\t512']),
    parts.d ?? 'D\t25\t3',
    parts.f ?? `F\t${hex('0123456789ab')}\t1700000000\t1700003600`,
    ...(parts.l === undefined ? [] : [parts.l]),
    parts.i ?? `I\t${hex('active/running')}`,
    parts.m ?? `M\t${hex('OK')}`,
    parts.r ?? 'R\t2',
    parts.h ?? 'H\t200\t4',
    'E',
  );
  return `${lines.join('\n')}\n`;
}

const FULL: TopSample = {
  clockTicks: 100,
  pageSize: 4096,
  uptime: 1002,
  pid: 42,
  processes: [
    { pid: 42, start: 50000, ticks: 300, threads: 11, rssPages: 2560 },
    { pid: 43, start: 90000, ticks: 20, threads: 1, rssPages: 512 },
  ],
  fds: 25,
  connections: 3,
  release: '0123456789ab',
  deployedAt: 1700000000,
  hostNow: 1700003600,
  initState: 'active/running',
  monit: 'OK',
  restarts: 2,
  health: { status: 200, ms: 4 },
};

// A worker has no health URL: its sample has no health key at all.
const withoutHealth: TopSample = { ...FULL };
delete withoutHealth.health;

describe('parseTopOutput', () => {
  const cases: [string, string, TopSample][] = [
    ['everything reported', output(), FULL],
    [
      'a first reading within the command',
      output({ first: ['C\t42\t50000\t250\t11\t2560'] }),
      {
        ...FULL,
        first: {
          uptime: 1000,
          processes: [{ pid: 42, start: 50000, ticks: 250, threads: 11, rssPages: 2560 }],
        },
      },
    ],
    [
      'a stopped service: no pid, no tree, no descriptors, no answer',
      output({ pid: '-', processes: [], d: 'D\t-\t-', h: 'H\t0\t3001' }),
      {
        ...FULL,
        pid: undefined,
        processes: [],
        fds: undefined,
        connections: undefined,
        health: { status: 0, ms: 3001 },
      },
    ],
    [
      'a worker (no health URL), no monit, no restart count, no init word, no release',
      output({ h: 'H\t-\t-', m: 'M\t', r: 'R\t-', i: 'I\t', f: 'F\t\t-\t1700003600' }),
      {
        ...withoutHealth,
        monit: undefined,
        restarts: undefined,
        initState: undefined,
        release: undefined,
        deployedAt: undefined,
      },
    ],
    [
      'a latency unknown (a date without %N)',
      output({ h: 'H\t200\t-' }),
      { ...FULL, health: { status: 200, ms: undefined } },
    ],
    [
      'any bytes in the words the host controls',
      output({ m: `M\t${hex('Ünï\tcode\n')}`, f: `F\t${hex('\u001b[2J')}\t-\t5` }),
      { ...FULL, monit: 'Ünï\tcode\n', release: '\u001b[2J', deployedAt: undefined, hostNow: 5 },
    ],
  ];
  it.each(cases)('%s', (_, text, want) => {
    expect(parseTopOutput(text, 'web1')).toStrictEqual(want);
  });

  // cutover: switch: the live slot, and the other slot's process when it runs too.
  const slots: [string, string, Partial<TopSample>][] = [
    ['slot a live, b not running', 'L\ta\tb\t-', { slot: 'a' }],
    [
      'slot b live, a kept warm or draining',
      'L\tb\ta\t77',
      { slot: 'b', idleSlot: { slot: 'a', pid: 77 } },
    ],
    ['no switch deploy yet', 'L\t-\t-\t-', {}],
  ];
  it.each(slots)('the slots: %s', (_, line, want) => {
    expect(parseTopOutput(output({ l: line }), 'web1')).toStrictEqual({ ...FULL, ...want });
  });

  const slotErrors: [string, string, string][] = [
    ['a slot that is neither a nor b', 'L\tc\ta\t-', 'not a slot'],
    ['the same slot twice', 'L\ta\ta\t-', 'not two slots'],
    ['a live slot without the other', 'L\ta\t-\t-', 'not two slots'],
    ['an idle slot without a live one', 'L\t-\tb\t-', 'not two slots'],
    ['an idle pid without its slot', 'L\t-\t-\t12', 'a pid without a slot'],
    ['an idle pid that is not a number', 'L\ta\tb\t1x', 'not a number'],
    ['a field too many', 'L\ta\tb\t-\t-', 'fields'],
  ];
  it.each(slotErrors)('refuses slots: %s', (_, line, why) => {
    expect(() => parseTopOutput(output({ l: line }), 'web1')).toThrow(
      new Error(`web1: unexpected top output (${why}): ${JSON.stringify(line)}`),
    );
  });

  it('refuses the slots record twice, or out of place', () => {
    expect(() => parseTopOutput(output({ l: 'L\ta\tb\t-\nL\ta\tb\t-' }), 'web1')).toThrow(
      new Error('web1: unexpected top output (out of place): "L\\ta\\tb\\t-"'),
    );
    expect(() => parseTopOutput(output({ r: 'R\t2\nL\ta\tb\t-' }), 'web1')).toThrow(
      new Error('web1: unexpected top output (out of place): "L\\ta\\tb\\t-"'),
    );
  });

  const errors: [string, string, string][] = [
    ['empty output', '', 'web1: unexpected top output (not the start of a top sample): ""'],
    [
      'another format version',
      output().replace('svc-top 1', 'svc-top 2'),
      'web1: unexpected top output (not the start of a top sample): "B svc-top 2"',
    ],
    [
      'truncated output (no end marker)',
      output().replace(/E\n$/, ''),
      'web1: unexpected top output (truncated: no end marker): "H\\t200\\t4"',
    ],
    [
      'a line after the end marker',
      `${output()}E\n`,
      'web1: unexpected top output (unknown record): "E"',
    ],
    [
      'an unknown record',
      output({ r: 'R\t2\nX\t1' }),
      'web1: unexpected top output (unknown record): "X\\t1"',
    ],
    [
      'a record twice (a service writing a line of its own)',
      output({ r: 'R\t2\nR\t0' }),
      'web1: unexpected top output (out of place): "R\\t0"',
    ],
    [
      'records out of order',
      output({ d: `F\t${hex('x')}\t1\t2\nD\t1\t1`, f: '' }).replace('\n\n', '\n'),
      'web1: unexpected top output (out of place): "D\\t1\\t1"',
    ],
    [
      'a process line after the descriptors',
      output({ d: 'D\t25\t3\nP\t44\t1\t1\t1\t1' }),
      'web1: unexpected top output (out of place): "P\\t44\\t1\\t1\\t1\\t1"',
    ],
    [
      'a first-reading line after T',
      output({ processes: ['C\t42\t50000\t300\t11\t2560'] }),
      'web1: unexpected top output (out of place): "C\\t42\\t50000\\t300\\t11\\t2560"',
    ],
    [
      'a negative number',
      output({ processes: ['P\t42\t50000\t-3\t11\t2560'] }),
      'web1: unexpected top output (not a number): "P\\t42\\t50000\\t-3\\t11\\t2560"',
    ],
    [
      'a number with a space',
      output({ r: 'R\t2 ' }),
      'web1: unexpected top output (not a number): "R\\t2 "',
    ],
    [
      'a number too long to be exact',
      output({ r: `R\t${'9'.repeat(19)}` }),
      `web1: unexpected top output (not a number): "R\\t${'9'.repeat(19)}"`,
    ],
    [
      'a field too many',
      output({ d: 'D\t25\t3\t1' }),
      'web1: unexpected top output (fields): "D\\t25\\t3\\t1"',
    ],
    [
      'a field too few on a process',
      output({ processes: ['P\t42\t50000\t300\t11'] }),
      'web1: unexpected top output (fields): "P\\t42\\t50000\\t300\\t11"',
    ],
    [
      'hex that is not hex',
      output({ m: 'M\t4f4' }),
      'web1: unexpected top output (not hex): "M\\t4f4"',
    ],
    [
      'upper-case hex',
      output({ m: 'M\t4F4B' }),
      'web1: unexpected top output (not hex): "M\\t4F4B"',
    ],
    [
      'a word longer than 256 bytes',
      output({ m: `M\t${'41'.repeat(257)}` }),
      `web1: unexpected top output (not hex): "M\\t${'41'.repeat(39)}"`,
    ],
    [
      'a latency without a status',
      output({ h: 'H\t-\t4' }),
      'web1: unexpected top output (a latency without a status): "H\\t-\\t4"',
    ],
    [
      'a clock of zero ticks',
      output().replace('K\t100', 'K\t0'),
      'web1: unexpected top output (zero): "K\\t0\\t4096"',
    ],
    ['a missing record', output({ r: '' }).replace('\n\n', '\n'), 'web1: top output lacks R'],
    [
      'processes without a pid',
      output({ pid: '-' }),
      'web1: top output has processes without a pid',
    ],
    [
      'a tree that does not start at the pid',
      output({ pid: '43' }),
      "web1: top output's tree does not start at the service's pid",
    ],
  ];
  it.each(errors)('refuses %s', (_, text, message) => {
    expect(() => parseTopOutput(text, 'web1')).toThrow(new Error(message));
  });

  it('refuses a tree of more than 4096 processes', () => {
    const many = Array.from({ length: 4097 }, (_, i) => `P\t${42 + i}\t1\t1\t1\t1`);
    expect(() => parseTopOutput(output({ processes: many }), 'web1')).toThrow(
      new Error(
        'web1: unexpected top output (more than 4096 processes): "P\\t4138\\t1\\t1\\t1\\t1"',
      ),
    );
  });
});

describe('cpuPercent', () => {
  const proc = (pid: number, start: number, ticks: number) => ({
    pid,
    start,
    ticks,
    threads: 1,
    rssPages: 1,
  });
  const cases: [
    string,
    Parameters<typeof cpuPercent>[0],
    Parameters<typeof cpuPercent>[1],
    number | undefined,
  ][] = [
    [
      'one process, half a core over 2 s',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1002, clockTicks: 100, processes: [proc(42, 100, 600)] },
      50,
    ],
    [
      'a child started after the first reading counts from zero',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1002, clockTicks: 100, processes: [proc(42, 100, 500), proc(50, 100050, 30)] },
      15,
    ],
    [
      'a process running before but not read then counts nothing',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1002, clockTicks: 100, processes: [proc(42, 100, 500), proc(50, 99000, 3000)] },
      0,
    ],
    [
      'a reused pid (another start) is another process',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1002, clockTicks: 100, processes: [proc(42, 100100, 40)] },
      20,
    ],
    [
      'three cores busy read as 300',
      { uptime: 1000, processes: [proc(42, 100, 0)] },
      { uptime: 1001, clockTicks: 100, processes: [proc(42, 100, 300)] },
      300,
    ],
    [
      'ticks that went back (a lying host) count as none',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1002, clockTicks: 100, processes: [proc(42, 100, 400)] },
      0,
    ],
    [
      'no time between the readings: unknown',
      { uptime: 1000, processes: [proc(42, 100, 500)] },
      { uptime: 1000, clockTicks: 100, processes: [proc(42, 100, 600)] },
      undefined,
    ],
    [
      'a clock that went back: unknown',
      { uptime: 1000, processes: [] },
      { uptime: 999, clockTicks: 100, processes: [] },
      undefined,
    ],
    [
      'rounded to a tenth',
      { uptime: 1000, processes: [proc(42, 100, 0)] },
      { uptime: 1003, clockTicks: 100, processes: [proc(42, 100, 1)] },
      0.3,
    ],
  ];
  it.each(cases)('%s', (_, earlier, sample, want) => {
    expect(cpuPercent(earlier, sample)).toBe(want);
  });
});

describe('topRow', () => {
  it('sums the tree, ages from the host clock, CPU from the reading within the command', () => {
    const sample = parseTopOutput(
      output({ first: ['C\t42\t50000\t200\t11\t2560', 'C\t43\t90000\t10\t1\t512'] }),
      'web1',
    );
    expect(topRow('web1', sample)).toStrictEqual({
      host: 'web1',
      state: 'active/running',
      monit: 'OK',
      pid: 42,
      uptimeSeconds: 502,
      restarts: 2,
      cpuPercent: 55,
      rssBytes: 3072 * 4096,
      threads: 12,
      fds: 25,
      connections: 3,
      health: 200,
      healthMs: 4,
      release: '0123456789ab',
      deployedAt: '2023-11-14T22:13:20.000Z',
      deployedAgoSeconds: 3600,
    });
  });

  it('takes CPU from the previous sample when the command made no first reading', () => {
    const previous = parseTopOutput(
      output({ processes: ['P\t42\t50000\t100\t11\t2560'] }).replace('T\t1002.00', 'T\t998.00'),
      'web1',
    );
    const row = topRow('web1', parseTopOutput(output(), 'web1'), previous);
    // 200 ticks of 42 in 4 s; 43 started (900 s) before the previous reading (998 s), unseen then.
    expect(row.cpuPercent).toBe(50);
  });

  it('has no CPU without an earlier reading, and says stopped without a pid or init word', () => {
    const row = topRow(
      'web1',
      parseTopOutput(output({ pid: '-', processes: [], d: 'D\t-\t-', i: 'I\t' }), 'web1'),
    );
    expect(row).toStrictEqual({
      host: 'web1',
      state: 'stopped',
      monit: 'OK',
      restarts: 2,
      health: 200,
      healthMs: 4,
      release: '0123456789ab',
      deployedAt: '2023-11-14T22:13:20.000Z',
      deployedAgoSeconds: 3600,
    });
  });

  it('says running from the pid when the init system has no word', () => {
    expect(topRow('web1', parseTopOutput(output({ i: 'I\t' }), 'web1')).state).toBe('running');
  });
});

describe('the table', () => {
  const row = (host: string, extra: Partial<TopRow>): TopRow => ({
    host,
    state: 'running',
    ...extra,
  });
  const rows = [
    row('b', { cpuPercent: 5, rssBytes: 300, restarts: 0 }),
    row('a', { cpuPercent: 50, rssBytes: 100, restarts: 3 }),
    row('c', {}),
    row('d', { cpuPercent: 5, rssBytes: 300, restarts: 1 }),
  ];
  const orders: [SortKey, string[]][] = [
    ['cpu', ['a', 'b', 'd', 'c']],
    ['mem', ['b', 'd', 'a', 'c']],
    ['restarts', ['a', 'd', 'b', 'c']],
    ['host', ['a', 'b', 'c', 'd']],
  ];
  it.each(orders)('sorts by %s (largest first, unknown last, ties by host)', (key, hosts) => {
    expect(sortRows(rows, key).map((r) => r.host)).toStrictEqual(hosts);
  });

  it('lays out columns, numbers on the right, control characters from the host made visible', () => {
    const lines = topTable(
      [
        row('sbx-1', {
          monit: 'OK',
          pid: 4242,
          uptimeSeconds: 7300,
          restarts: 1,
          cpuPercent: 12.34,
          rssBytes: 52 * 1024 * 1024,
          threads: 11,
          fds: 23,
          connections: 2,
          health: 200,
          healthMs: 3,
          release: 'abc\u001b[2J',
          deployedAgoSeconds: 90,
        }),
        row('sbx-10', { state: 'stopped' }),
      ],
      'host',
    );
    expect(lines).toStrictEqual([
      'HOST    STATE    MONIT   PID  UPTIME  RESTARTS  CPU%  RSS  THR  FDS  CONN   OK  MS  RELEASE     DEPLOYED',
      'sbx-1   running  OK     4242      2h         1  12.3  52M   11   23     2  200   3  abc\\x1b[2J  90s ago',
      'sbx-10  stopped  -         -       -         -     -    -    -    -     -    -   -  -           -',
    ]);
  });

  const sizes: [number, string][] = [
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1.0K'],
    [10 * 1024, '10K'],
    [1536 * 1024, '1.5M'],
    [3 * 1024 ** 3, '3.0G'],
    [5 * 1024 ** 5, '5120T'],
  ];
  it.each(sizes)('shows %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('names the hosts that stopped answering, by name, with why and for how long', () => {
    expect(silentLine([], 0)).toBeUndefined();
    expect(
      silentLine(
        [
          { host: 'sbx-2', reason: 'the connection was lost', sinceMs: 1000 },
          { host: 'sbx-10', reason: 'no\nanswer', sinceMs: 5000 },
        ],
        12_000,
      ),
    ).toBe('not answering: sbx-10 (7s: no\\x0aanswer), sbx-2 (11s: the connection was lost)');
  });
});

describe('the slots (cutover: switch)', () => {
  it('are in the row: the live slot, and the other when its process runs', () => {
    const row = topRow('web1', { ...FULL, slot: 'b', idleSlot: { slot: 'a', pid: 77 } });
    expect(row).toMatchObject({ slot: 'b', idleSlot: 'a', idleSlotPid: 77 });
    expect(topRow('web1', FULL)).not.toHaveProperty('slot');
    expect(topRow('web1', FULL)).not.toHaveProperty('idleSlotPid');
  });

  it('get a line under the table per host whose other slot runs, by host name', () => {
    const rows: TopRow[] = [
      { host: 'web2', state: 'running', slot: 'a', idleSlot: 'b', idleSlotPid: 9 },
      { host: 'web1', state: 'running', slot: 'b', idleSlot: 'a', idleSlotPid: 77 },
      { host: 'web3', state: 'running', slot: 'a' },
      { host: 'web4', state: 'running' },
    ];
    expect(slotNotes(rows)).toStrictEqual([
      'web1: slot b is live; slot a runs too (pid 77: kept warm, or draining)',
      'web2: slot a is live; slot b runs too (pid 9: kept warm, or draining)',
    ]);
  });
});
