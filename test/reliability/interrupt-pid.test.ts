// core/interrupt-pid.ts run by the real sh on this machine: the pid line a script's shell says
// names that very process (its pid and /proc start time, read here by node), and the kill script
// sends INT to it only while the pid is still that process. deploy-interrupt.test.ts drives the
// whole Ctrl-C path through svc on sandbox hosts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { interruptScript, parsePidLine, SAY_PID } from '../../src/core/interrupt-pid.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Field 22 of /proc/PID/stat, read past the command name (which may hold spaces). */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]!;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_, signal) => resolve(signal)),
  );

const runSh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8' });

describe('the pid line', () => {
  it('names the shell that then execs the script: its pid and its start time', async () => {
    // A command name with spaces and a parenthesis: the start time is read past it.
    const child = spawn('sh', ['-c', `${SAY_PID}exec sleep 30`], { argv0: 'sh (a) b' });
    children.push(child);
    const said = parsePidLine(await firstLine(child));
    expect(said).toEqual({ pid: child.pid, start: startTime(child.pid!) });
    // The same process after the exec: the script (here sleep) is what the line named.
    const cmdline = () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    for (let i = 0; i < 40 && !cmdline().startsWith('sleep'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cmdline()).toBe('sleep\u000030\u0000');
    expect(startTime(child.pid!)).toBe(said!.start);
  });

  it.each([
    ['svc-pid 123 456', { pid: 123, start: '456' }],
    ['svc-pid 4194304 1', { pid: 4194304, start: '1' }],
    ['svc-pid 4194305 1', undefined],
    ['svc-pid 123 ', undefined],
    ['svc-pid 0 5', undefined],
    ['svc-pid 012 5', undefined],
    ['svc-pid -1 5', undefined],
    ['svc-pid 1 5 6', undefined],
    [' svc-pid 1 5', undefined],
    ['svc-pid 1 5x', undefined],
    ['STEP\tdeploying', undefined],
  ])('%j parses to %j', (line, expected) => {
    expect(parsePidLine(line)).toEqual(expected);
  });
});

describe('the kill script', () => {
  it('sends INT to the process it names', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    const ended = exited(child);
    const result = runSh(interruptScript({ pid: child.pid!, start: startTime(child.pid!) }));
    expect(result.status, result.stderr).toBe(0);
    expect(await ended).toBe('SIGINT');
  });

  it('leaves alone a process with that pid but another start time (a pid reused)', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    const ended = exited(child);
    const other = String(Number(startTime(child.pid!)) - 1);
    const result = runSh(interruptScript({ pid: child.pid!, start: other }));
    expect(result.status, result.stderr).toBe(0);
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    // TERM from here, after the script has exited: had it sent INT, that would be delivered
    // first (pending signals go lowest number first), so the process must die of TERM.
    child.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
  });

  it('exits 0 when the process is gone', async () => {
    const child = spawn('true');
    await exited(child);
    const result = runSh(interruptScript({ pid: child.pid!, start: '1' }));
    expect([result.status, result.stderr]).toEqual([0, '']);
  });

  it('with group: INT reaches every process of the group the process leads (a pipeline)', async () => {
    // The leader waits for a pipeline, as `sh -c 'sleep 21 | cat'` does under svc exec.
    const child = spawn('sh', ['-c', 'sleep 30 | cat; echo after'], { detached: true });
    children.push(child);
    const ended = exited(child);
    const group = () =>
      spawnSync('pgrep', ['-g', String(child.pid!)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
    // The pipeline started: the shell, sleep and cat in the group.
    for (let i = 0; i < 200 && group().length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(group()).toHaveLength(3);
    const result = runSh(interruptScript({ pid: child.pid!, start: startTime(child.pid!) }, true));
    expect(result.status, result.stderr).toBe(0);
    expect(await ended).toBe('SIGINT');
    // The others had INT too; each may take a moment to run to its end.
    for (let i = 0; i < 200 && group().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(group()).toEqual([]);
  });

  it('with group: a process that leads no group of its own is left alone', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    const ended = exited(child);
    const result = runSh(interruptScript({ pid: child.pid!, start: startTime(child.pid!) }, true));
    expect(result.status, result.stderr).toBe(0);
    expect(child.signalCode).toBeNull();
    // As above: an INT the script sent would be delivered before this TERM.
    child.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
  });

  it.each([
    [{ pid: 0, start: '1' }],
    [{ pid: 1.5, start: '1' }],
    [{ pid: 12, start: '' }],
    [{ pid: 12, start: '1; reboot' }],
  ])('refuses %j', (target) => {
    expect(() => interruptScript(target)).toThrow(/^not a process: /);
  });
});
