// Ctrl-C twice at a lifecycle script (svc stop's, core/lifecycle.ts controlScript), run by the
// real sh on this machine against a scratch copy of the layout (the service's paths moved below a
// temporary directory; the init system's stop replaced by a no-op, so the stop is asked and never
// happens). INT goes to the script's whole process group, as a terminal's Ctrl-C does: the first
// while it waits for the service to stop, the second while its cleanup waits for the history's
// lock (held here meanwhile). The cleanup must still complete: the record appended as
// `interrupted` with the state the service was in, the pending record gone, exit 130, and the
// same line on stderr. Also: every trap on INT in svc's generated scripts ignores INT first.
// Needs root, as the history's functions do (their directories must be uid 0's).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { controlScript, stopHolderScript } from '../../src/core/lifecycle.js';
import { hostLayout } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { RELEASE_RUN } from '../../src/core/release-commands.js';
import { logsScript } from '../../src/core/logs-script.js';
import { topReader } from '../../src/core/top-script.js';
import { PRELUDE } from '../../src/core/apply-script.js';

let root = '';
const children: ChildProcess[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-lifecycle-trap-'));
});
afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      // The script's group (it was started detached), else the process itself.
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NAME = 'svc-trap1';
const manifest = {
  name: NAME,
  kind: 'service',
  user: NAME,
  init: 'monit',
  monit: true,
  stopTimeout: 30,
} as unknown as Manifest;
const WHO = { operator: 'ana@laptop', version: '0.4.0' };

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(check(), what).toBe(true);
}

describe('svc stop interrupted twice (INT to its process group)', () => {
  it('the cleanup completes: recorded interrupted with the state, no pending record, exit 130', async () => {
    const base = join(root, 'h');
    const layout = hostLayout(NAME);
    mkdirSync(join(base, 'var/lib'), { recursive: true });
    mkdirSync(join(base, 'var/www', NAME, 'releases'), { recursive: true });
    mkdirSync(join(base, 'run'), { recursive: true });
    const history = `${base}${layout.records}/history`;
    // The service: a process of this test's (not in the script's group), named by its pidfile.
    const service = spawn('sleep', ['300']);
    children.push(service);
    writeFileSync(`${base}${layout.pidfile}`, `${service.pid}\n`);
    const script = controlScript(manifest, 'stop', WHO);
    const asked = `monit stop ${NAME} >&4 2>&1 </dev/null 4>&- &`;
    expect(script).toContain(asked);
    const moved = script
      .replace(asked, ': &')
      .replaceAll(layout.records, `${base}${layout.records}`)
      .replaceAll(layout.root, `${base}${layout.root}`)
      .replaceAll(layout.pidfile, `${base}${layout.pidfile}`);
    const run = spawn('sh', ['-c', moved], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    let stderr = '';
    run.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = exited(run);
    // Waiting for the stop: its pending record is there.
    await until(() => existsSync(`${history}/pending.${run.pid}`), 'the pending record');
    await new Promise((r) => setTimeout(r, 500));
    // The history's lock, held here: the cleanup's append waits for it.
    const holder = spawn(
      'flock',
      ['-o', `${history}/lock`, 'sh', '-c', 'echo held; exec sleep 300'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    children.push(holder);
    await new Promise((r) => holder.stdout!.once('data', r));
    process.kill(-run.pid!, 'SIGINT');
    // The second Ctrl-C once the cleanup waits for the history's lock (its flock is in the
    // script's group), not after a guessed second.
    await until(
      () => spawnSync('pgrep', ['-g', String(run.pid), '-x', 'flock']).stdout.length > 0,
      "the cleanup waiting for the history's lock",
    );
    process.kill(-run.pid!, 'SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    holder.kill('SIGKILL');
    expect(await ended, stderr).toBe(130);
    const reason = `interrupted during the stop: the service was running (pid ${service.pid})`;
    // The record written (the second INT did not cut its append short), the pending one gone.
    expect(readdirSync(history).sort()).toEqual(['lock', 'records']);
    expect(stderr.trim().split('\n').at(-1)).toBe(reason);
    const records = readFileSync(`${history}/records`, 'utf8').trim().split('\n');
    expect(records).toHaveLength(1);
    expect(records[0]!.split('\t').slice(2, 4)).toEqual(['stop', WHO.operator]);
    expect(records[0]!.split('\t').slice(7).join('\t')).toMatch(
      new RegExp(`^interrupted\t\\d+\t${reason.replace(/[()]/g, '\\$&')}$`),
    );
  }, 30_000);
});

// The init system's command can itself take long (a `systemctl stop` that waits out the stop
// timeout): sh runs no trap until a foreground child ends, so the script runs it as a job and
// waits for that, which a trapped INT ends at once. The job goes on (the init system's action is
// never cut short); its output goes to a file (so it holds no channel open) that has no name
// while it runs: root's 0600, open only, so that nothing is left to remove however the script
// ends.
describe("svc stop while the init system's command blocks", () => {
  it("INT to the script's shell (as svc sends it) ends the wait at once, recorded interrupted", async () => {
    const base = join(root, 'blocks');
    const scratch = join(root, 'blocks-tmp');
    const layout = hostLayout(NAME);
    mkdirSync(join(base, 'var/lib'), { recursive: true });
    mkdirSync(join(base, 'var/www', NAME, 'releases'), { recursive: true });
    mkdirSync(join(base, 'run'), { recursive: true });
    mkdirSync(scratch);
    const history = `${base}${layout.records}/history`;
    const service = spawn('sleep', ['300']);
    children.push(service);
    writeFileSync(`${base}${layout.pidfile}`, `${service.pid}\n`);
    const asked = `monit stop ${NAME} >`;
    const script = controlScript(manifest, 'stop', WHO);
    expect(script).toContain(asked);
    const moved = script
      .replace(asked, `sh -c 'echo asking; exec sleep 29' >`)
      .replaceAll(layout.records, `${base}${layout.records}`)
      .replaceAll(layout.root, `${base}${layout.root}`)
      .replaceAll(layout.pidfile, `${base}${layout.pidfile}`);
    const run = spawn('sh', ['-c', moved], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: scratch },
    });
    children.push(run);
    let stderr = '';
    run.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = exited(run);
    const job = () =>
      spawnSync('pgrep', ['-f', '-g', String(run.pid), '^sleep 29$'], { encoding: 'utf8' });
    await until(() => job().stdout.trim() !== '', 'the init command running');
    // Its output: a file of root's alone, already without a name (a SIGKILL now leaves nothing).
    const out = statSync(`/proc/${job().stdout.trim()}/fd/1`);
    expect({ links: out.nlink, mode: out.mode & 0o7777, uid: out.uid }).toEqual({
      links: 0,
      mode: 0o600,
      uid: 0,
    });
    process.kill(run.pid!, 'SIGINT');
    // Waiting out the init command would take 29 s; the trap's record (flock and a dozen forks)
    // can take seconds on a busy machine.
    const code = await Promise.race([
      ended,
      new Promise<string>((r) => setTimeout(() => r('still waiting after 15 s'), 15_000)),
    ]);
    expect(code, stderr).toBe(130);
    const reason = `interrupted during the stop: the service was running (pid ${service.pid})`;
    expect(stderr.trim().split('\n').at(-1)).toBe(reason);
    expect(readdirSync(history).sort()).toEqual(['lock', 'records']);
    const records = readFileSync(`${history}/records`, 'utf8').trim().split('\n');
    expect(records.at(-1)!.split('\t').slice(7, 8)).toEqual(['interrupted']);
    // The init system's action goes on; its output file is gone all the same.
    expect(job().stdout.trim()).not.toBe('');
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);
});

// What the init system's command prints is shown once it ends, as before its file lost its name;
// a name a run killed between its open and its removal left (the one moment it has one) goes
// with the next run's.
describe("the init system's command's output", () => {
  it("reaches stderr; no file of it stays, and a killed run's leftover is swept", async () => {
    const base = join(root, 'output');
    const scratch = join(root, 'output-tmp');
    const layout = hostLayout(NAME);
    const history = `${base}${layout.records}/history`;
    mkdirSync(join(base, 'var/www', NAME, 'releases'), { recursive: true });
    mkdirSync(join(base, 'run'), { recursive: true });
    mkdirSync(history, { recursive: true, mode: 0o700 });
    mkdirSync(scratch);
    writeFileSync(`${history}/out.4000000`, 'what a killed run had printed\n', { mode: 0o600 });
    const asked = `monit stop ${NAME} >`;
    const script = controlScript(manifest, 'stop', WHO);
    expect(script).toContain(asked);
    const moved = script
      .replace(asked, `sh -c 'echo said on stdout; echo said on stderr >&2; exit 3' >`)
      .replaceAll(layout.records, `${base}${layout.records}`)
      .replaceAll(layout.root, `${base}${layout.root}`)
      .replaceAll(layout.pidfile, `${base}${layout.pidfile}`);
    const run = spawn('sh', ['-c', moved], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: scratch },
    });
    children.push(run);
    let stderr = '';
    run.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(run), stderr).toBe(3);
    expect(stderr.split('\n').slice(0, 2)).toEqual(['said on stdout', 'said on stderr']);
    expect(readdirSync(history).sort()).toEqual(['lock', 'records']);
    expect(readdirSync(scratch)).toEqual([]);
    const records = readFileSync(`${history}/records`, 'utf8').trim().split('\n');
    expect(records.at(-1)!.split('\t').slice(7)).toEqual([
      'failed',
      expect.stringMatching(/^\d+$/),
      "the init system's stop failed",
    ]);
  }, 30_000);
});

describe('every INT trap in the generated scripts ignores INT, TERM and HUP first', () => {
  const scripts: [string, () => string][] = [
    ['the apply script', () => PRELUDE],
    ['the release commands', () => RELEASE_RUN],
    ['svc start', () => controlScript(manifest, 'start', WHO)],
    ['svc stop', () => controlScript(manifest, 'stop', WHO)],
    ['svc restart', () => controlScript(manifest, 'restart', WHO)],
    ['svc unlock --force', () => stopHolderScript(manifest, 123, '456', WHO)],
    ['svc logs -f', () => logsScript(manifest, 10, true)],
    ['svc top', () => topReader(manifest)],
  ];
  it.each(scripts)('%s', (_, make) => {
    const script = make();
    const traps = script
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^trap .* (INT|EXIT)\b/.test(line) && !line.startsWith("trap '' "));
    expect(traps.length).toBeGreaterThan(0);
    for (const trap of traps) {
      // A function (the apply script's cleanup): its first command, after taking $?, ignores.
      const named = /^trap ([a-z_]+) EXIT$/.exec(trap)?.[1];
      if (named !== undefined) {
        expect(script).toMatch(
          new RegExp(
            `\\n${named}\\(\\) \\{\\n  status=\\$\\?\\n(  #.*\\n)*  trap '' INT TERM HUP\\n`,
          ),
        );
        continue;
      }
      expect(trap).toMatch(/^trap '(set -- \$\?; )?trap "" (INT TERM HUP|HUP INT TERM); /);
    }
  });
});
