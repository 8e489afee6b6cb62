// The cutover tests' reading of one gap under load (test/helpers/load-gap.ts): which failures a
// gap may cause (refused or reset connections only) and the window all failures span, so that
// "one short gap" fails on a wrong answer, a timeout or a second gap, whatever the load's pace.
import { describe, expect, it } from 'vitest';
import { gapFailures } from '../helpers/load-gap.js';
import type { Sample } from '../helpers/load.js';

const ok = (startedAt: number): Sample => ({
  kind: 'keep-alive',
  startedAt,
  endedAt: startedAt + 5,
  status: 200,
  release: 'm1',
});
const failed = (startedAt: number, endedAt: number, error?: string, status?: number): Sample => ({
  kind: 'new-connection',
  startedAt,
  endedAt,
  ...(error === undefined ? {} : { error }),
  ...(status === undefined ? {} : { status }),
});

describe('gapFailures', () => {
  it.each([
    { title: 'no failure', samples: [ok(0), ok(10)], failed: 0, unexpected: [], windowMs: 0 },
    {
      title: 'refusals and resets in one window',
      samples: [
        ok(0),
        failed(100, 101, 'ECONNRESET'),
        failed(110, 111, 'ECONNREFUSED'),
        failed(120, 180, 'ECONNREFUSED (sent again)'),
        failed(150, 151, 'ECONNRESET (reused connection)'),
        failed(160, 161, 'ECONNRESET (sent again) (reused connection)'),
        ok(200),
      ],
      failed: 5,
      unexpected: [],
      windowMs: 80,
    },
    {
      title: 'a second gap far from the first',
      samples: [failed(100, 101, 'ECONNREFUSED'), ok(200), failed(5100, 5102, 'ECONNREFUSED')],
      failed: 2,
      unexpected: [],
      windowMs: 5002,
    },
    {
      title: 'a wrong answer, a timeout, a hang-up without a code',
      samples: [
        failed(100, 101, undefined, 502),
        failed(100, 10_100, 'timed out after 10 s'),
        failed(120, 121, 'socket hang up'),
        failed(130, 131, 'EHOSTUNREACH'),
      ],
      failed: 4,
      unexpected: ['status 502', 'timed out after 10 s', 'socket hang up', 'EHOSTUNREACH'],
      windowMs: 10_000,
    },
  ])('$title', ({ title: _title, samples, ...expected }) => {
    const result = gapFailures(samples);
    expect({
      failed: result.failed.length,
      unexpected: result.unexpected,
      windowMs: result.windowMs,
    }).toEqual(expected);
  });
});
