// What svc says about a rolled-back deploy (src/core/rollback-report.ts), case by case: each way
// the new release failed, each way the rollback went, and the log lines as shown.
import { describe, expect, it } from 'vitest';
import { logLines, rollbackReport, visible } from '../../src/core/rollback-report.js';

const from = (lines: Record<string, string[]>) => (tag: string) => lines[tag];

describe('rollbackReport', () => {
  const cases: [
    string,
    Record<string, string[]>,
    string | undefined,
    string | undefined,
    string,
    string | undefined,
  ][] = [
    [
      'failed its health check, previous healthy',
      { ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new failed its health check; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'a failure the script named (visitors do not reach it through nginx), its text made visible',
      {
        FAIL: ['www-shop answers on its own port but not through nginx\u009b31m', 'x'],
        ROLLEDBACK: ['healthy'],
      },
      'new',
      'old',
      'release new failed: www-shop answers on its own port but not through nginx\\x9b31m x; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'a death said and a failure named: the death is what is said',
      { EXITED: ['status 3'], FAIL: ['nginx -t refused the site'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited (status 3); the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'exited with a status, no time',
      { EXITED: ['status 3'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited (status 3); the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'exited by a signal, time in tenths',
      { EXITED: ['signal 15', '25'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited (signal 15) 2.5 s after start; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'an unknown way of exiting and a time that is not a number are not repeated',
      { EXITED: ['status 1; rm -rf /', '1.5'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'a status with something after it is not repeated',
      { EXITED: ['status 1 x', 'x12'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'a status word inside other text is not repeated',
      { EXITED: ['nostatus 1', '3'], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited 0.3 s after start; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'EXITED without fields',
      { EXITED: [], ROLLEDBACK: ['healthy'] },
      'new',
      'old',
      'release new exited; the previous release is serving again: release old is live and healthy',
      'old',
    ],
    [
      'the previous one exited too, nothing known of how',
      { ROLLEDBACK: ['exited'] },
      'new',
      'old',
      'release new failed its health check; rolled back to release old, but it exited too: it is NOT healthy',
      'old',
    ],
    [
      'no previous release',
      { ROLLEDBACK: ['none'] },
      'new',
      undefined,
      'release new failed its health check; there was no previous release: the service was stopped and its unit, check and files removed',
      undefined,
    ],
    [
      'no previous release, a process still running',
      { ROLLEDBACK: ['none-running'] },
      'new',
      undefined,
      'release new failed its health check; there was no previous release, and a process of the new one is still running (see svc status)',
      undefined,
    ],
    [
      'the host said nothing of the rollback',
      {},
      undefined,
      undefined,
      'release ? failed its health check; rolled back to release ?, but it did not become healthy within ? s: it is NOT healthy either',
      undefined,
    ],
    [
      'the previous one did not become healthy in time',
      { ROLLEDBACK: ['unhealthy', '30'] },
      'new',
      'old',
      'release new failed its health check; rolled back to release old, but it did not become healthy within 30 s: it is NOT healthy either',
      'old',
    ],
  ];
  it.each(cases)('%s', (_, lines, release, previous, message, live) => {
    const report = rollbackReport(from(lines), release, previous, '');
    expect(report).toStrictEqual({ message, ...(live !== undefined && { live }) });
  });

  it('adds the log lines below, each marked', () => {
    const report = rollbackReport(from({ ROLLEDBACK: ['none'] }), 'new', undefined, 'one\n\ttwo\n');
    expect(report.message).toBe(
      'release new failed its health check; there was no previous release: the service was stopped and its unit, check and files removed\n' +
        '    its log since this (re)start (last 2 line(s)):\n' +
        '    | one\n' +
        '    |   two',
    );
  });
});

describe('log lines', () => {
  it.each([
    ['plain', 'plain'],
    ['\u0000', '\\x00'],
    ['\u0007bell', '\\x07bell'],
    ['tab\there', 'tab  here'],
    ['\u001f\u0020', '\\x1f '],
    ['~\u007f', '~\\x7f'],
    ['\u0085\u009f\u00a0é', '\\x85\\x9f\u00a0é'],
  ])('visible(%j) is %j', (text, shown) => {
    expect(visible(text)).toBe(shown);
  });

  it.each([
    ['', []],
    ['\n', ['']],
    ['a', ['a']],
    ['a\n\nb\n', ['a', '', 'b']],
    ['a\n\n', ['a', '']],
  ] as [string, string[]][])('logLines(%j)', (text, lines) => {
    expect(logLines(text)).toEqual(lines);
  });

  it('keeps the last 20 lines', () => {
    const text = Array.from({ length: 21 }, (_, index) => `l${index}`).join('\n');
    expect(logLines(text)).toEqual(Array.from({ length: 20 }, (_, index) => `l${index + 1}`));
  });

  it('cuts a line at 300 characters (as shown), marking the cut', () => {
    expect(logLines('x'.repeat(300))).toEqual(['x'.repeat(300)]);
    expect(logLines('x'.repeat(301))).toEqual([`${'x'.repeat(300)}…`]);
    expect(logLines(`${'x'.repeat(298)}\u0001`)).toEqual([`${'x'.repeat(298)}\\x…`]);
  });
});
