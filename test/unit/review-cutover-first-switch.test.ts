// Review finding F1 (/work/notes/s8/review-cutover.md): on a first switch deploy the front site,
// which includes /var/lib/svc/NAME/upstream.conf, is installed with the files, but the upstream
// file is written only after the new slot started and passed its gate. In between nginx's whole
// configuration is invalid (a non-glob include of a missing file is fatal): another site's
// reload fails, and a reboot or nginx restart there leaves every site of the host down. This test
// fails until the upstream file exists before the site that includes it is renamed into place.
import { describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { NGINX_BINARY, upstreamFile } from '../../src/core/cutover.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const SITE = '/etc/nginx/sites-enabled/api-orders.conf';
const CONFIG = [
  file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node server.js\n'),
  file(
    SITE.slice(1),
    `upstream svc_api_orders_app {\n    include ${upstreamFile('api-orders')};\n}\n`,
  ),
];
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };

function firstSwitchScript(): string {
  const ops = operations(CONFIG, SWITCH);
  const hostFacts = facts([NGINX]);
  const plan = planHost('web1', ops, hostFacts, 'digest');
  expect(plan.changes.some((change) => change.action === 'switch')).toBe(true);
  return buildApply(
    {
      manifest: SWITCH,
      operations: ops,
      plan,
      facts: hostFacts,
      factRequest: buildFactRequest(SWITCH, ops, 'deploy', false, SALT),
      holder: '{}',
      lockWaitSeconds: 5,
      healthTimeoutSeconds: 30,
      now: '2026-01-01T00:00:00Z',
      nonce: 'n',
    },
    [],
  ).script;
}

describe('review F1: a first switch deploy never leaves nginx including a missing file', () => {
  it('writes the upstream file before the site that includes it is renamed into place', () => {
    const text = firstSwitchScript();
    const applying = text.indexOf('\napplying=1\n');
    // The site's rename into place (apply-files.ts installFile: a temporary name, then mv -T).
    const site = text.indexOf(
      `/etc/nginx/sites-enabled/.api-orders.conf.svc-new ${SITE}`,
      applying,
    );
    // Anything that makes the upstream file exist: a rename onto it, or a redirect into it.
    const upstream = upstreamFile('api-orders').replaceAll('.', '\\.').replaceAll('/', '\\/');
    const made = new RegExp(`(?:>|mv -f -T -- \\S+) ${upstream}(?:\\s|$)`, 'g');
    made.lastIndex = applying;
    const first = made.exec(text)?.index ?? -1;
    expect(site, 'the site is installed by this script').toBeGreaterThan(applying);
    expect(first, 'the upstream file is written by this script').toBeGreaterThan(applying);
    // Fails today: the upstream file comes after the slot's start and health gate.
    expect(first).toBeLessThan(site);
  });
});
