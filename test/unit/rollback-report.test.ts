import { describe, expect, it } from 'vitest';
import { logLines, rollbackReport, visible } from '../../src/core/rollback-report.js';

const from = (lines: Record<string, string[]>) => (tag: string) => lines[tag];

describe('rollbackReport', () => {
  it('says how the new release exited, that the previous one is live, and names it', () => {
    const report = rollbackReport(
      from({ EXITED: ['status 1', '4'], ROLLEDBACK: ['healthy'] }),
      'bbbbbbbbbbbb',
      'aaaaaaaaaaaa',
      'Error: boom\n',
    );
    expect(report.live).toBe('aaaaaaaaaaaa');
    expect(report.message).toBe(
      'release bbbbbbbbbbbb exited (status 1) 0.4 s after start; the previous release is serving again: release aaaaaaaaaaaa is live and healthy\n' +
        '    its log since this (re)start (last 1 line(s)):\n    | Error: boom',
    );
  });

  it('never invents a status the host did not know', () => {
    const report = rollbackReport(
      from({ EXITED: ['', '12'], ROLLEDBACK: ['healthy'] }),
      'b',
      'a',
      '',
    );
    expect(report.message).toMatch(/^release b exited 1\.2 s after start; /);
    expect(report.message).not.toContain('status');
  });

  it('says NOT healthy only when the previous release did not come back, and how', () => {
    const timedOut = rollbackReport(from({ ROLLEDBACK: ['unhealthy', '30'] }), 'b', 'a', '');
    expect(timedOut.message).toBe(
      'release b failed its health check; rolled back to release a, but it did not become healthy within 30 s: it is NOT healthy either',
    );
    const died = rollbackReport(
      from({ EXITED: ['signal 9', '3'], ROLLEDBACK: ['exited', 'status 2', '1'] }),
      'b',
      'a',
      '',
    );
    expect(died.message).toBe(
      'release b exited (signal 9) 0.3 s after start; rolled back to release a, but it exited (status 2) 0.1 s after start too: it is NOT healthy',
    );
  });

  it('a first deploy has no release live after the rollback', () => {
    const report = rollbackReport(from({ ROLLEDBACK: ['none'] }), 'b', undefined, '');
    expect(report.live).toBeUndefined();
  });
});

describe('the log lines shown', () => {
  it('makes control characters visible and keeps the last 20 lines', () => {
    expect(visible('\u001b[31mred\u001b[0m\r')).toBe('\\x1b[31mred\\x1b[0m\\x0d');
    const text = Array.from({ length: 30 }, (_, index) => `line ${index}`).join('\n') + '\n';
    const lines = logLines(text);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('line 10');
    expect(lines.at(-1)).toBe('line 29');
  });
});
