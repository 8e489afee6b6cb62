// Which release `svc rollback` goes back to (rollback-choice.ts), as tables: each host's live
// release, release directories and history in, the release the plans name and each host's
// problem line out.
import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/facts.js';
import {
  chooseRollback,
  type HostReleases,
  type RollbackRequest,
} from '../../src/core/rollback-choice.js';

/** "A:g@1 B:b@2": id, g(ood) or b(ad), and the time svc recorded it. */
const history = (text: string): ReleaseRecord[] =>
  text
    .split(' ')
    .filter(Boolean)
    .map((word) => {
      const [, id, status, at] = /^(\w+):([gb])@(\d+)$/.exec(word)!;
      return {
        id: id!,
        status: status === 'g' ? 'good' : 'bad',
        at: `2026-12-06T00:00:${at!.padStart(2, '0')}Z`,
      };
    });

const host = (
  name: string,
  live: string | undefined,
  present: string,
  text: string,
): HostReleases => ({
  host: name,
  live,
  present: present.split(' ').filter(Boolean),
  history: history(text),
});

const ALL_OR_NONE = (who: string) =>
  `not rolled back: ${who} cannot be (a rollback moves every selected host or none)`;

describe('chooseRollback', () => {
  const cases: [
    string,
    HostReleases[],
    RollbackRequest,
    string | undefined,
    Record<string, string>,
  ][] = [
    [
      'one host: the newest healthy one other than the live one',
      [host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3')],
      {},
      'B',
      {},
    ],
    [
      'failed releases in between are passed over: good A, good B, bad C, bad D, good E',
      [host('h1', 'E', 'A B C D E', 'A:g@1 B:g@2 C:b@3 D:b@4 E:g@5')],
      {},
      'B',
      {},
    ],
    [
      'live B after its failed successors: back to A',
      [host('h1', 'B', 'A B C D', 'A:g@1 B:g@2 C:b@3 D:b@4')],
      {},
      'A',
      {},
    ],
    [
      'nothing healthy but the live one',
      [host('h1', 'A', 'A B', 'A:g@1 B:b@2')],
      {},
      undefined,
      { h1: 'no previous good release to roll back to' },
    ],
    [
      'no records (an older svc, or lost): nothing is known to be healthy',
      [host('h1', 'A', 'A B', '')],
      {},
      undefined,
      { h1: 'no previous good release to roll back to' },
    ],
    [
      'two hosts: only a release healthy on both counts',
      [
        host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'),
        host('h2', 'C', 'A B C', 'A:g@1 B:b@2 C:g@3'),
      ],
      {},
      'A',
      {},
    ],
    [
      'two hosts, none healthy on both',
      [host('h1', 'B', 'A B', 'A:g@1 B:g@2'), host('h2', 'B', 'A B', 'A:b@1 B:g@2')],
      {},
      undefined,
      {
        h1: 'no previous good release to roll back to on every selected host',
        h2: 'no previous good release to roll back to on every selected host',
      },
    ],
    [
      'a deploy that stopped half way: the release still live on one host brings the other back',
      [host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'), host('h2', 'B', 'A B', 'A:g@1 B:g@2')],
      {},
      'B',
      {},
    ],
    [
      'the candidate is missing on one host: a problem there, and the others stay',
      [
        host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'),
        host('h2', 'C', 'A C', 'A:g@1 B:g@2 C:g@3'),
        host('h3', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'),
      ],
      {},
      'B',
      {
        h2: 'release B (the newest live and healthy on every selected host) is no longer on h2: roll back with --to ID to a release every host has',
        h1: ALL_OR_NONE('h2'),
        h3: ALL_OR_NONE('h2'),
      },
    ],
    [
      'the newest by when it was last healthy: after a rollback from C to B, C',
      [host('h1', 'B', 'A B C', 'A:g@1 B:g@2 C:g@3 B:g@4')],
      {},
      'C',
      {},
    ],
    [
      'one host went back to C alone, then both to B: E, which both served since C',
      [
        host('h1', 'B', 'A B C E', 'A:g@1 B:g@2 C:g@3 E:g@4 C:g@5 B:g@6'),
        host('h2', 'B', 'A B C E', 'A:g@1 B:g@2 C:g@3 E:g@4 B:g@6'),
      ],
      {},
      'E',
      {},
    ],
    [
      '--to a release every host has',
      [host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'), host('h2', 'C', 'A B C', '')],
      { to: 'A' },
      'A',
      {},
    ],
    [
      '--to a release missing on one host',
      [host('h1', 'C', 'A B C', 'A:g@1 B:g@2 C:g@3'), host('h2', 'C', 'C B', '')],
      { to: 'A' },
      'A',
      { h2: 'no release A on h2 (it has B, C)', h1: ALL_OR_NONE('h2') },
    ],
    [
      '--to a release on no host',
      [host('h1', undefined, '', '')],
      { to: 'A' },
      'A',
      { h1: 'no release A on h1 (it has none)' },
    ],
    [
      '--to a release marked bad is refused',
      [host('h1', 'B', 'A B C', 'A:g@1 B:g@2 C:b@3')],
      { to: 'C' },
      'C',
      {
        h1: 'release C failed its health check on h1 at 2026-12-06T00:00:03Z: pass --force to roll back to it anyway',
      },
    ],
    [
      '--to a release marked bad, with --force',
      [host('h1', 'B', 'A B C', 'A:g@1 B:g@2 C:b@3')],
      { to: 'C', force: true },
      'C',
      {},
    ],
    [
      '--to a release that failed once and went live healthy since: not bad',
      [host('h1', 'B', 'A B', 'A:b@1 A:g@2 B:g@3')],
      { to: 'A' },
      'A',
      {},
    ],
    ['no host to choose for', [], {}, undefined, {}],
  ];
  it.each(cases)('%s', (_, hosts, request, release, problems) => {
    const choice = chooseRollback(hosts, request);
    expect(choice.release).toBe(release);
    expect(Object.fromEntries(choice.problems)).toEqual(problems);
  });
});
