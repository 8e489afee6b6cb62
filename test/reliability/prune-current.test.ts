// Defence in depth for pruning: the planner never names the release `current` points at
// (release-retention.ts), but a plan is only as right as the records it read. The host checks
// again before it deletes (release-record.ts pruneRelease), by where `current` really leads, in
// whatever form the link is written. Run by a real sh with real readlink on a scratch host
// (test/helpers/apply-run.ts), and in a whole apply script whose plan was made to lie.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { factScript, factsDigest } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost, type HostPlan } from '../../src/core/plan.js';
import { pruneRelease } from '../../src/core/release-record.js';
import { ScratchHost } from '../helpers/apply-run.js';
import { CONFIG, manifest } from '../helpers/plan-fixtures.js';

const RELEASES = '/var/www/api-orders/releases';
const A = 'aaaaaaaaaaaa';
const B = 'bbbbbbbbbbbb';

describe('pruneRelease on a real sh: never what current leads into', () => {
  let host: ScratchHost;
  beforeAll(() => {
    host = ScratchHost.create();
  });
  afterAll(() => host?.dispose());

  const cases: [string, string, string[]][] = [
    ['releases/ID (as svc writes it)', `releases/${B}`, [B]],
    ['the absolute path', `${RELEASES}/${B}`, [B]],
    ['with ./ and a trailing slash', `./releases/${B}/`, [B]],
    ['up and down again', `../api-orders/releases/${B}`, [B]],
    ['through another link', 'elsewhere', [B]],
    ['into a directory inside the release', `releases/${B}/public`, [B]],
    ['at neither (both go)', `releases/${A}x`, []],
    ['dangling: nothing is live', 'releases/gone', []],
  ];
  it.each(cases)('current -> %s', (_, target, kept) => {
    const out = host.sh(
      [
        'set -e',
        `rm -rf /var/www/api-orders && mkdir -p ${RELEASES}/${A} ${RELEASES}/${B}/public ${RELEASES}/${A}x`,
        `ln -s releases/${B} /var/www/api-orders/elsewhere`,
        `ln -s ${target} /var/www/api-orders/current`,
        // The protocol channel of the apply script, here stdout.
        `say() { printf '%s\\n' "$*"; }`,
        pruneRelease('api-orders', `${RELEASES}/${A}`),
        pruneRelease('api-orders', `${RELEASES}/${B}`),
        `ls ${RELEASES}`,
      ].join('\n'),
    );
    const lines = out.split('\n').filter(Boolean);
    const warnings = lines.filter((line) => line.startsWith('WARNING'));
    expect(warnings).toEqual(
      kept.map(
        (id) => `WARNING\tkept release ${id}: current points into it, whatever the records say`,
      ),
    );
    // A always goes; B stays exactly when current leads into it (A's look-alike aaa…x is no prefix).
    expect(lines.filter((line) => !line.startsWith('WARNING'))).toEqual([`${A}x`, ...kept].sort());
  });
});

describe('an apply script whose plan prunes the release going live', () => {
  let host: ScratchHost;
  beforeAll(() => {
    host = ScratchHost.create();
  });
  afterAll(() => host?.dispose());

  const PLAYBOOK = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');

  function deploy(release: string, lie: (plan: HostPlan) => void = () => {}) {
    const steps = parsePlaybook(PLAYBOOK, 'playbooks/deploy.yaml');
    const expanded = expandPlaybook(steps, {
      manifest,
      host: { name: 'web1', login: 'deploy', vars: {} },
      config: CONFIG,
      release: { id: release, files: 1, bytes: 15 },
      playbookFile: 'playbooks/deploy.yaml',
    });
    // A salted digest, as svc makes one per run: the host's stale check hashes the same salt first.
    const request = buildFactRequest(manifest, expanded, 'deploy', false, '5a17ed'.repeat(4));
    const output = host.sh(factScript(request));
    const facts = { ...parseFacts(output, request, 'web1'), init: 'systemd' as const };
    const ops = resolveHomePaths(expanded, facts.login.home);
    const plan = planHost('web1', ops, facts, factsDigest(output, request.salt));
    expect(plan.problems).toEqual([]);
    lie(plan);
    const bundle = buildApply(
      {
        manifest,
        operations: ops,
        plan,
        facts,
        factRequest: request,
        holder: '{"who":"test"}',
        lockWaitSeconds: 0,
        healthTimeoutSeconds: 2,
        now: '2026-12-06T00:00:00.000Z',
        nonce: 'n0nce',
      },
      [{ path: 'server.js', mode: 0o644, content: new TextEncoder().encode(`// ${release}\n`) }],
    );
    return host.apply(bundle);
  }

  it('keeps it, says so, and still prunes what may go', () => {
    expect(deploy(A).code).toBe(0);
    const second = deploy(B, (plan) => {
      for (const id of [A, B])
        plan.changes.push({
          action: 'delete',
          kind: 'release',
          target: `${RELEASES}/${id}`,
          reasons: ['a planner that was wrong'],
        });
    });
    expect(second.code).toBe(0);
    expect(second.protocol).toContain(
      `WARNING\tkept release ${B}: current points into it, whatever the records say`,
    );
    expect(host.sh(`readlink /var/www/api-orders/current; ls ${RELEASES}`).split('\n')).toEqual([
      `releases/${B}`,
      B,
      '',
    ]);
  }, 120_000);
});
