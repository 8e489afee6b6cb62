// A service that ran cutover: switch, moved back to cutover: restart (svc update --cutover
// restart, then deploy): review F4 (/work/notes/s8/review-cutover.md; the first two tests are
// h-review8's). The plan would otherwise start NAME.service on a port nginx holds and leave both
// slots running: it asks the host for the upstream file and refuses, naming the way out.
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

describe('a switch service moved back to cutover: restart', () => {
  it('asks the host whether a switch is live (the upstream file)', () => {
    const ops = operations(CONFIG_RESTART, RESTART);
    const request = buildFactRequest(RESTART, ops, 'deploy', false, SALT);
    expect(request.paths.map((path) => path.path)).toContain(upstreamFile('api-orders'));
  });

  it('does not just start NAME.service while a slot serves the port through nginx', () => {
    const ops = operations(CONFIG_RESTART, RESTART);
    const plan = planHost('web1', ops, facts([NGINX, LIVE_SLOT]), 'digest');
    expect(plan.problems).toEqual([
      'svc.yaml says cutover: restart, but api-orders runs cutover: switch on web1 (/var/lib/svc/api-orders/upstream.conf: nginx serves its port from a slot): moving a switch service back to restart is not done yet; keep cutover: switch in svc.yaml',
    ]);
    expect(plan.changes.filter((change) => change.kind === 'service')).toEqual([]);
  });

  it('plans a restart service as before when no switch ever ran there', () => {
    const ops = operations(CONFIG_RESTART, RESTART);
    const plan = planHost('web1', ops, facts([NGINX]), 'digest');
    expect(plan.problems).toEqual([]);
    expect(plan.changes.find((change) => change.kind === 'service')?.action).toBe('start');
  });
});
