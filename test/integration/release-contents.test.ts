// A release change says what changed in it, on real sandbox hosts: release A is deployed, files
// are added, changed (content, mode) and removed, and `svc plan` lists exactly those against the
// live release, with sizes; --diff adds the unified diff of the changed text file (the live
// content came in the same one round trip), never a secret's; --json carries the lists; the two
// hosts' identical release diffs are one group. A release made before svc recorded its files
// reads as "unknown", in one line.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const STAMP = `${process.pid}-${Date.now()}`;
const SECRET_A = `svc-secret-a-${STAMP}`;
const SECRET_B = `svc-secret-b-${STAMP}`;
// Both secrets have the same length: the .env's size is the same in A and B.
const ENV_SIZE = `TOKEN=${SECRET_B}\n`.length;
let sbx: Sandbox;
let work: string;
let project: string;
let home: string;
let releaseA: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: home, NO_COLOR: '1' });
const write = (path: string, text: string) => {
  mkdirSync(join(project, path, '..'), { recursive: true });
  writeFileSync(join(project, path), text);
};

interface Contents {
  live: string;
  unknown?: string;
  added: { path: string; size: number }[];
  changed: Record<string, unknown>[];
  removed: { path: string; size: number }[];
}
interface PlanDoc {
  hosts: { host: string; changes: { kind: string; action: string; contents?: Contents }[] }[];
}
const contentsOf = (doc: PlanDoc, host: string) =>
  doc.hosts
    .find((entry) => entry.host === host)!
    .changes.find((change) => change.kind === 'release' && change.action === 'create')?.contents;

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-rcontents-'));
  home = join(work, 'home');
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  write('notes.txt', 'one\ntwo\nthree\n');
  write('old.txt', 'going away\n');
  write('tool.sh', 'echo tool\n');
  write('.env', `TOKEN=${SECRET_A}\n`);
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  releaseA = /releases\/([0-9a-f]{12})/.exec(
    sbx.ssh('sbx-1', 'readlink /var/www/api-orders/current').stdout,
  )![1]!;
  // Release B: one added, three changed (content, a secret's content, a mode), one removed.
  write('public/new.txt', 'hello\n');
  write('notes.txt', 'one\nTWO\nthree\n');
  write('.env', `TOKEN=${SECRET_B}\n`);
  chmodSync(join(project, 'tool.sh'), 0o755);
  unlinkSync(join(project, 'old.txt'));
}, 300_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a release change against the live release', () => {
  it('svc plan lists exactly the files added, changed and removed, with sizes', async () => {
    const result = await svc(['plan', 'sandbox']);
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(`--- svc plan sandbox\n${result.stdout}`);
    expect(result.stdout).toContain('sbx-1, sbx-2: identical (2 hosts)');
    // From the summary line to the next change (a line indented by two only).
    const lines = result.stdout.split('\n');
    const start = lines.findIndex((line) => line.includes('files against live release'));
    const end = lines.findIndex((line, index) => index > start && /^ {2}\S/.test(line));
    expect(lines.slice(start, end).join('\n')).toBe(
      [
        `      files against live release ${releaseA}: + 1 added, ~ 3 changed, - 1 removed`,
        '      + public/new.txt  6 B',
        `      ~ .env  ${ENV_SIZE} B`,
        '        (sensitive: content not shown)',
        '      ~ notes.txt  14 B',
        '      ~ tool.sh  10 B, mode 0644 -> 0755',
        '      - old.txt  11 B',
      ].join('\n'),
    );
    expect(result.stdout).not.toContain(SECRET_A);
    expect(result.stdout).not.toContain(SECRET_B);
  });

  it('--diff adds the unified diff of the changed text file, from the same round trip', async () => {
    const result = await svc(['plan', 'sandbox', '--diff']);
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(`--- svc plan sandbox --diff\n${result.stdout}`);
    expect(result.stdout).toContain('sbx-1, sbx-2: identical (2 hosts)');
    expect(result.stdout).toContain(
      [
        '      ~ notes.txt  14 B',
        '        --- notes.txt',
        '        +++ notes.txt',
        '        @@ -1,3 +1,3 @@',
        '         one',
        '        -two',
        '        +TWO',
        '         three',
        '      ~ tool.sh  10 B, mode 0644 -> 0755',
      ].join('\n'),
    );
    expect(result.stdout).not.toContain(SECRET_A);
    expect(result.stdout).not.toContain(SECRET_B);
  });

  it('--json carries the added, changed and removed lists per host', async () => {
    const result = await svc(['plan', 'sandbox', '--json', '--diff']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(SECRET_A);
    expect(result.stdout).not.toContain(SECRET_B);
    const doc = JSON.parse(result.stdout) as PlanDoc;
    for (const host of ['sbx-1', 'sbx-2']) {
      const contents = contentsOf(doc, host)!;
      expect(contents.live).toBe(releaseA);
      expect(contents.added).toEqual([{ path: 'public/new.txt', size: 6 }]);
      expect(contents.removed).toEqual([{ path: 'old.txt', size: 11 }]);
      expect(
        contents.changed.map((file) => [file.path, file.size, file.sizeBefore, file.mode]),
      ).toEqual([
        ['.env', ENV_SIZE, ENV_SIZE, undefined],
        ['notes.txt', 14, 14, undefined],
        ['tool.sh', 10, 10, '0755'],
      ]);
      expect(contents.changed[0]).toEqual({
        path: '.env',
        size: ENV_SIZE,
        sizeBefore: ENV_SIZE,
        sensitive: true,
      });
      expect(contents.changed[1]!.diff).toContain('-two\n+TWO');
    }
  });

  it('after deploying B, its own list is the one compared with, and A made before reads as unknown', async () => {
    // With --diff: the stale check runs the fact script again, live content (Z records) and all.
    const deployed = await svc(['deploy', 'sbx-1', '--yes', '--diff']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('        +TWO');
    expect(deployed.stdout).not.toContain(SECRET_B);
    write('notes.txt', 'one\nTWO\nthree\nfour\n');
    // sbx-2 still runs A: its list removed, as a release made by an svc before this change.
    const removed = sbx.ssh('sbx-2', `rm /var/lib/svc/api-orders/releases/${releaseA}`, {
      user: 'root',
    });
    expect(removed.code, removed.stderr).toBe(0);
    const result = await svc(['plan', 'sandbox']);
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(
      `--- svc plan sandbox (sbx-1 on B, sbx-2 without a list)\n${result.stdout}`,
    );
    expect(result.stdout).toMatch(
      /files against live release [0-9a-f]{12}: \+ 0 added, ~ 1 changed, - 0 removed\n {6}~ notes.txt {2}14 B -> 19 B\n/,
    );
    expect(result.stdout).toContain(
      `      files: live release ${releaseA} unknown: no file list is recorded for it (an older svc made it)\n`,
    );
  }, 120_000);

  it('a release on the host without its list (its deploy died before recording it) gets one when a deploy makes it live', async () => {
    const list = (id: string) => `/var/lib/svc/api-orders/releases/${id}`;
    const live = () =>
      /releases\/([0-9a-f]{12})/.exec(
        sbx.ssh('sbx-1', 'readlink /var/www/api-orders/current').stdout,
      )![1]!;
    const releaseB = live();
    // C (notes.txt with "four", written above) goes live; B's list is lost, B stays on the host.
    const toC = await svc(['deploy', 'sbx-1', '--yes']);
    expect(toC.code, toC.stdout + toC.stderr).toBe(0);
    expect(live()).not.toBe(releaseB);
    sbx.ssh('sbx-1', `rm ${list(releaseB)}`, { user: 'root' });
    // Back to B's files: the deploy moves current to the B on the host (nothing to copy).
    write('notes.txt', 'one\nTWO\nthree\n');
    const toB = await svc(['deploy', 'sbx-1', '--yes']);
    expect(toB.code, toB.stdout + toB.stderr).toBe(0);
    expect(live()).toBe(releaseB);
    expect(sbx.ssh('sbx-1', `test -f ${list(releaseB)}`, { user: 'root' }).code).toBe(0);
    write('notes.txt', 'one\nTWO\nthree\nfour\n');
    const plan = await svc(['plan', 'sbx-1']);
    expect(plan.stdout).toContain(`files against live release ${releaseB}: + 0 added, ~ 1 changed`);
  }, 180_000);
});
