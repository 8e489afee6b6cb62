// Plans read at a glance, on ten real sandbox hosts: hosts whose plans are identical are shown
// once under their list, a host that differs on its own, new files as one line unless --diff;
// the JSON stays per host, and `deploy --yes` prints the grouped plan too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const SECRET = `svc-secret-${process.pid}-${Date.now()}`;
let sbx: Sandbox;
let work: string;
let project: string;
let home: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: home, NO_COLOR: '1' });
const lineCount = (text: string) => text.trimEnd().split('\n').length;

beforeAll(async () => {
  sbx = await startSandbox({ count: 10 });
  work = mkdtempSync(join(tmpdir(), 'svc-glance-'));
  home = join(work, 'home');
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    [
      'new',
      'api-orders',
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--dir',
      project,
      '--env',
      `TOKEN=${SECRET}`,
    ],
    { env: { ...process.env, CI: '1' } },
  );
}, 300_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a plan of ten identical hosts', () => {
  it('fits on one screen: one plan under sbx-1..sbx-10, new files one line each', async () => {
    const result = await svc(['plan', 'sandbox']);
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(
      `--- svc plan sandbox (${lineCount(result.stdout)} lines)\n${result.stdout}`,
    );
    expect(result.stdout).toContain('sbx-1..sbx-10: identical (10 hosts)');
    expect(lineCount(result.stdout)).toBeLessThan(60);
    expect(result.stdout).toMatch(
      /\+ file {5}\/usr\/local\/lib\/svc\/api-orders\/ctl {2}0755 \S+ [\d.]+ (B|KiB)\n/,
    );
    expect(result.stdout).not.toContain('#!/');
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).toMatch(/on 10 hosts\./);
  });

  it('--diff shows the new files in full, secrets still not', async () => {
    const result = await svc(['plan', 'sandbox', '--diff']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('sbx-1..sbx-10: identical (10 hosts)');
    expect(result.stdout).toMatch(/^ {6}\+#!\//m);
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).toContain('(sensitive: content not shown)');
  });

  it('--json stays per host', async () => {
    const result = await svc(['plan', 'sandbox', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { hosts: { host: string; changes: unknown[] }[] };
    expect(doc.hosts.map((host) => host.host).sort()).toEqual(
      sbx.inventory.hosts.map((host) => host.name).sort(),
    );
    for (const host of doc.hosts) expect(host.changes.length).toBeGreaterThan(0);
  });

  it('deploy --yes prints the grouped plan, a host that differs on its own', async () => {
    const first = await svc(['deploy', 'sbx-1', '--yes']);
    expect(first.code, first.stderr).toBe(0);
    const result = await svc(['deploy', 'sandbox', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(
      `--- svc deploy sandbox --yes (${lineCount(result.stdout)} lines)\n${result.stdout}`,
    );
    const address = sbx.host('sbx-1').address;
    expect(result.stdout).toContain(`sbx-1 (deploy@${address}:22)\n  no changes`);
    expect(result.stdout).toContain('sbx-2..sbx-10: identical (9 hosts)');
    expect(result.stdout.match(/\+ release /g)).toHaveLength(1);
    // The plan, above the result table (one row per host), fits on one screen.
    const plan = result.stdout.slice(0, result.stdout.indexOf('\nHOST '));
    expect(lineCount(plan)).toBeLessThan(60);
  }, 180_000);
});
