// The apply script run for real on a scratch host (test/helpers/apply-run.ts: a private
// namespace, real sh and coreutils, stand-ins only for systemctl, monit, nginx and curl), with
// facts gathered there by the real fact script: what a deploy leaves on disk, what it says on its
// protocol channel line by line, and which service commands it runs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { digestedFacts, factScript } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import type { Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';
import { ScratchHost, unhex, type StepResult } from '../helpers/apply-run.js';
import { CONFIG, file, manifest } from '../helpers/plan-fixtures.js';

const PLAYBOOK = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');

interface Deploy {
  config?: LocalFile[];
  manifest?: Manifest;
  release?: string;
  input?: Partial<ApplyInput>;
  /** sh run on the host after the plan, just before the script. */
  before?: string;
}

/** svc deploy against the scratch host: facts gathered there, a plan, the script run there. */
function deploy(host: ScratchHost, options: Deploy = {}): StepResult & { script: string } {
  const forManifest = options.manifest ?? manifest;
  const release = options.release ?? 'abc123abc123';
  const steps = parsePlaybook(PLAYBOOK, 'playbooks/deploy.yaml');
  const expanded = expandPlaybook(steps, {
    manifest: forManifest,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config: options.config ?? CONFIG,
    release: { id: release, files: 1, bytes: 15 },
    playbookFile: 'playbooks/deploy.yaml',
  });
  const request = buildFactRequest(forManifest, expanded, 'deploy');
  const output = host.sh(factScript(request));
  const facts = { ...parseFacts(output, request, 'web1'), init: 'systemd' as const };
  const ops = resolveHomePaths(expanded, facts.login.home);
  const plan = planHost('web1', ops, facts, sha256Hex(digestedFacts(output)));
  expect(plan.problems).toEqual([]);
  const bundle = buildApply(
    {
      manifest: forManifest,
      operations: ops,
      plan,
      facts,
      factRequest: request,
      holder: '{"who":"test"}',
      lockWaitSeconds: 0,
      healthTimeoutSeconds: 2,
      now: '2026-11-27T00:00:00.000Z',
      nonce: 'n0nce',
      ...options.input,
    },
    [{ path: 'server.js', mode: 0o644, content: new TextEncoder().encode(`// ${release}\n`) }],
  );
  return { ...host.apply(bundle, options.before), script: bundle.script };
}

const BAD_UNIT = CONFIG.map((local) =>
  local.path.endsWith('.service') ? file(local.path, '[Service]\nExecStart=/bin/false\n') : local,
);

describe('a first deploy, then a redeploy that is rolled back, run by a real sh', () => {
  let host: ScratchHost;
  let first: StepResult;
  let bad: StepResult;
  beforeAll(() => {
    host = ScratchHost.create();
    first = deploy(host);
  }, 120_000);
  afterAll(() => host?.dispose());

  it('first deploy: exit 0 and the protocol, line by line', () => {
    expect({ code: first.code, protocol: first.protocol }).toEqual({ code: 0, protocol: [] });
  });

  it('first deploy: the tree', () => {
    expect(host.tree('/var/www', '/var/lib/svc', '/var/log/api-orders', '/home/deploy', '/run')).toEqual([]);
    expect(first.calls).toEqual([]);
  });

  it('redeploy: rolled back', () => {
    bad = deploy(host, { config: BAD_UNIT });
    expect({ code: bad.code, protocol: bad.protocol }).toEqual({ code: 0, protocol: [] });
    expect(bad.calls).toEqual([]);
  });
});
