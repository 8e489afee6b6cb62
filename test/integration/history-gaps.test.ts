// svc history on a real sandbox host (init: monit): deploys that used to leave no record. A first
// deploy whose shell is killed outright on the host (before /var/lib/svc/NAME existed when it
// began); a deploy with nothing to change, which leaves an `unchanged` record written by its own
// fact command (one connect, one remote command: issue 14), or, when the deploy plans every host
// before applying (--batch), by one more command; `svc plan` and `svc deploy --dry-run` write
// nothing on the host (svc status's last deploy stays the one that changed something); svc killed
// before its verdict leaves no record and no process on the host; a deploy whose release commands
// (on: first) fail before any host changes.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const HISTORY = '/var/lib/svc/api-orders/history';
const env = () => ({ ...sbx.env, HOME: join(work, 'home') });
const svc = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runSvc([...args, '--dir', project], { ...env(), ...extra });

interface Row {
  host: string;
  action: string;
  before: string;
  after: string;
  result: string;
  reason: string;
}

async function history(): Promise<Row[]> {
  const result = await svc(['history', 'sandbox', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { records: Row[] }).records;
}

function onHost(command: string): string {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Everything in the history directory, with its bytes' hash: any write shows. */
const historyState = () =>
  onHost(`cd ${HISTORY} && ls -la --time-style=+%s.%N && sha256sum records`);

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-history-noop-'));
  project = join(work, 'api-orders');
  execFileSync(SVC, ['new', 'api-orders', '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc history: what history.test.ts does not cover', () => {
  it('a first deploy killed outright on the host leaves its record (interrupted)', async () => {
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    writeFileSync(join(project, 'svc.yaml'), `${manifest}install: [/bin/sh, -c, "sleep 7"]\n`);
    const child = spawn(SVC, ['deploy', 'sandbox', '--yes', '--dir', project], {
      env: { ...env(), NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      // The deploy's shell (the holder note names it) once its install step runs.
      let pid = 0;
      const seen = await eventually(() => {
        const note = sbx.ssh(
          'sbx-1',
          `sed -n 2p /var/lib/svc/locks/api-orders.holder; pgrep -f '^sleep 7$' >/dev/null && echo installing`,
          { user: 'root' },
        ).stdout;
        pid = Number(note.split(' ')[0]);
        return note.endsWith('installing\n') && pid > 0;
      }, 60);
      expect(seen).toBe(true);
      onHost(`kill -KILL ${pid}`);
      await exited;
    } finally {
      child.kill('SIGKILL');
    }
    writeFileSync(join(project, 'svc.yaml'), manifest);
    // Before hist_later: no record at all (the pending one waited for a directory the plan made).
    expect((await history()).map((r) => [r.action, r.before, r.after, r.result, r.reason])).toEqual(
      [['deploy', '-', '?', 'interrupted', 'killed before it could record how it ended']],
    );
  });

  it('a deploy with nothing to change records unchanged in its one remote command; plan writes nothing', async () => {
    const deployed = await svc(['deploy', 'sandbox', '--yes']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    const release = onHost('readlink /var/www/api-orders/current').trim().replace('releases/', '');

    // svc plan and svc deploy --dry-run are read-only: not a byte, not a file, not a time.
    const before = historyState();
    for (const args of [
      ['plan', 'sandbox'],
      ['deploy', 'sandbox', '--dry-run'],
    ]) {
      const result = await svc(args);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    expect(historyState()).toBe(before);

    const noop = await svc(['deploy', 'sandbox', '--yes'], { SVC_TRACE_SSH: '1' });
    expect(noop.code, noop.stdout + noop.stderr).toBe(0);
    expect(noop.stdout).toMatch(/sbx-1 +unchanged/);
    // One connection, one remote command: the fact command wrote the record.
    const trace = noop.stderr.split('\n').filter((line) => line.startsWith('svc-trace: sbx-1 '));
    expect(trace.filter((line) => line.endsWith(' connect'))).toHaveLength(1);
    expect(trace.filter((line) => line.includes(' exec '))).toEqual([
      'svc-trace: sbx-1 exec gathering facts',
    ]);
    // All plans before any apply (--batch): the plan's command, then the record's.
    const batched = await svc(['deploy', 'sandbox', '--yes', '--batch', '1'], {
      SVC_TRACE_SSH: '1',
    });
    expect(batched.code, batched.stdout + batched.stderr).toBe(0);
    expect(batched.stderr.split('\n').filter((line) => line.includes(' exec '))).toEqual([
      'svc-trace: sbx-1 exec gathering facts',
      'svc-trace: sbx-1 exec recording the deploy',
    ]);

    const records = await history();
    expect(records.slice(-3).map((r) => [r.action, r.before, r.after, r.result])).toEqual([
      ['deploy', '-', release, 'deployed'],
      ['deploy', release, release, 'unchanged'],
      ['deploy', release, release, 'unchanged'],
    ]);
    // Nothing left behind: no pending record, no script file of the held command.
    expect(
      onHost(`ls ${HISTORY}`)
        .split('\n')
        .filter((f) => f.startsWith('pending.')),
    ).toEqual([]);
    // The host's clock is read with its records: in step with this machine's (one kernel), so no
    // skew is said or corrected.
    const read = await svc(['history', 'sandbox', '--json']);
    expect(read.stderr).not.toContain('clock');
    expect(JSON.parse(read.stdout)).not.toHaveProperty('clocks');
    // svc status's last deploy is the one that made the host what it is.
    const status = await svc(['status', 'sandbox']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/ deployed by /);
    expect(status.stdout).not.toMatch(/ unchanged by /);
  });

  it('svc killed before its verdict: no record, and the held fact command ends on the host', async () => {
    const before = historyState();
    // Script files other runs left (an apply script killed outright, above): not this one's.
    const scripts = () =>
      onHost('ls -A /tmp')
        .split('\n')
        .filter((f) => f.startsWith('svc-run.'));
    const scriptsBefore = scripts();
    const held = () =>
      sbx.ssh('sbx-1', `pgrep -f '^sh /tmp/svc-run[.]' || :`, { user: 'root' }).stdout.trim();
    expect(held()).toBe('');
    const child = spawn(SVC, ['deploy', 'sandbox', '--yes', '--dir', project], {
      env: { ...env(), NO_COLOR: '1', SVC_TRACE_SSH: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      // Stopped as it starts its fact command (the trace line comes just before the exec), then
      // let run in slices of 50 ms, stopped again each time, until the command is on the host.
      // Bounded by time, not by a count of slices: on a busy machine a slice can give svc no CPU.
      await new Promise<void>((resolve) => {
        let seen = '';
        child.stderr.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          if (seen.includes('exec gathering facts')) {
            child.kill('SIGSTOP');
            resolve();
          }
        });
      });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && held() === '') {
        child.kill('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 50));
        child.kill('SIGSTOP');
      }
      // The host's command has its facts out and waits for the verdict that never comes...
      expect(held()).not.toBe('');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(held()).not.toBe('');
      child.kill('SIGKILL');
      await exited;
      // ...and ends once the connection is gone, writing nothing.
      expect(await eventually(() => held() === '', 30)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    expect(historyState()).toBe(before);
    expect(scripts()).toEqual(scriptsBefore);
  }, 120_000);

  it('a deploy whose release commands fail (on: first) is recorded failed, with the command', async () => {
    const release = onHost('readlink /var/www/api-orders/current').trim().replace('releases/', '');
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    writeFileSync(
      join(project, 'svc.yaml'),
      `${manifest}release:\n  run:\n    - [sh, -c, 'exit 2']\n`,
    );
    const server = readFileSync(join(project, 'server.js'), 'utf8');
    writeFileSync(join(project, 'server.js'), `${server}\n// a release whose migration fails\n`);
    try {
      const failed = await svc(['deploy', 'sandbox', '--yes']);
      expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    } finally {
      writeFileSync(join(project, 'svc.yaml'), manifest);
      writeFileSync(join(project, 'server.js'), server);
    }
    expect((await history()).at(-1)).toMatchObject({
      action: 'deploy',
      before: release,
      after: release,
      result: 'failed',
      reason: 'release command 1 of 1 failed (status 2)',
    });
    // Nothing pending is left behind: the phase's record was its deploy's.
    expect(
      onHost(`ls ${HISTORY}`)
        .split('\n')
        .filter((f) => f.startsWith('pending.')),
    ).toEqual([]);
  });
});
