// svc top's and svc trace's host shells SIGKILLed on a real sandbox host (the OOM killer, an
// admin's kill -9): nothing runs after that, so their private directories (core/private-tmp.ts)
// stay, and the next run of the same command removes them. After: the host's /tmp as it was, and
// no tracer attached.
// Needs `npm run build` first (bin/svc runs dist/).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { privateTmpGlob } from '../../src/core/private-tmp.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let sbx: Sandbox | undefined;
let work = '';
let project = '';
const running = new Set<ChildProcess>();

const env = () => ({ ...sbx!.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' });
const svc = (args: string[]) => runSvc([...args, '--dir', project], env());

function onHost(command: string): string {
  const result = sbx!.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Every entry of the host's /tmp, at any depth, with its owner. */
const tmpOnHost = () => onHost("find /tmp -mindepth 1 -printf '%u %p\\n' | sort");
/** The private directories of a kind on the host now. */
const privateDirs = (kind: string) =>
  onHost(`ls -d ${privateTmpGlob(kind)} 2>/dev/null || true`)
    .trim()
    .split('\n')
    .filter(Boolean);

function startSvc(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(SVC, [...args, '--dir', project], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.once('close', () => running.delete(child));
  return { child, output: () => output };
}

/** Runs `args` until its host shell has made its directory, then SIGKILLs that shell (only it). */
async function killShellOf(kind: string, args: string[]): Promise<string> {
  const run = startSvc(args);
  let dir = '';
  const made = await eventually(() => {
    dir = privateDirs(kind)[0] ?? '';
    return dir !== '';
  }, 60);
  expect(made, run.output()).toBe(true);
  const shell = /^\/tmp\/svc-[a-z]+\.(\d+)\./.exec(dir)![1]!;
  expect(onHost(`tr '\\0' ' ' < /proc/${shell}/cmdline`)).toMatch(/^sh /);
  onHost(`kill -KILL ${shell}`);
  run.child.kill('SIGKILL');
  // What the kill left: the directory, with no shell of its own any more.
  expect(privateDirs(kind)).toEqual([dir]);
  return dir;
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-observe-sigkill-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
    { env: { ...process.env, CI: '1' } },
  );
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 300_000);

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

it("svc top's shell SIGKILLed: its directory stays until the next svc top removes it", async () => {
  const before = tmpOnHost();
  const left = await killShellOf('top', ['top', 'sandbox', '--json', '--interval', '1']);
  expect(tmpOnHost()).toContain(left);
  const next = await svc(['top', 'sandbox', '--once', '--json']);
  expect(next.code, next.stderr).toBe(0);
  expect(tmpOnHost()).toBe(before);
}, 180_000);

it("svc trace's shell SIGKILLed: the tracer detaches, the next svc trace removes its directory", async () => {
  const before = tmpOnHost();
  const left = await killShellOf('trace', ['trace', 'sandbox', '--seconds', '30']);
  expect(tmpOnHost()).toContain(left);
  // The tracer's watcher sees the channel end and stops it (trace-script.ts).
  const detached = await eventually(
    () => sbx!.ssh('sbx-1', 'pgrep -x strace', { user: 'root' }).code === 1,
    30,
  );
  expect(detached).toBe(true);
  const pid = onHost(`cat /run/${NAME}.pid`).trim();
  expect(onHost(`sed -n 's/^TracerPid:[[:space:]]*//p' /proc/${pid}/task/*/status | sort -u`)).toBe(
    '0\n',
  );
  const next = await svc(['trace', 'sandbox', '--seconds', '1']);
  expect(next.code, next.stderr).toBe(0);
  expect(tmpOnHost()).toBe(before);
}, 180_000);
