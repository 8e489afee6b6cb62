// private_tmp (core/private-tmp.ts), run by sh as root, as svc top and svc trace run it on a host:
// it makes a fresh root-only directory named for its shell, and removes the ones of its kind
// whose shell is gone, and nothing else (a live shell's, another kind's, another user's, a link).
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  rmSync,
  statSync,
  symlinkSync,
  chownSync,
} from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { PRIVATE_TMP_FUNCTION, privateTmpGlob } from '../../src/core/private-tmp.js';

const KIND = `unit${process.pid}`;
const made: string[] = [];
const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });

afterAll(() => {
  sleeper.kill('SIGKILL');
  for (const path of made) rmSync(path, { recursive: true, force: true });
});

/** A pid no process has: a short-lived child's, after it has been reaped. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

function dir(name: string, owner = 0): string {
  const path = `/tmp/${name}`;
  made.push(path);
  mkdirSync(path, { mode: 0o700 });
  mkdirSync(`${path}/inner`);
  if (owner !== 0) chownSync(path, owner, owner);
  return path;
}

it('sweeps its kind whose shell is gone, keeps the rest, and makes its own', () => {
  expect(process.getuid?.()).toBe(0); // as on a host: scripts run as root
  const dead = deadPid();
  const gone = dir(`svc-${KIND}.${dead}.aaaaaa`);
  const live = dir(`svc-${KIND}.${sleeper.pid}.bbbbbb`);
  const other = dir(`svc-x${KIND}.${dead}.cccccc`);
  const notRoots = dir(`svc-${KIND}.${dead}.dddddd`, 65534);
  const target = dir(`target-${KIND}`);
  const link = `/tmp/svc-${KIND}.${dead}.eeeeee`;
  made.push(link);
  symlinkSync(target, link);
  const oddName = dir(`svc-${KIND}.x${dead}.ffffff`);

  const run = spawnSync('sh', ['-c', `${PRIVATE_TMP_FUNCTION}\nprivate_tmp ${KIND}; echo $$`], {
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  const [fresh, shell] = run.stdout.trim().split('\n');
  made.push(fresh!);

  expect(fresh).toMatch(new RegExp(`^/tmp/svc-${KIND}\\.${shell}\\.[A-Za-z0-9]{6}$`));
  expect(statSync(fresh!).mode & 0o777).toBe(0o700);
  expect(statSync(fresh!).uid).toBe(0);
  expect(existsSync(gone)).toBe(false);
  for (const kept of [live, other, notRoots, oddName, `${target}/inner`])
    expect(existsSync(kept), kept).toBe(true);
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(privateTmpGlob(KIND)).toBe(`/tmp/svc-${KIND}.*`);
});
