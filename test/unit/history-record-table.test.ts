// A service's history (src/core/history-record.ts): the line parser as a table of lines, each
// with the exact record or undefined (hostile and corrupt lines among them), the names as
// recorded, the reader's output, and the merge of hosts by time.
import { describe, expect, it } from 'vitest';
import {
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
