// The apply script generator: every script it writes parses with a real sh, quotes hostile paths,
// and carries only the files the plan needs.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  manifest,
  operations,
} from '../helpers/plan-fixtures.js';

function bundle(hostFacts: HostFacts, config = CONFIG) {
  const ops = resolveHomePaths(operations(config), hostFacts.login.home);
  const plan = planHost('web1', ops, hostFacts, 'f'.repeat(64));
  const input: ApplyInput = {
    manifest,
    operations: ops,
    plan,
    facts: hostFacts,
    factRequest: buildFactRequest(manifest, ops, 'deploy'),
    holder: '{"who":"test"}',
    lockWaitSeconds: 0,
    healthTimeoutSeconds: 5,
    now: '2026-11-27T00:00:00.000Z',
    nonce: 'n0nce',
  };
  return buildApply(input, [
    { path: 'server.js', mode: 0o644, content: new TextEncoder().encode('x') },
  ]);
}

const parses = (script: string) => execFileSync('sh', ['-n'], { input: script, encoding: 'utf8' });

describe('buildApply', () => {
  it('writes a script sh can parse, for a first deploy', () => {
    const { script, entries, releaseId } = bundle(facts());
    expect(() => parses(script)).not.toThrow();
    expect(releaseId).toBe('abc123abc123');
    expect(entries.map((entry) => entry.path)).toEqual([
      'release/server.js',
      'overlay/0',
      'overlay/1',
      'overlay/2',
    ]);
    expect(script).toContain(
      `if [ "$digest" != ${'f'.repeat(64)} ]; then say "STALE"; exit 76; fi`,
    );
  });

  it('ships only what changed, and quotes a hostile path everywhere it appears', () => {
    const hostile = "etc/it's $(reboot) `id`.conf";
    const config = [...CONFIG, file(hostile, 'x\n')];
    const { script, entries } = bundle(deployedFacts(), config);
    expect(() => parses(script)).not.toThrow();
    expect(entries.map((entry) => entry.path)).toEqual(['overlay/0']);
    expect(script).toContain(`'/etc/it'\\''s $(reboot) \`id\`.conf'`);
    expect(script).toContain(`'/etc/.it'\\''s $(reboot) \`id\`.conf.svc-new'`);
  });

  it('never puts a secret file in the script itself', () => {
    const { script } = bundle(facts());
    expect(script).not.toContain('hunter2');
  });

  it('writes nothing when nothing changed but still parses', () => {
    const { script, entries } = bundle(deployedFacts());
    expect(entries).toEqual([]);
    expect(() => parses(script)).not.toThrow();
  });
});
