// Review finding F4 (/work/notes/s8/review-cutover.md): a service that ran `cutover: switch` and
// is moved back to `cutover: restart` (svc update --cutover restart, then deploy) gets a plan
// that neither sees the slots nor stops them: the fact request no longer asks for the upstream
// file, nothing reloads nginx (which keeps the public port), and NAME.service is started on a
// port nginx holds. These tests fail until the plan sees a switch that was live and either
// refuses (naming the way out) or takes the slots down.
import { describe, expect, it } from 'vitest';
import { NGINX_BINARY, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { CONFIG, SALT, facts, manifest, operations } from '../helpers/plan-fixtures.js';

// The restart project (svc.yaml without cutover: switch), as svc update --cutover restart leaves it.
const RESTART: Manifest = { ...manifest, monit: false };
const CONFIG_RESTART = CONFIG.filter((config) => !config.path.startsWith('etc/monit/'));
const [A] = slotsOf(RESTART);
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const LIVE_SLOT: PathFact = {
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(new TextEncoder().encode(upstreamText('api-orders', A!))),
};

describe('review F4: a switch service moved back to cutover: restart', () => {
  it('asks the host whether a switch is live (the upstream file)', () => {
    const ops = operations(CONFIG_RESTART, RESTART);
    const request = buildFactRequest(RESTART, ops, 'deploy', false, SALT);
    expect(request.paths.map((path) => path.path)).toContain(upstreamFile('api-orders'));
  });

  it('does not just start NAME.service while a slot serves the port through nginx', () => {
    const ops = operations(CONFIG_RESTART, RESTART);
    const plan = planHost('web1', ops, facts([NGINX, LIVE_SLOT]), 'digest');
    const mentionsSlots =
      plan.problems.some((problem) => /slot/.test(problem)) ||
      plan.changes.some((change) => /slot/.test(JSON.stringify(change)));
    expect(mentionsSlots, JSON.stringify({ problems: plan.problems, changes: plan.changes })).toBe(
      true,
    );
  });
});
