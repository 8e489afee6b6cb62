// The release phase's script (release: { on: first }), word for word, for a first deploy (the
// user, directories and release are made before the commands) and for a new release on a
// deployed host; and what it ships. test/integration/release-commands.test.ts runs it for real.
import { describe, expect, it } from 'vitest';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';
import { buildReleasePhase } from '../../src/core/release-phase.js';
import {
  CONFIG,
  PLAYBOOK,
  deployedFacts,
  facts,
  file,
  manifest,
  SALT,
} from '../helpers/plan-fixtures.js';

const WITH_RELEASE = {
  ...manifest,
  install: ['npm', 'ci'],
  release: {
    run: [
      ['node', 'migrate.js'],
      ['sh', '-c', "echo 'it''s'"],
    ],
    timeout: 60,
  },
} as Manifest;

function generate(hostFacts: HostFacts, config: LocalFile[], release: string): string {
  const expanded = expandPlaybook(parsePlaybook(PLAYBOOK, 'deploy.yaml'), {
    manifest: WITH_RELEASE,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config,
    release: { id: release, files: 1, bytes: 1 },
    playbookFile: 'deploy.yaml',
  });
  const ops = resolveHomePaths(expanded, hostFacts.login.home);
  const plan = planHost('web1', ops, hostFacts, 'f'.repeat(64));
  const phase = buildReleasePhase(
    {
      manifest: WITH_RELEASE,
      operations: ops,
      plan,
      facts: hostFacts,
      factRequest: buildFactRequest(WITH_RELEASE, ops, 'deploy', false, SALT),
      holder: '{"who":"test"}',
      lockWaitSeconds: 3,
      healthTimeoutSeconds: 5,
      now: '2026-11-27T00:00:00.000Z',
      nonce: 'n0nce',
    },
    [{ path: 'server.js', mode: 0o644, content: new TextEncoder().encode('x') }],
  );
  return [
    `# prepared: ${phase.prepared.map((index) => `${index} ${plan.changes[index]!.kind} ${plan.changes[index]!.target}`).join('; ')}`,
    ...phase.entries.map(
      (entry) =>
        `# entry: ${entry.path} ${entry.mode.toString(8)} ${sha256Hex(entry.content).slice(0, 12)}`,
    ),
    phase.script,
  ].join('\n');
}

describe('the release phase script, word for word', () => {
  it('first deploy: user, directories, release, then the commands with the staged env file', async () => {
    await expect(generate(facts(), CONFIG, 'abc123abc123')).toMatchFileSnapshot(
      './__golden__/release-phase/first-deploy.sh',
    );
  });

  it('a new release on a deployed host, env file unchanged: the installed one', async () => {
    await expect(generate(deployedFacts(), CONFIG, 'def456def456')).toMatchFileSnapshot(
      './__golden__/release-phase/new-release.sh',
    );
  });

  it('a new release with a changed env file: staged, shipped as `env`', async () => {
    const config = [file('etc/default/api-orders', 'SECRET=new\n', 0o600), ...CONFIG.slice(1)];
    const text = generate(deployedFacts(), config, 'def456def456');
    expect(text).toContain(
      `# entry: env 600 ${sha256Hex(new TextEncoder().encode('SECRET=new\n')).slice(0, 12)}`,
    );
    expect(text).toContain(
      `release_run 1 2 60 /var/www/api-orders/releases/def456def456 "$stage/env" node migrate.js\n`,
    );
  });
});
