// After a slot's gate, the answer must have come from the service user's process (review F5,
// /work/notes/s8/review-cutover.md): port_uid_ok, run by sh against real listening sockets read
// from the kernel's table; and the apply script asks it right after the slot's health gate.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { NGINX_BINARY } from '../../src/core/cutover.js';
import { PORT_UID } from '../../src/core/cutover-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

describe('port_uid_ok, run by sh on real sockets', () => {
  let server: Server | undefined;
  let port = 0;
  beforeAll(async () => {
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server?.close();
  });
  const owned = (checkPort: number, uid: number) =>
    spawnSync('sh', ['-c', `${PORT_UID}\nport_uid_ok ${checkPort} ${uid}`]).status;
  const me = process.getuid?.() ?? 0;

  it.each<[string, () => number, () => number, number]>([
    ['listened on by this uid', () => port, () => me, 0],
    ["listened on by another uid's process", () => port, () => me + 4242, 1],
    // Port 1 in the dynamic table is never listened on here.
    ['listened on by nobody', () => 1, () => me, 1],
  ])('%s', (_, checkPort, uid, status) => {
    expect(owned(checkPort(), uid())).toBe(status);
  });
});

describe('the apply script asks it after the slot gate', () => {
  it('right after the health gate, before the slot is recorded started', () => {
    const m: Manifest = { ...manifest, cutover: 'switch', monit: false };
    const config = [
      file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node s.js\n'),
      file('etc/nginx/sites-enabled/api-orders.conf', 'server { listen 3000; }\n'),
    ];
    const ops = operations(config, m);
    const nginx: PathFact = {
      path: NGINX_BINARY,
      type: 'file',
      mode: 0o755,
      sha256: 'f'.repeat(64),
    };
    const hf = facts([nginx]);
    const text = buildApply(
      {
        manifest: m,
        operations: ops,
        plan: planHost('web1', ops, hf, 'digest'),
        facts: hf,
        factRequest: buildFactRequest(m, ops, 'deploy', false, SALT),
        holder: '{}',
        lockWaitSeconds: 5,
        healthTimeoutSeconds: 30,
        now: '2026-01-01T00:00:00Z',
        nonce: 'n',
      },
      [],
    ).script;
    const gate = text.indexOf(
      'if ! wait_healthy url http://127.0.0.1:13000/ok 30; then rollback; fi',
    );
    const check = text.indexOf(
      `[ -z "$gate_uid" ] || port_uid_ok 13000 "$gate_uid" || { say "FAIL\tport 13000 (slot a) answered, but from a process that is not api-orders's: another process took the slot's port; free it, or give svc.yaml slotPorts"; rollback; }`,
    );
    const started = text.indexOf('say "STEP\tslot a (port 13000) started and healthy"');
    expect(gate).toBeGreaterThan(0);
    expect([gate < check, check < started]).toEqual([true, true]);
    expect(text).toMatch(/^port_uid_ok\(\) \{$/m);
  });
});
