// Grouping identical plans and naming hosts briefly (src/core/plan-groups.ts), as tables.
import { describe, expect, it } from 'vitest';
import type { HostOutcome } from '../../src/core/plan-format.js';
import { groupOutcomes, hostList, planKey } from '../../src/core/plan-groups.js';
import type { HostPlan } from '../../src/core/plan.js';

describe('hostList', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['web1', 'web2', 'web3'], 'web1..web3'],
    [['web1', 'web2'], 'web1, web2'],
    [['web1', 'web3', 'web5'], 'web1, web3, web5'],
    [['web3', 'web2', 'web1'], 'web3, web2, web1'],
    [['web1', 'web1', 'web1'], 'web1, web1, web1'],
    [['web9', 'web10', 'web11'], 'web9..web11'],
    [['a19', 'a20', 'a21'], 'a19..a21'],
    [['1', '2', '3'], '1..3'],
    [['x1y', 'x2y', 'x3y'], 'x1y, x2y, x3y'],
    [['web1', 'db2', 'web3'], 'web1, db2, web3'],
    [['db', 'web1', 'web2', 'web3', 'web4', 'x'], 'db, web1..web4, x'],
    [['web0', 'web1', 'web2'], 'web0..web2'],
    [['web08', 'web09', 'web10'], 'web08, web09, web10'],
    [['web01', 'web2', 'web3'], 'web01, web2, web3'],
    [['web1', 'web2', 'web3', 'web04', 'web05', 'web06'], 'web1..web3, web04, web05, web06'],
  ])('%j is %s', (names, text) => {
    expect(hostList(names)).toBe(text);
  });
});

describe('planKey and groupOutcomes', () => {
  const plan = (host: string, extra: Partial<HostPlan> = {}): HostPlan => ({
    host,
    changes: [],
    unchanged: 1,
    problems: [],
    warnings: [],
    factsDigest: host,
    ...extra,
  });
  const planned = (host: string, extra: Partial<HostPlan> = {}): HostOutcome => ({
    host,
    address: host,
    port: 22,
    user: 'u',
    status: 'planned',
    plan: plan(host, extra),
  });
  const failed = (host: string): HostOutcome => ({
    host,
    address: host,
    port: 22,
    user: 'u',
    status: 'failed',
    error: 'same error',
  });

  it('the key leaves out the host and its facts digest, and nothing else', () => {
    expect(planKey(plan('a'))).toBe(planKey(plan('b')));
    expect(planKey(plan('a'))).toBe('[[],[],[],1]');
    const change = { action: 'start' as const, kind: 'service' as const, target: 's', reasons: [] };
    for (const extra of [
      { changes: [change] },
      { problems: ['p'] },
      { warnings: ['w'] },
      { unchanged: 2 },
      { environment: { name: 'staging', secrets: [] } },
    ])
      expect(planKey(plan('a', extra))).not.toBe(planKey(plan('a')));
  });

  it.each([
    ['all the same', [planned('a'), planned('b'), planned('c')], [['a', 'b', 'c']]],
    [
      'a problem sets one apart',
      [planned('a'), planned('b', { problems: ['p'] }), planned('c')],
      [['a', 'c'], ['b']],
    ],
    [
      'a warning sets one apart',
      [planned('a', { warnings: ['w'] }), planned('b'), planned('c', { warnings: ['w'] })],
      [['a', 'c'], ['b']],
    ],
    [
      'failed hosts stand alone, even with the same error',
      [failed('a'), planned('b'), failed('c'), planned('d')],
      [['a'], ['b', 'd'], ['c']],
    ],
  ] as [string, HostOutcome[], string[][]][])('%s', (_, outcomes, groups) => {
    expect(groupOutcomes(outcomes).map((group) => group.outcomes.map((o) => o.host))).toEqual(
      groups,
    );
  });
});
