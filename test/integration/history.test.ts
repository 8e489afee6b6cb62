// svc history on two real sandbox hosts (init: monit): a deploy, another, a failed one (its
// install step), a crashing release rolled back by the health gate, a rollback, stop, start (and
// a start of a running service: unchanged) recorded on each host by the script that did the
// work, read back in one round trip per host and merged by time; svc status's last deploy; the
// files' modes; rotation past 1000 records; a host that cannot be read; and deploys cut short:
// stopped by svc unlock --force, their shell killed outright on the host, svc itself killed.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyOperator } from '../../src/core/history-record.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });

const HISTORY = '/var/lib/svc/api-orders/history';
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface Row {
  host: string;
  at: string;
  action: string;
  operator: string;
  svcVersion: string;
  before: string;
  after: string;
  result: string;
  seconds?: number;
  reason: string;
}

async function history(args: string[] = []): Promise<Row[]> {
  const result = await svc(['history', 'sandbox', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  const parsed = JSON.parse(result.stdout) as { version: number; records: Row[]; failed: [] };
  expect(parsed.version).toBe(1);
  expect(parsed.failed).toEqual([]);
  return parsed.records;
}

function onHost(host: string, command: string): string {
  const result = sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

function edit(path: string, change: (text: string) => string): void {
  const file = join(project, path);
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

async function deploy(expectCode = 0, ...flags: string[]) {
  const result = await svc(['deploy', 'sandbox', '--yes', ...flags]);
  expect(result.code, result.stdout + result.stderr).toBe(expectCode);
  return result;
}

const live = (host: string) =>
  onHost(host, 'readlink /var/www/api-orders/current').trim().replace('releases/', '');

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-history-'));
  project = join(work, 'api-orders');
  execFileSync(SVC, ['new', 'api-orders', '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc history', () => {
  it('lists a deploy, a failed deploy, a rolled-back one, a rollback, stop and start on two hosts, merged by time', async () => {
    await deploy();
    const first = live('sbx-1');
    edit('server.js', (text) => `${text}\n// the second release\n`);
    await deploy();
    const second = live('sbx-1');
    // A failed deploy: its install step fails, nothing goes live.
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    writeFileSync(join(project, 'svc.yaml'), `${manifest}install: [/bin/false]\n`);
    await deploy(1);
    writeFileSync(join(project, 'svc.yaml'), manifest);
    // A release that crashes: the health gate rolls it back.
    const server = readFileSync(join(project, 'server.js'), 'utf8');
    writeFileSync(join(project, 'server.js'), `process.exit(3);\n${server}`);
    await deploy(1, '--health-timeout', '10');
    writeFileSync(join(project, 'server.js'), server);
    const rolled = await svc(['rollback', 'sandbox', '--yes']);
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    expect(live('sbx-1')).toBe(first);
    for (const action of ['stop', 'start', 'start']) {
      const result = await svc([action, 'sandbox']);
      expect(result.code, result.stderr).toBe(0);
    }

    const records = await history();
    const times = records.map((record) => record.at);
    expect(times).toEqual([...times].sort());
    const operator = historyOperator(userInfo().username, hostname());
    for (const host of ['sbx-1', 'sbx-2']) {
      const mine = records.filter((record) => record.host === host);
      expect(
        mine.map((r) => [r.action, r.before, r.after, r.result]),
        JSON.stringify(mine, null, 1),
      ).toEqual([
        ['deploy', '-', first, 'deployed'],
        ['deploy', first, second, 'deployed'],
        ['deploy', second, second, 'failed'],
        ['deploy', second, second, 'rolled back'],
        ['rollback', second, first, 'deployed'],
        ['stop', first, first, 'done'],
        ['start', first, first, 'done'],
        ['start', first, first, 'unchanged'],
      ]);
      expect(mine[2]!.reason).toBe('the install step failed');
      expect(mine[3]!.reason).toMatch(
        /^the new release exited( \(status \d+\))? \d+\.\d s after start$/,
      );
      for (const record of mine) {
        expect(record).toMatchObject({ operator, svcVersion: VERSION });
        // Whole seconds of uptime (a deploy of 1.5 s can read 0): there, and never negative.
        expect(record.seconds).toBeGreaterThanOrEqual(0);
      }
    }

    const text = await svc(['history', 'sandbox']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME \(UTC\) +HOST +OPERATOR +ACTION +RELEASE +TOOK +RESULT$/);
    expect(lines).toHaveLength(17);
    expect(text.stdout).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +sbx-1 +${operator.replaceAll('.', '\\.')} +deploy +${second} → ${second} +\\d+s +failed: the install step failed$`,
        'm',
      ),
    );

    // --limit: the newest over all hosts.
    const newest = await history(['--limit', '3']);
    expect(newest).toEqual(records.slice(-3));

    // svc status: the last deploy per host, from the same round trip as the rest.
    const status = await svc(['status', 'sandbox', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const hosts = (JSON.parse(status.stdout) as { hosts: { lastDeploy?: Row }[] }).hosts;
    for (const host of hosts)
      expect(host.lastDeploy).toMatchObject({
        action: 'rollback',
        result: 'deployed',
        after: first,
      });
    const table = await svc(['status', 'sandbox']);
    expect(table.stdout).toMatch(/ LAST DEPLOY \(UTC\)\n/);
    expect(table.stdout).toMatch(
      new RegExp(`\\d\\d:\\d\\d:\\d\\d rollback deployed by ${operator.replaceAll('.', '\\.')}\\n`),
    );

    // Root's alone: the directory 0700, the records 0600, on every host.
    for (const host of ['sbx-1', 'sbx-2'])
      expect(onHost(host, `stat -c '%a %U %F' ${HISTORY} ${HISTORY}/records`)).toBe(
        '700 root directory\n600 root regular file\n',
      );
  }, 600_000);

  it('a host that cannot be read is named at the end; the others are listed; exit 1', async () => {
    const result = await svc(['history', 'sandbox,127.0.0.1:1', '--limit', '2']);
    expect(result.code).toBe(1);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(result.stderr).toMatch(/^svc: error: 127\.0\.0\.1: .+\n$/);
  }, 60_000);

  it('--limit that is not a whole number from 1 to 10000: one line, exit 1, no host asked', async () => {
    for (const limit of ['0', '10001', '1.5', 'x']) {
      const result = await svc(['history', 'sandbox', '--limit', limit]);
      expect([result.code, result.stdout, result.stderr]).toEqual([
        1,
        '',
        `svc: error: --limit: must be a whole number from 1 to 10000 (got "${limit}")\n`,
      ]);
    }
  });

  it('rotation: past 1000 records the oldest go', async () => {
    const seeded = Array.from(
      { length: 1000 },
      (_, i) => `1\t2026-01-01T00:00:00Z\tstart\tseed@x\t0.0.1\t-\t-\tdone\t${i}\t`,
    ).join('\n');
    onHost('sbx-2', `printf '%s\\n' '${seeded}' > ${HISTORY}/records`);
    const restarted = await svc(['restart', 'sbx-2']);
    expect(restarted.code, restarted.stderr).toBe(0);
    // Not trimmed: a record without a reason ends with its tab.
    const lines = onHost('sbx-2', `cat ${HISTORY}/records`).replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toBe('1\t2026-01-01T00:00:00Z\tstart\tseed@x\t0.0.1\t-\t-\tdone\t1\t');
    expect(lines.at(-1)).toMatch(/\trestart\t.*\tdone\t\d+\t$/);
    expect(onHost('sbx-2', `stat -c %a ${HISTORY}/records`)).toBe('600\n');
  }, 120_000);
});

describe('a deploy cut short still leaves its record', () => {
  /** A deploy of sbx-1 whose install step takes a while, running in the background. */
  function slowDeploy(seconds: number) {
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    writeFileSync(
      join(project, 'svc.yaml'),
      `${manifest.replace(/^install:.*\n/m, '')}install: [/bin/sh, -c, "sleep ${seconds}"]\n`,
    );
    edit('server.js', (text) => `${text}\n// ${Math.random()}\n`);
    const child = spawn(SVC, ['deploy', 'sbx-1', '--yes', '--dir', project], {
      env: { ...sbx.env, HOME: join(work, 'home'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    return { child, exited, output: () => output };
  }

  /**
   * The deploy's shell on the host, once it is installing: the holder note names a live shell
   * and its install step (`sleep SECONDS`, a length no other test uses) runs.
   */
  async function installing(seconds: number): Promise<number> {
    let pid = 0;
    const seen = await eventually(() => {
      const note = sbx.ssh(
        'sbx-1',
        `sed -n 2p /var/lib/svc/locks/api-orders.holder; pgrep -f '^sleep ${seconds}$' >/dev/null && echo installing`,
        { user: 'root' },
      ).stdout;
      pid = Number(note.split(' ')[0]);
      return (
        note.endsWith('installing\n') &&
        pid > 0 &&
        sbx.ssh('sbx-1', `kill -0 ${pid}`, { user: 'root' }).code === 0
      );
    }, 60);
    expect(seen).toBe(true);
    return pid;
  }

  const lastOnSbx1 = async () => (await history()).filter((r) => r.host === 'sbx-1').at(-1)!;

  it('stopped by svc unlock --force: interrupted, and the unlock recorded after it', async () => {
    const before = live('sbx-1');
    const run = slowDeploy(8);
    try {
      await installing(8);
      const unlocked = await svc(['unlock', 'sbx-1', '--force']);
      expect(unlocked.code, unlocked.stderr).toBe(0);
      expect(await run.exited, run.output()).toBe(1);
    } finally {
      run.child.kill('SIGKILL');
    }
    const mine = (await history()).filter((r) => r.host === 'sbx-1').slice(-2);
    expect(mine.map((r) => [r.action, r.result, r.before, r.after])).toEqual([
      ['deploy', 'interrupted', before, before],
      ['unlock', 'done', before, before],
    ]);
    expect(mine[0]!.reason).toBe(
      'interrupted (Ctrl-C or svc unlock --force): what it had applied was undone',
    );
  }, 180_000);

  it('its shell killed outright on the host: interrupted, from the record it left when it began', async () => {
    const run = slowDeploy(6);
    try {
      const pid = await installing(6);
      onHost('sbx-1', `kill -KILL ${pid}`);
      await run.exited;
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(await lastOnSbx1()).toMatchObject({
      action: 'deploy',
      result: 'interrupted',
      after: '?',
      reason: 'killed before it could record how it ended',
    });
    // The next run that writes folds it into the file, before its own record.
    expect((await svc(['restart', 'sbx-1'])).code).toBe(0);
    const lines = onHost('sbx-1', `tail -n 2 ${HISTORY}/records; ls ${HISTORY}`).split('\n');
    expect(lines[0]).toMatch(
      /\tdeploy\t.*\tinterrupted\t-\tkilled before it could record how it ended$/,
    );
    expect(lines[1]).toMatch(/\trestart\t.*\tdone\t\d+\t$/);
    expect(lines.slice(2).filter((name) => name.startsWith('pending.'))).toEqual([]);
  }, 180_000);

  it('svc itself killed (the connection cut): the host finishes on its own and records it', async () => {
    const run = slowDeploy(9);
    try {
      await installing(9);
      run.child.kill('SIGKILL');
      await run.exited;
      // Meanwhile: shown as running.
      expect(await lastOnSbx1()).toMatchObject({ action: 'deploy', result: 'running' });
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(
      await eventually(
        () =>
          sbx.ssh('sbx-1', 'test -e /var/lib/svc/locks/api-orders.holder', { user: 'root' })
            .code !== 0,
        90,
      ),
    ).toBe(true);
    expect(await lastOnSbx1()).toMatchObject({ action: 'deploy', result: 'deployed' });
  }, 180_000);
});
