// A first switch deploy never leaves nginx's configuration including a missing file (review F1,
// /work/notes/s8/review-cutover.md; the first test is h-review8's): the front site includes
// /var/lib/svc/NAME/upstream.conf, so the upstream file is written just before the site is put
// in place, not after the slot's start and health gate (in between, any nginx reload on the host,
// or a reboot, would find a fatal include: every site down). Undo removes the file it made only
// after the site is gone (review F6: never an `nginx -t` with the site and without the file).
import { describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { NGINX_BINARY, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts, PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const SITE = '/etc/nginx/sites-enabled/api-orders.conf';
const UPSTREAM = upstreamFile('api-orders');
const CONFIG = [
  file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node server.js\n'),
  file(SITE.slice(1), `upstream svc_api_orders_app {\n    include ${UPSTREAM};\n}\n`),
];
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };

function scriptFor(hostFacts: HostFacts): string {
  const ops = operations(CONFIG, SWITCH);
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
const firstSwitchScript = () => scriptFor(facts([NGINX]));

describe('a first switch deploy never leaves nginx including a missing file', () => {
  it('writes the upstream file before the site that includes it is renamed into place', () => {
    const text = firstSwitchScript();
    const applying = text.indexOf('\napplying=1\n');
    // The site's rename into place (apply-files.ts installFile: a temporary name, then mv -T).
    const site = text.indexOf(
      `/etc/nginx/sites-enabled/.api-orders.conf.svc-new ${SITE}`,
      applying,
    );
    // Anything that makes the upstream file exist: a rename onto it, or a redirect into it.
    const upstream = UPSTREAM.replaceAll('.', '\\.').replaceAll('/', '\\/');
    const made = new RegExp(`(?:>|mv -f -T -- \\S+) ${upstream}(?:\\s|$)`, 'g');
    made.lastIndex = applying;
    const first = made.exec(text)?.index ?? -1;
    expect(site, 'the site is installed by this script').toBeGreaterThan(applying);
    expect(first, 'the upstream file is written by this script').toBeGreaterThan(applying);
    expect(first).toBeLessThan(site);
    // It names the slot about to start (slot a), the one the switch then writes again.
    expect(text.slice(first - 200, first)).toContain(
      `printf '%s' '${upstreamText('api-orders', slotsOf(SWITCH)[0]).replaceAll("'", "'\\''")}'`,
    );
  });

  it('undo removes the upstream file it made only after the site went back', () => {
    const text = firstSwitchScript();
    const undo = text.slice(
      text.indexOf('undo() {'),
      text.indexOf('\n}\n', text.indexOf('undo() {')),
    );
    const siteBack = undo.indexOf(SITE);
    const removed = undo.indexOf(`[ "\${upstream_new-0}" != 1 ] || rm -f -- ${UPSTREAM}`);
    expect(siteBack, undo).toBeGreaterThan(0);
    expect(removed, undo).toBeGreaterThan(siteBack);
    // Nothing removes it before (the put-back only restores a file that was there).
    expect(undo.slice(0, removed)).not.toContain(`rm -f -- ${UPSTREAM}`);
  });

  it('a later switch writes no upstream file early (nginx reads it only at the switch)', () => {
    const live: PathFact = {
      path: UPSTREAM,
      type: 'file',
      mode: 0o644,
      sha256: sha256Hex(new TextEncoder().encode(upstreamText('api-orders', slotsOf(SWITCH)[0]))),
    };
    const text = scriptFor(facts([NGINX, live]));
    const applying = text.indexOf('\napplying=1\n');
    expect(text.slice(applying, text.indexOf('\nactivated=1\n'))).not.toContain(UPSTREAM);
  });
});
