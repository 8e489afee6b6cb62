// A first deploy's history record in the apply script (apply-script.ts, history-script.ts): it
// begins before /var/lib/svc/NAME exists (`later`), so its pending record (what a shell killed
// outright leaves) goes in right after the plan's mkdir of that directory, before the release
// and its install step, not only at the end. A deploy to a host that has the directory begins
// with its pending record and needs no second one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts, PathFact } from '../../src/core/facts.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import { CONFIG, SALT, facts, manifest } from '../helpers/plan-fixtures.js';

// svc's own deploy playbook: it makes /var/lib/svc/NAME (the fixtures' shorter one does not).
const PLAYBOOK = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');

function script(hostFacts: HostFacts): string {
  const expanded = expandPlaybook(parsePlaybook(PLAYBOOK, 'deploy.yaml'), {
    manifest,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config: CONFIG,
    release: { id: 'abc123abc123', files: 3, bytes: 2048 },
    playbookFile: 'deploy.yaml',
  });
  const ops = resolveHomePaths(expanded, hostFacts.login.home);
  const plan = planHost('web1', ops, hostFacts, 'digest');
  return buildApply(
    {
      manifest,
      operations: ops,
      plan,
      facts: hostFacts,
      factRequest: buildFactRequest(manifest, ops, 'deploy', false, SALT),
      holder: '{}',
      lockWaitSeconds: 5,
      healthTimeoutSeconds: 30,
      now: '2026-01-01T00:00:00Z',
      nonce: 'n',
    },
    [],
  ).script;
}

describe("a first deploy's pending record", () => {
  it('goes in right after the plan made /var/lib/svc/NAME, before the release', () => {
    const text = script(facts());
    const applying = text.indexOf('\napplying=1\n');
    const mkdir = text.indexOf('\nmkdir -m 0700 -- /var/lib/svc/api-orders\n', applying);
    const later = text.indexOf('\nhist_later || { say "FAIL\tsvc cannot keep its history in');
    const release = text.indexOf('/var/www/api-orders/releases/abc123abc123', applying);
    expect(mkdir).toBeGreaterThan(applying);
    expect(later).toBeGreaterThan(mkdir);
    expect(release).toBeGreaterThan(later);
    expect(text.split('\nhist_later ')).toHaveLength(2);
  });

  it('a host that has the directory: the record began with its pending record, no hist_later', () => {
    const dir: PathFact = {
      path: '/var/lib/svc/api-orders',
      type: 'dir',
      mode: 0o700,
      owner: 'root',
      group: 'root',
    };
    expect(script(facts([dir]))).not.toContain('\nhist_later ');
  });
});
