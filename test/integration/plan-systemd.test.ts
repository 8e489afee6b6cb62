// svc plan against a sandbox host that boots real systemd: the facts see systemd as the init
// system, so an init: systemd service plans without problems (test/unit/plan.test.ts covers the
// refusal on a host without it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, systemd: true, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-plan-systemd-'));
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--cutover', 'restart', '--dir', join(work, 'api-orders')],
    {
      env: { ...process.env, CI: '1' },
    },
  );
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc plan on a systemd host', () => {
  it('plans an init: systemd service with no problems, as root', async () => {
    const result = await sbx.svc(['plan', 'sandbox', '--json', '--dir', join(work, 'api-orders')]);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      hosts: {
        status: string;
        problems: string[];
        changes: { action: string; kind: string; target: string }[];
      }[];
    };
    expect(doc.hosts[0]!.status).toBe('planned');
    expect(doc.hosts[0]!.problems).toEqual([]);
    const changes = doc.hosts[0]!.changes.map(
      (change) => `${change.action} ${change.kind} ${change.target}`,
    );
    expect(changes).toContain('create file /etc/systemd/system/api-orders.service');
    expect(changes).toContain('create link /root/service/api-orders');
    expect(changes).toContain('start service api-orders');
  });
});
