// One ApplyInput from a scenario (facts, config/, manifest, playbook), planned by the real planner:
// what the apply-script tests (word for word, and by case) build their scripts from.
import type { ApplyInput } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import type { LocalFile } from '../../src/core/release.js';
import { CONFIG, PLAYBOOK, SALT, manifest } from './plan-fixtures.js';

export interface Scenario {
  facts: () => HostFacts;
  config?: LocalFile[];
  manifest?: Manifest;
  release?: string;
  playbook?: string;
  input?: Partial<ApplyInput>;
}

export function applyInput(scenario: Scenario): ApplyInput {
  const forManifest = scenario.manifest ?? manifest;
  const hostFacts = scenario.facts();
  const expanded = expandPlaybook(parsePlaybook(scenario.playbook ?? PLAYBOOK, 'deploy.yaml'), {
    manifest: forManifest,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config: scenario.config ?? CONFIG,
    release: { id: scenario.release ?? 'abc123abc123', files: 1, bytes: 1 },
    playbookFile: 'deploy.yaml',
  });
  const ops = resolveHomePaths(expanded, hostFacts.login.home);
  return {
    manifest: forManifest,
    operations: ops,
    plan: planHost('web1', ops, hostFacts, 'f'.repeat(64)),
    facts: hostFacts,
    factRequest: buildFactRequest(forManifest, ops, 'deploy', false, SALT),
    holder: '{"who":"test"}',
    lockWaitSeconds: 3,
    healthTimeoutSeconds: 5,
    now: '2026-11-27T00:00:00.000Z',
    nonce: 'n0nce',
    ...scenario.input,
  };
}

/** The one release file every scenario ships. */
export const RELEASE_FILES = [
  { path: 'server.js', mode: 0o644, content: new TextEncoder().encode('x') },
];
