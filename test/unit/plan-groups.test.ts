// Grouping identical plans (src/core/plan-groups.ts) and the one-line new file
// (src/core/plan-format.ts): pure, checked on hand-made plans.
import { describe, expect, it } from 'vitest';
import { formatPlans, type HostOutcome, type Paint } from '../../src/core/plan-format.js';
import { groupOutcomes, hostList } from '../../src/core/plan-groups.js';
import type { Change, HostPlan } from '../../src/core/plan.js';

const same = (text: string) => text;
const paint: Paint = { green: same, yellow: same, red: same, bold: same, dim: same };

const CTL = Array.from({ length: 40 }, (_, index) => `line ${index}`).join('\n');
const newFile: Change = {
  action: 'create',
  kind: 'file',
  target: '/usr/local/lib/svc/api/ctl',
  reasons: ['from svc'],
  detail: '0755 root:root',
  size: 2048,
  diff: CTL.split('\n')
    .map((line) => `+${line}`)
    .join('\n'),
};
const secretFile: Change = {
  action: 'create',
  kind: 'file',
  target: '/home/deploy/service/api/env',
  reasons: ['from svc.yaml env'],
  detail: '0600 deploy:deploy',
  size: 30,
  sensitive: true,
};

function planned(host: string, changes: Change[] = [newFile], unchanged = 3): HostOutcome {
  const plan: HostPlan = {
    host,
    changes,
    unchanged,
    problems: [],
    warnings: [],
    factsDigest: `digest-${host}`,
  };
  return {
    host,
    address: `10.0.0.${host.length}`,
    port: 22,
    user: 'deploy',
    status: 'planned',
    plan,
  };
}

describe('hostList', () => {
  it('writes runs of numbered names as a range and the rest as a comma list', () => {
    const ten = Array.from({ length: 10 }, (_, index) => `sbx-${index + 1}`);
    expect(hostList(ten)).toBe('sbx-1..sbx-10');
    expect(hostList(['web1', 'web2'])).toBe('web1, web2');
    expect(hostList(['sbx-1', 'sbx-2', 'sbx-3', 'sbx-5', 'db'])).toBe('sbx-1..sbx-3, sbx-5, db');
    expect(hostList(['a-1', 'a-2', 'b-3', 'b-4', 'b-5'])).toBe('a-1, a-2, b-3..b-5');
    expect(hostList(['sbx-01', 'sbx-02', 'sbx-03'])).toBe('sbx-01, sbx-02, sbx-03');
    expect(hostList(['alpha', 'beta'])).toBe('alpha, beta');
  });
});

describe('groupOutcomes', () => {
  it('puts hosts with identical plans together and keeps a differing host on its own', () => {
    const other: Change = { ...newFile, detail: '0700 root:root' };
    const outcomes = [
      planned('sbx-1'),
      planned('sbx-2', [other]),
      planned('sbx-3'),
      planned('sbx-4', [newFile], 4),
      {
        host: 'sbx-5',
        address: '10.0.0.5',
        port: 22,
        user: 'deploy',
        status: 'failed',
        error: 'x',
      },
      {
        host: 'sbx-6',
        address: '10.0.0.6',
        port: 22,
        user: 'deploy',
        status: 'failed',
        error: 'x',
      },
    ] satisfies HostOutcome[];
    const groups = groupOutcomes(outcomes).map((group) => group.outcomes.map((o) => o.host));
    expect(groups).toEqual([['sbx-1', 'sbx-3'], ['sbx-2'], ['sbx-4'], ['sbx-5'], ['sbx-6']]);
  });
});

describe('formatPlans', () => {
  const ten = Array.from({ length: 10 }, (_, index) => planned(`sbx-${index + 1}`));

  it('shows ten identical hosts once, under their list', () => {
    const text = formatPlans(ten, paint);
    expect(text).toContain('sbx-1..sbx-10: identical (10 hosts)');
    expect(text.match(/\/usr\/local\/lib\/svc\/api\/ctl/g)).toHaveLength(1);
    expect(text.match(/Plan: /g)).toHaveLength(1);
    expect(text.split('\n').length).toBeLessThan(10);
  });

  it('shows a host that differs on its own, with its login', () => {
    const text = formatPlans([...ten.slice(0, 9), planned('sbx-10', [newFile], 7)], paint);
    expect(text).toContain('sbx-1..sbx-9: identical (9 hosts)');
    expect(text).toContain('sbx-10 (deploy@10.0.0.6:22)');
    expect(text.match(/Plan: /g)).toHaveLength(2);
  });

  it('folds a new file to one line with mode, owner and size unless diff is asked for', () => {
    const folded = formatPlans([planned('a')], paint);
    expect(folded).toContain('+ file     /usr/local/lib/svc/api/ctl  0755 root:root 2.0 KiB');
    expect(folded).not.toContain('line 39');
    const full = formatPlans([planned('a')], paint, { diff: true });
    expect(full).toContain('+line 39');
  });

  it('never shows a secret, with or without diff', () => {
    for (const diff of [false, true]) {
      const text = formatPlans([planned('a', [secretFile])], paint, { diff });
      expect(text).toContain('(sensitive: content not shown)');
      expect(text).toContain('0600 deploy:deploy');
      expect(text).not.toMatch(/^ {6}\+/m);
    }
  });
});
