// Which releases a host keeps (release-retention.ts), as tables: the history as data in, the
// releases deleted (with their reasons) out. The history lists deploys oldest first; `g` is a
// release that went live and passed its health gate, `b` one that failed it and was rolled back.
import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/facts.js';
import {
  lastHealthyBefore,
  releaseStatus,
  releasesToPrune,
  retainedHistory,
} from '../../src/core/release-retention.js';

/** "A:g B:g C:b" -> history entries, `at` numbered in order. */
const history = (text: string): ReleaseRecord[] =>
  text
    .split(' ')
    .filter(Boolean)
    .map((word, index) => {
      const [id, status] = word.split(':') as [string, string];
      return { id, status: status === 'g' ? 'good' : 'bad', at: `t${index}` };
    });

const BAD = 'it failed its health check (a bad release does not count toward keep)';
const keeping = (keep: number) => `keeping the last ${keep} releases`;

describe('releaseStatus and lastHealthyBefore', () => {
  it.each([
    ['A:g', 'A', 'good'],
    ['A:b', 'A', 'bad'],
    ['A:g A:b', 'A', 'bad'],
    ['A:b A:g', 'A', 'good'],
    ['A:g', 'B', 'unknown'],
    ['', 'A', 'unknown'],
  ])('history %j: %s is %s (its latest entry)', (text, id, status) => {
    expect(releaseStatus(history(text), id)).toBe(status);
  });

  it.each([
    ['A:g B:g', 'B', 'A'],
    ['A:g B:g', 'C', 'B'],
    ['A:g B:g C:b D:b', 'B', 'A'],
    ['A:g B:g C:b D:b', 'E', 'B'],
    // B went live again later: it is the newest healthy one, also before C.
    ['A:g B:g C:g B:g', 'C', 'B'],
    ['A:g B:g C:g B:g', 'B', 'C'],
    // A was healthy once, then failed its gate when rolled back to: it is bad now.
    ['A:g B:g A:b', 'B', undefined],
    ['A:b', 'B', undefined],
    ['', 'A', undefined],
  ])('history %j, live %s: the last healthy before it is %s', (text, live, expected) => {
    expect(lastHealthyBefore(history(text), live)).toBe(expected);
  });
});

describe('releasesToPrune', () => {
  const cases: [
    string,
    { present: string[]; history: string; live?: string; deploying: string; keep: number },
    [string, string][],
  ][] = [
    [
      'failed releases never push good ones out of keep',
      {
        present: ['A', 'B', 'C', 'D'],
        history: 'A:g B:g C:b D:b',
        live: 'B',
        deploying: 'E',
        keep: 3,
      },
      [
        ['C', BAD],
        ['D', BAD],
      ],
    ],
    [
      'keep=2 after good A, good B, bad C, bad D, good E: E and B stay',
      {
        present: ['A', 'B', 'C', 'D', 'E'],
        history: 'A:g B:g C:b D:b E:g',
        live: 'E',
        deploying: 'E',
        keep: 2,
      },
      [
        ['A', keeping(2)],
        ['C', BAD],
        ['D', BAD],
      ],
    ],
    [
      'a new release after bad ones: the live one and the new one, whatever keep',
      {
        present: ['A', 'B', 'C', 'D'],
        history: 'A:g B:g C:b D:b',
        live: 'B',
        deploying: 'E',
        keep: 2,
      },
      [
        ['A', keeping(2)],
        ['C', BAD],
        ['D', BAD],
      ],
    ],
    [
      'the last healthy before the live one stays even beyond keep (a rollback target)',
      { present: ['A', 'B', 'C'], history: 'A:g B:g C:g', live: 'C', deploying: 'C', keep: 1 },
      [['A', keeping(1)]],
    ],
    [
      'the live one stays even when the records call it bad (records that lie)',
      { present: ['A', 'B', 'C'], history: 'A:g B:b C:b', live: 'C', deploying: 'D', keep: 2 },
      [['B', BAD]],
    ],
    [
      'the live one stays when there are no records at all',
      { present: ['A', 'B', 'C', 'D'], history: '', live: 'A', deploying: 'E', keep: 2 },
      [
        ['B', keeping(2)],
        ['C', keeping(2)],
        ['D', keeping(2)],
      ],
    ],
    [
      'releases svc has no history of are the oldest, by name, and count toward keep',
      { present: ['Y', 'X', 'A', 'B'], history: 'A:g B:g', live: 'B', deploying: 'C', keep: 3 },
      [
        ['X', keeping(3)],
        ['Y', keeping(3)],
      ],
    ],
    [
      'age is a release’s latest deploy: a redeployed one is new again',
      { present: ['A', 'B', 'C'], history: 'A:g B:g C:g A:g', live: 'A', deploying: 'D', keep: 3 },
      [['B', keeping(3)]],
    ],
    [
      'a bad release being deployed again is not pruned by its own deploy',
      { present: ['A', 'B', 'C'], history: 'A:g B:g C:b', live: 'B', deploying: 'C', keep: 2 },
      [],
    ],
    [
      'within keep and nothing bad: nothing goes',
      { present: ['A', 'B'], history: 'A:g B:g', live: 'B', deploying: 'C', keep: 3 },
      [],
    ],
    [
      'the release being deployed counts once when already present',
      { present: ['A', 'B', 'C'], history: 'A:g B:g C:g', live: 'C', deploying: 'B', keep: 2 },
      [['A', keeping(2)]],
    ],
  ];
  it.each(cases)('%s', (_, input, deleted) => {
    expect(
      releasesToPrune({
        present: input.present,
        history: history(input.history),
        live: input.live,
        deploying: input.deploying,
        keep: input.keep,
      }).map(({ id, reason }) => [id, reason]),
    ).toEqual(deleted);
  });

  it('never prunes the live release nor the release going live, for any keep and history', () => {
    const ids = ['A', 'B', 'C', 'D', 'E'];
    for (const keep of [1, 2, 3])
      for (const statuses of ['g', 'b'].flatMap((a) => ['g', 'b'].map((b) => a + b)))
        for (const live of ids)
          for (const deploying of ids) {
            const text = ids.map((id, index) => `${id}:${statuses[index % 2]}`).join(' ');
            const gone = releasesToPrune({
              present: ids,
              history: history(text),
              live,
              deploying,
              keep,
            }).map((pruned) => pruned.id);
            expect(gone).not.toContain(live);
            expect(gone).not.toContain(deploying);
            const healthy = lastHealthyBefore(history(text), deploying);
            if (healthy !== undefined) expect(gone).not.toContain(healthy);
          }
  });
});

describe('retainedHistory', () => {
  it.each([
    ['the last entries as they are', 'A:g B:g C:b', ['A', 'B', 'C'], 5, 'A:g B:g C:b'],
    ['beyond the limit, the oldest go', 'A:g B:g C:b D:g', [], 2, 'C:b D:g'],
    [
      'a release still on the host keeps its latest entry (and only that), in order',
      'A:g B:b A:g C:b D:g E:g',
      ['A', 'E'],
      2,
      'A:g D:g E:g',
    ],
    ['a bad mark of a kept release is kept', 'B:b C:g D:g E:g', ['B'], 2, 'B:b D:g E:g'],
  ])('%s', (_, text, present, limit, expected) => {
    const kept = retainedHistory(history(text), present, limit);
    expect(kept.map((entry) => `${entry.id}:${entry.status[0]}`).join(' ')).toBe(expected);
  });

  it('keeps at most 20 entries by default', () => {
    const long = Array.from({ length: 30 }, (_, index) => `R${index}:g`).join(' ');
    expect(retainedHistory(history(long), [])).toHaveLength(20);
  });
});
