// How plans read, as tables: each kind of change, host outcome and footer with its exact lines.
// The paint functions tag what they colour, so a change of colour is a change of text here.
import { describe, expect, it } from 'vitest';
import {
  formatFooter,
  formatHostOutcome,
  formatPlans,
  formatSize,
  planDocument,
  PLAN_JSON_VERSION,
  summaryLine,
  type HostOutcome,
  type Paint,
} from '../../src/core/plan-format.js';
import type { Change, HostPlan } from '../../src/core/plan.js';

const paint: Paint = {
  green: (text) => `g(${text})`,
  yellow: (text) => `y(${text})`,
  red: (text) => `r(${text})`,
  bold: (text) => `b(${text})`,
  dim: (text) => `d(${text})`,
};

function planned(host: string, plan: Partial<HostPlan> = {}, address = '10.0.0.1'): HostOutcome {
  return {
    host,
    address,
    port: 22,
    user: 'deploy',
    status: 'planned',
    plan: {
      host,
      changes: [],
      unchanged: 0,
      problems: [],
      warnings: [],
      factsDigest: `digest-${host}`,
      ...plan,
    },
  };
}

const failed = (host: string, error = 'connection refused'): HostOutcome => ({
  host,
  address: '10.0.0.9',
  port: 2222,
  user: 'root',
  status: 'failed',
  error,
});

/** The lines one change adds to a host's plan (title and Plan: line left out). */
const linesOf = (change: Change, diff = false) =>
  formatHostOutcome(planned('web1', { changes: [change] }), paint, { diff })
    .split('\n')
    .slice(1, -2);

describe('one change', () => {
  const cases: [string, Change, boolean, string[]][] = [
    [
      'a new file: one line with its size, its diff only with --diff',
      {
        action: 'create',
        kind: 'file',
        target: '/srv/a',
        reasons: ['from config/srv/a'],
        detail: '0644 root:root',
        size: 2048,
        diff: '+x',
      },
      false,
      ['  g(+ file    ) /srv/a  d(0644 root:root 2.0 KiB)', '      d(from config/srv/a)'],
    ],
    [
      'a new file with --diff: its diff, painted by line',
      {
        action: 'create',
        kind: 'file',
        target: '/srv/a',
        reasons: ['from config/srv/a'],
        detail: '0644 root:root',
        size: 2,
        diff: '--- /dev/null\n+++ /srv/a\n@@ -0,0 +1,1 @@\n+x',
      },
      true,
      [
        '  g(+ file    ) /srv/a  d(0644 root:root)',
        '      d(from config/srv/a)',
        '      r(--- /dev/null)',
        '      g(+++ /srv/a)',
        '      @@ -0,0 +1,1 @@',
        '      g(+x)',
      ],
    ],
    [
      'a new file without a detail: its size alone',
      { action: 'create', kind: 'file', target: '/srv/a', reasons: [], size: 10 },
      false,
      ['  g(+ file    ) /srv/a  d(10 B)'],
    ],
    [
      'a new directory: no "absent" said',
      {
        action: 'create',
        kind: 'dir',
        target: '/srv/d',
        reasons: ['absent'],
        detail: '0755 root:root',
      },
      false,
      ['  g(+ dir     ) /srv/d  d(0755 root:root)'],
    ],
    [
      'an updated file: why, its diff, a warning',
      {
        action: 'update',
        kind: 'file',
        target: '/srv/a',
        reasons: ['content changed', 'mode 0644 -> 0600'],
        detail: '0600 root:root',
        diff: ' same\n-old\n+new',
        warnings: ['not created by svc'],
      },
      false,
      [
        '  y(~ file    ) /srv/a  d(0600 root:root)',
        '      d(content changed; mode 0644 -> 0600)',
        '      y(! not created by svc)',
        '       same',
        '      r(-old)',
        '      g(+new)',
      ],
    ],
    [
      'an updated file whose live content holds control and bidi characters: shown escaped',
      {
        action: 'update',
        kind: 'file',
        target: '/srv/a',
        reasons: ['content changed'],
        diff: '-\u001b[2J\u009b31m\n+new\u2066',
      },
      false,
      [
        '  y(~ file    ) /srv/a',
        '      d(content changed)',
        '      r(-\\x1b[2J\\x9b31m)',
        '      g(+new\\u2066)',
      ],
    ],
    [
      'a new secret: said not shown, its size neither (even when a change carries one)',
      {
        action: 'create',
        kind: 'file',
        target: '/srv/env',
        reasons: [],
        detail: '0600 root:root',
        size: 30,
        sensitive: true,
      },
      false,
      ['  g(+ file    ) /srv/env  d(0600 root:root)', '      y((sensitive: content not shown))'],
    ],
    [
      'a changed secret',
      {
        action: 'update',
        kind: 'file',
        target: '/srv/env',
        reasons: ['content changed'],
        sensitive: true,
      },
      false,
      [
        '  y(~ file    ) /srv/env',
        '      d(content changed)',
        '      y((sensitive value changed))',
      ],
    ],
    [
      'a deleted release',
      {
        action: 'delete',
        kind: 'release',
        target: '/var/www/a/releases/r1',
        reasons: ['keeping the last 5 releases'],
      },
      false,
      ['  r(- release ) /var/www/a/releases/r1', '      d(keeping the last 5 releases)'],
    ],
    [
      'a restart',
      { action: 'restart', kind: 'service', target: 'app', reasons: ['/srv/a changed'] },
      false,
      ['  y(↻ restart service) app', '      d(/srv/a changed)'],
    ],
    [
      'a start',
      { action: 'start', kind: 'service', target: 'app', reasons: ['not running'] },
      false,
      ['  y(↻ start service) app', '      d(not running)'],
    ],
    [
      'a monit reload',
      { action: 'reload', kind: 'monit', target: 'app', reasons: ['x changed'] },
      false,
      ['  y(↻ reload monit) app', '      d(x changed)'],
    ],
    [
      'an nginx reload',
      { action: 'reload', kind: 'nginx', target: 'site', reasons: ['x changed'] },
      false,
      ['  y(↻ nginx   ) site', '      d(x changed)'],
    ],
    [
      'a link',
      {
        action: 'update',
        kind: 'link',
        target: '/srv/l',
        reasons: ['points to a'],
        detail: '-> b',
      },
      false,
      ['  y(~ link    ) /srv/l  d(-> b)', '      d(points to a)'],
    ],
  ];
  it.each(cases)('%s', (_, change, diff, lines) => {
    expect(linesOf(change, diff)).toEqual(lines);
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024, '1024.0 KiB'],
  ])('formatSize(%d) is %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

describe('one host', () => {
  const change: Change = {
    action: 'start',
    kind: 'service',
    target: 'app',
    reasons: ['not running'],
  };
  const cases: [string, HostOutcome, string][] = [
    ['failed: one line', failed('db'), 'b(db (root@10.0.0.9:2222)): r(connection refused)\n'],
    [
      'nothing to change',
      planned('web1', { unchanged: 3 }),
      'b(web1 (deploy@10.0.0.1:22))\n  g(no changes) (3 in place)\n',
    ],
    [
      'problems and warnings, no changes',
      planned('web1', { unchanged: 2, problems: ['p1', 'p2'], warnings: ['w1'] }),
      'b(web1 (deploy@10.0.0.1:22))\n  r(✗ p1)\n  r(✗ p2)\n  y(! w1)\n',
    ],
    [
      'a warning, no changes',
      planned('web1', { warnings: ['w1'] }),
      'b(web1 (deploy@10.0.0.1:22))\n  g(no changes) (0 in place)\n  y(! w1)\n',
    ],
    [
      'changes: with the plan line',
      planned('web1', { changes: [change], unchanged: 4 }),
      'b(web1 (deploy@10.0.0.1:22))\n  y(↻ start service) app\n      d(not running)\n  Plan: 0 to create, 0 to update, 0 to delete, 1 to (re)start or reload; 4 in place.\n',
    ],
  ];
  it.each(cases)('%s', (_, outcome, text) => {
    expect(formatHostOutcome(outcome, paint)).toBe(text);
  });

  it('summaryLine', () => {
    expect(summaryLine({ create: 1, update: 2, delete: 3, restart: 4 })).toBe(
      '1 to create, 2 to update, 3 to delete, 4 to (re)start or reload',
    );
  });
});

describe('all hosts', () => {
  const change: Change = { action: 'create', kind: 'dir', target: '/srv', reasons: ['absent'] };
  it('shows identical plans once under their hosts, others on their own', () => {
    const outcomes = [
      planned('web1', { changes: [change] }),
      planned('web2', { changes: [change] }),
      planned('db', { unchanged: 1 }),
      failed('x'),
    ];
    expect(formatPlans(outcomes, paint)).toBe(
      [
        'b(web1, web2): identical (2 hosts)',
        '  g(+ dir     ) /srv',
        '  Plan: 1 to create, 0 to update, 0 to delete, 0 to (re)start or reload; 0 in place.',
        '',
        'b(db (deploy@10.0.0.1:22))',
        '  g(no changes) (1 in place)',
        '',
        'b(x (root@10.0.0.9:2222)): r(connection refused)',
        '',
        '',
      ].join('\n'),
    );
  });

  it('passes --diff on to the plan a group shares', () => {
    const file: Change = {
      action: 'create',
      kind: 'file',
      target: '/srv/a',
      reasons: [],
      size: 2,
      diff: '+x',
    };
    const outcomes = [planned('web1', { changes: [file] }), planned('web2', { changes: [file] })];
    expect(formatPlans(outcomes, paint, { diff: true }).split('\n').slice(0, 3)).toEqual([
      'b(web1, web2): identical (2 hosts)',
      '  g(+ file    ) /srv/a',
      '      g(+x)',
    ]);
    expect(formatPlans([outcomes[0]!], paint, { diff: true }).split('\n').slice(0, 3)).toEqual([
      'b(web1 (deploy@10.0.0.1:22))',
      '  g(+ file    ) /srv/a',
      '      g(+x)',
    ]);
  });

  const footers: [string, HostOutcome[], string[]][] = [
    [
      'no hosts',
      [],
      ['b(Total): 0 to create, 0 to update, 0 to delete, 0 to (re)start or reload on 0 hosts.'],
    ],
    [
      'one host with changes',
      [planned('web1', { changes: [change, change] })],
      ['b(Total): 2 to create, 0 to update, 0 to delete, 0 to (re)start or reload on 1 host.'],
    ],
    [
      'hosts with problems, things in place and failures',
      [
        planned('web1', { changes: [change], problems: ['p'] }),
        planned('web2', { problems: ['p'], unchanged: 2 }),
        planned('web3', { changes: [change] }),
        failed('db'),
        failed('db2'),
      ],
      [
        'b(Total): 2 to create, 0 to update, 0 to delete, 0 to (re)start or reload on 3 hosts.',
        'r(2 host(s) have problems deploy would refuse: web1, web2)',
        'd("in place": users, directories, files, links and services svc manages that already are as svc.yaml wants; left as they are.)',
        'r(2 host(s) failed: db, db2 (why: above))',
      ],
    ],
  ];
  it.each(footers)('footer: %s', (_, outcomes, lines) => {
    expect(formatFooter(outcomes, paint)).toBe(`${lines.join('\n')}\n`);
  });

  it('the JSON document: every host, optional fields only when present', () => {
    const changes: Change[] = [
      { action: 'create', kind: 'dir', target: '/srv', reasons: ['absent'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/a',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '-a\n+b',
        warnings: ['w'],
        size: 3,
      },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/env',
        reasons: ['content changed'],
        sensitive: true,
      },
      { action: 'restart', kind: 'service', target: 'app', reasons: ['x'], sensitive: false },
    ];
    const document = planDocument('app', [
      planned('web1', { changes, unchanged: 5, problems: ['p'], warnings: ['w1'] }),
      failed('db'),
    ]);
    expect(JSON.stringify(document)).toBe(
      JSON.stringify({
        version: PLAN_JSON_VERSION,
        service: 'app',
        summary: { create: 1, update: 2, delete: 0, restart: 1, hosts: 2, failed: 1 },
        hosts: [
          {
            host: 'web1',
            address: '10.0.0.1',
            user: 'deploy',
            status: 'planned',
            factsDigest: 'digest-web1',
            summary: { create: 1, update: 2, delete: 0, restart: 1 },
            unchanged: 5,
            problems: ['p'],
            warnings: ['w1'],
            changes: [
              { action: 'create', kind: 'dir', target: '/srv', reasons: ['absent'] },
              {
                action: 'update',
                kind: 'file',
                target: '/srv/a',
                reasons: ['content changed'],
                detail: '0644 root:root',
                diff: '-a\n+b',
                warnings: ['w'],
              },
              {
                action: 'update',
                kind: 'file',
                target: '/srv/env',
                reasons: ['content changed'],
                sensitive: true,
              },
              { action: 'restart', kind: 'service', target: 'app', reasons: ['x'] },
            ],
          },
          {
            host: 'db',
            address: '10.0.0.9',
            user: 'root',
            status: 'failed',
            error: 'connection refused',
          },
        ],
      }),
    );
    expect(PLAN_JSON_VERSION).toBe(1);
  });
});
