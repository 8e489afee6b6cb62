// A service's history (src/core/history-record.ts): the line parser as a table of lines, each
// with the exact record or undefined (hostile and corrupt lines among them), the names as
// recorded, the reader's output, and the merge of hosts by time.
import { describe, expect, it } from 'vitest';
import {
  clockOffset,
  historyOperator,
  historyVersion,
  lastDeploy,
  mergeHistories,
  parseHistoryLine,
  parseHistoryOutput,
  type HistoryRecord,
} from '../../src/core/history-record.js';

const line = (fields: Partial<Record<string, string>> = {}) =>
  [
    fields.format ?? '1',
    fields.at ?? '2026-12-06T08:01:02Z',
    fields.action ?? 'deploy',
    fields.operator ?? 'ana@laptop',
    fields.version ?? '0.4.0',
    fields.before ?? 'aaaaaaaaaaaa',
    fields.after ?? 'bbbbbbbbbbbb',
    fields.result ?? 'deployed',
    fields.seconds ?? '12',
    fields.reason ?? '',
  ].join('\t');

const RECORD: HistoryRecord = {
  at: '2026-12-06T08:01:02Z',
  action: 'deploy',
  operator: 'ana@laptop',
  svcVersion: '0.4.0',
  before: 'aaaaaaaaaaaa',
  after: 'bbbbbbbbbbbb',
  result: 'deployed',
  seconds: 12,
  reason: '',
};

describe('parseHistoryLine', () => {
  it.each([
    ['a deploy', line(), RECORD],
    [
      'a failed deploy with its reason',
      line({ result: 'failed', reason: 'the install step failed', after: 'aaaaaaaaaaaa' }),
      { ...RECORD, result: 'failed', reason: 'the install step failed', after: 'aaaaaaaaaaaa' },
    ],
    [
      'a rollback, rolled back',
      line({ action: 'rollback', result: 'rolled back', reason: 'exited (status 1)' }),
      { ...RECORD, action: 'rollback', result: 'rolled back', reason: 'exited (status 1)' },
    ],
    ['a first deploy: no release before', line({ before: '-' }), { ...RECORD, before: '-' }],
    [
      'a killed run: after unknown, no duration',
      line({ after: '?', result: 'interrupted', seconds: '-', reason: 'killed' }),
      { ...RECORD, after: '?', result: 'interrupted', reason: 'killed', seconds: undefined },
    ],
    [
      'stop, unchanged',
      line({ action: 'stop', result: 'unchanged' }),
      { ...RECORD, action: 'stop', result: 'unchanged' },
    ],
    [
      'unlock, done',
      line({ action: 'unlock', result: 'done', seconds: '0' }),
      { ...RECORD, action: 'unlock', result: 'done', seconds: 0 },
    ],
    [
      'unicode in a reason',
      line({ result: 'failed', reason: 'ünïcode ✓' }),
      { ...RECORD, result: 'failed', reason: 'ünïcode ✓' },
    ],
    [
      'a reason of 300 characters',
      line({ reason: 'x'.repeat(300) }),
      { ...RECORD, reason: 'x'.repeat(300) },
    ],
  ] as const)('%s', (_, text, want) => {
    const expected = { ...want } as Record<string, unknown>;
    if (expected.seconds === undefined) delete expected.seconds;
    expect(parseHistoryLine(text)).toStrictEqual(expected);
  });

  it.each([
    ['empty', ''],
    ['another format', line({ format: '2' })],
    ['nine fields', line().split('\t').slice(0, 9).join('\t')],
    ['eleven fields (a tab in the reason)', line({ reason: 'a\tb' })],
    ['a local time', line({ at: '2026-12-06T08:01:02+01:00' })],
    ['a date that is none', line({ at: '2026-13-45T08:01:02Z' })],
    ['fractional seconds', line({ at: '2026-12-06T08:01:02.5Z' })],
    // Date.parse takes these for another day: 2026-03-03, 2026-12-07, 2026-12-07.
    ['February 31st', line({ at: '2026-02-31T08:01:02Z' })],
    ['hour 24', line({ at: '2026-12-06T24:00:00Z' })],
    ['second 60', line({ at: '2026-12-06T23:59:60Z' })],
    ['February 29th of a common year', line({ at: '2026-02-29T00:00:00Z' })],
    ['an unknown action', line({ action: 'reboot' })],
    ['an action in capitals', line({ action: 'Deploy' })],
    ['an operator with a space', line({ operator: 'ana smith@laptop' })],
    ['an operator with an escape', line({ operator: 'ana\u001b[31m@x' })],
    ['an operator of 65 characters', line({ operator: 'a'.repeat(65) })],
    ['an empty operator', line({ operator: '' })],
    ['a version with a slash', line({ version: '1/2' })],
    ['a version of 33 characters', line({ version: '1'.repeat(33) })],
    ['a release of 11 hex digits', line({ before: 'aaaaaaaaaaa' })],
    ['a release in capitals', line({ after: 'AAAAAAAAAAAA' })],
    ['a release path', line({ after: 'releases/aaaaaaaaaaaa' })],
    ['an unknown result', line({ result: 'ok' })],
    ['running, which only the reader says', line({ result: 'running' })],
    ['a negative duration', line({ seconds: '-5' })],
    ['a duration of ten digits', line({ seconds: '1234567890' })],
    ['a fractional duration', line({ seconds: '1.5' })],
    ['an escape sequence in a reason', line({ reason: 'ok\u001b]0;owned\u0007' })],
    ['a CR in a reason', line({ reason: 'a\rb' })],
    ['a NUL in a reason', line({ reason: 'a\u0000b' })],
    ['DEL in a reason', line({ reason: 'a\u007fb' })],
    ['a C1 CSI in a reason', line({ reason: 'a\u009b31mb' })],
    ['a reason of 301 characters', line({ reason: 'x'.repeat(301) })],
  ])('%s: not a record', (_, text) => {
    expect(parseHistoryLine(text)).toBeUndefined();
  });
});

describe('the names recorded', () => {
  it.each([
    ['ana', 'laptop', 'ana@laptop'],
    ['ana smith', 'lap top.local', 'ana_smith@lap_top.local'],
    ['r\u001b[0m', "x';rm", 'r__0m@x__rm'],
    ['ünï', 'h', '_n_@h'],
    ['a'.repeat(70), 'h', 'a'.repeat(64)],
  ])('operator %j@%j is %j', (user, machine, want) => {
    expect(historyOperator(user, machine)).toBe(want);
    expect(parseHistoryLine(line({ operator: want }))?.operator).toBe(want);
  });

  it.each([
    ['0.4.0', '0.4.0'],
    ['1.0.0-rc.1+build.5', '1.0.0-rc.1+build.5'],
    ['1 0/x', '1_0_x'],
    ['', 'unknown'],
    ['9'.repeat(40), '9'.repeat(32)],
  ])('version %j is %j', (version, want) => {
    expect(historyVersion(version)).toBe(want);
  });
});

describe('parseHistoryOutput', () => {
  const wrap = (...lines: string[]) =>
    ['B\tsvc-history\t1', ...lines, 'E\tsvc-history', ''].join('\n');

  it('records, a run still going, one killed, lines that are not records', () => {
    const output = wrap(
      `R\t${line()}`,
      `R\tgarbage\tline`,
      `R\t${line({ reason: 'a\u001bb' })}`,
      `P\t1\t${line({ action: 'restart', result: 'interrupted', seconds: '-', after: '?' })}`,
      `P\t0\t${line({ action: 'deploy', result: 'interrupted', seconds: '-', after: '?' })}`,
      `P\t2\t${line()}`,
      `X\t${line()}`,
    );
    const { seconds, ...unended } = RECORD;
    expect(seconds).toBe(12);
    expect(parseHistoryOutput(output, 'web1')).toStrictEqual({
      records: [
        RECORD,
        { ...unended, action: 'restart', result: 'running', after: '?' },
        { ...unended, result: 'interrupted', after: '?' },
      ],
      skipped: 4,
    });
  });

  it("the host's clock: read from the C line right after the header, else not a record", () => {
    expect(parseHistoryOutput(wrap('C\t1796544000', `R\t${line()}`), 'web1')).toStrictEqual({
      records: [RECORD],
      skipped: 0,
      clock: 1796544000,
    });
    expect(parseHistoryOutput(wrap(`R\t${line()}`, 'C\t1796544000'), 'web1')).toStrictEqual({
      records: [RECORD],
      skipped: 1,
    });
    expect(parseHistoryOutput(wrap('C\t-5'), 'web1')).toStrictEqual({ records: [], skipped: 1 });
  });

  it('no history yet', () => {
    expect(parseHistoryOutput(wrap(), 'web1')).toStrictEqual({ records: [], skipped: 0 });
  });

  it.each([
    ['nothing', ''],
    ['no end marker', 'B\tsvc-history\t1\nR\tx\n'],
    ['no start marker', `R\t${line()}\nE\tsvc-history\n`],
    ['another version', 'B\tsvc-history\t2\nE\tsvc-history\n'],
  ])('%s: an error naming the host', (_, output) => {
    expect(() => parseHistoryOutput(output, 'web1')).toThrow(
      new Error("web1: the history output is cut short or not svc's"),
    );
  });
});

describe('mergeHistories', () => {
  const at = (time: string, result: HistoryRecord['result'] = 'deployed') => ({
    ...RECORD,
    at: `2026-12-06T${time}Z`,
    result,
  });

  it('by time over hosts, then host; a host keeps its order within a second; the newest N', () => {
    const merged = mergeHistories(
      [
        { host: 'web2', records: [at('08:00:05'), at('08:00:09', 'failed'), at('08:00:09')] },
        { host: 'web1', records: [at('08:00:01'), at('08:00:09'), at('08:10:00')] },
      ],
      5,
    );
    expect(merged.map((r) => `${r.at.slice(11, 19)} ${r.host} ${r.result}`)).toEqual([
      '08:00:05 web2 deployed',
      '08:00:09 web1 deployed',
      '08:00:09 web2 failed',
      '08:00:09 web2 deployed',
      '08:10:00 web1 deployed',
    ]);
    expect(mergeHistories([{ host: 'a', records: [at('08:00:00')] }], 5)).toHaveLength(1);
    expect(mergeHistories([], 5)).toEqual([]);
  });

  it("keeps each host's own order when its clock was set back between two records", () => {
    const merged = mergeHistories(
      [
        // web1's clock went back an hour after its first record: its file order is the truth.
        { host: 'web1', records: [at('09:00:00'), at('08:00:00', 'failed'), at('08:00:30')] },
        { host: 'web2', records: [at('08:30:00'), at('09:10:00')] },
      ],
      10,
    );
    expect(merged.map((r) => `${r.at.slice(11, 19)} ${r.host} ${r.result}`)).toEqual([
      '08:30:00 web2 deployed',
      '09:00:00 web1 deployed',
      '08:00:00 web1 failed',
      '08:00:30 web1 deployed',
      '09:10:00 web2 deployed',
    ]);
  });

  it('merges a host whose clock is off by its offset, showing its own times', () => {
    const merged = mergeHistories(
      [
        // web1 runs 300 s ahead: its 08:04:00 was 07:59:00 here, before web2's 08:00:00.
        { host: 'web1', records: [at('08:04:00'), at('08:06:00')], offsetSeconds: 300 },
        { host: 'web2', records: [at('08:00:00'), at('08:00:30')], offsetSeconds: 0 },
      ],
      10,
    );
    expect(merged.map((r) => `${r.at.slice(11, 19)} ${r.host}`)).toEqual([
      '08:04:00 web1',
      '08:00:00 web2',
      '08:00:30 web2',
      '08:06:00 web1',
    ]);
  });

  it('lastDeploy: the last deploy or rollback, whatever came after', () => {
    const records = [
      { ...RECORD, at: '2026-12-06T08:00:00Z' },
      { ...RECORD, action: 'rollback' as const, at: '2026-12-06T08:00:01Z' },
      { ...RECORD, action: 'stop' as const, at: '2026-12-06T08:00:02Z' },
    ];
    expect(lastDeploy(records)).toBe(records[1]);
    expect(lastDeploy(records.slice(0, 1))).toBe(records[0]);
    expect(lastDeploy(records.slice(2))).toBeUndefined();
  });
});

describe('clockOffset', () => {
  // The host printed whole seconds somewhere between sent and received (this machine's ms).
  const at = Date.parse('2026-12-06T08:00:00Z');
  it.each([
    ['in step', at / 1000, at, at + 200, 0],
    ['truncated to the second, in step', at / 1000, at + 900, at + 950, 0],
    ['2 s ahead: within the tolerance', at / 1000 + 2, at, at + 100, 0],
    ['5 s ahead', at / 1000 + 5, at, at + 100, 5],
    ['300 s behind', at / 1000 - 300, at, at + 100, -300],
    ['a slow answer (10 s) hides 5 s', at / 1000 + 5, at - 5000, at + 5000, 0],
    ['a slow answer (10 s) does not hide 60 s', at / 1000 + 60, at - 4400, at + 5000, 60],
  ])('%s', (_, host, sent, received, want) => {
    expect(clockOffset(host, sent, received)).toBe(want);
  });
});
