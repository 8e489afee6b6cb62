// remote/interrupt.ts, the transport's half of Ctrl-C by pid: the pid line taken off stdout however
// the chunks split it, the kill sent once, only while the channel is open, also when Ctrl-C came
// before the pid line; and the command line, run by the real sh, says the pid of the very shell
// that runs the script. deploy-interrupt.test.ts drives the whole path on sandbox hosts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interruptScript } from '../../src/core/interrupt-pid.js';
import { interruptsByPid, pidInterrupt, scriptShell } from '../../src/remote/interrupt.js';
import { REMOVE_OWN_FILE, SCRIPT_CUT_EXIT, wholeOrNothing } from '../../src/core/script-file.js';

type Step = ['data', string] | ['interrupt'] | ['close'];

/** Feeds the steps; what was delivered (as text) and which kill scripts were sent. */
function feed(steps: Step[]): { delivered: string; kills: string[] } {
  let delivered = '';
  const kills: string[] = [];
  const it = pidInterrupt(
    (chunk) => (delivered += chunk.toString('latin1')),
    (script) => kills.push(script),
  );
  for (const step of steps) {
    if (step[0] === 'data') it.data(Buffer.from(step[1], 'latin1'));
    else if (step[0] === 'interrupt') it.interrupt();
    else it.close();
  }
  return { delivered, kills };
}

const KILL = interruptScript({ pid: 123, start: '456' });

describe('pidInterrupt', () => {
  it.each<[string, Step[], string, string[]]>([
    ['the pid line, then output', [['data', 'svc-pid 123 456\nhello\n']], 'hello\n', []],
    [
      'Ctrl-C after the pid line: one kill',
      [['data', 'svc-pid 123 456\n'], ['interrupt'], ['data', 'x'], ['interrupt']],
      'x',
      [KILL],
    ],
    [
      'the pid line split over chunks',
      [['data', 'svc-'], ['data', 'pid 12'], ['data', '3 456\nok'], ['interrupt']],
      'ok',
      [KILL],
    ],
    [
      'Ctrl-C before the pid line came: the kill follows it',
      [['interrupt'], ['data', 'svc-pid 123 456\n']],
      '',
      [KILL],
    ],
    [
      'the channel closed: no kill',
      [['data', 'svc-pid 123 456\n'], ['close'], ['interrupt']],
      '',
      [],
    ],
    [
      'Ctrl-C, but the channel closed before the pid line',
      [['interrupt'], ['data', 'svc-pid 123 456'], ['close']],
      'svc-pid 123 456',
      [],
    ],
    [
      'a pid line that does not parse is taken off all the same, and no kill is sent',
      [['data', 'svc-pid 123 x\nrest'], ['interrupt']],
      'rest',
      [],
    ],
    [
      'a pid line without a start time (/proc unreadable) is taken off',
      [['data', 'svc-pid 123 \nrest'], ['interrupt'], ['close']],
      'rest',
      [],
    ],
    [
      'a first line that is no pid line is output',
      [['data', 'svc-pi 123 456\nrest'], ['interrupt']],
      'svc-pi 123 456\nrest',
      [],
    ],
    ['256 bytes without a newline are output', [['data', 'a'.repeat(256)]], 'a'.repeat(256), []],
    ['255 bytes without a newline are held', [['data', 'a'.repeat(255)]], '', []],
    ['held bytes are output at the close', [['data', 'abc'], ['close']], 'abc', []],
  ])('%s', (_, steps, delivered, kills) => {
    expect(feed(steps)).toEqual({ delivered, kills });
  });
});

describe('interruptsByPid', () => {
  const signal = new AbortController().signal;
  it.each<[string, Parameters<typeof interruptsByPid>[0], boolean]>([
    ['with a signal', { signal }, true],
    ['without one', {}, false],
    ['with holdStdin', { signal, holdStdin: true }, false],
    ['with stdout streamed', { signal, stdout: process.stdout }, false],
  ])('%s', (_, options, byPid) => {
    expect(interruptsByPid(options)).toBe(byPid);
  });
});

describe('scriptShell, run by sh', () => {
  /** Runs the command line as sshd's login shell would, with `stdin`. */
  const run = (command: string, stdin: string) =>
    spawnSync('sh', ['-c', command], { input: stdin, encoding: 'latin1' }).stdout;
  it.each<[string, boolean, boolean]>([
    ['sh -s', false, false],
    ['sh -s, pid first', false, true],
    ['exact length', true, false],
    ['exact length, pid first', true, true],
  ])('%s', (_, exact, byPid) => {
    // Read by exact length, the script's own stdin is the input after it (cat shows it); sh -s
    // reads all of stdin as the script.
    // An exact-length script removes its own file first, as svc's do (core/script-file.ts).
    const script = exact ? `${REMOVE_OWN_FILE}\necho "shell $$"; cat\n` : 'echo "shell $$"\n';
    const out = run(scriptShell(script.length, exact, byPid), exact ? `${script}input` : script);
    const lines = out.split('\n');
    const pidLine = byPid ? lines.shift() : undefined;
    expect(lines.slice(1).join('\n')).toBe(exact ? 'input' : '');
    expect(lines[0]).toMatch(/^shell [1-9][0-9]*$/);
    // The pid said is the very shell that runs the script (it execs it).
    if (byPid) expect(pidLine).toMatch(new RegExp(`^svc-pid ${lines[0]!.slice(6)} [0-9]+$`));
  });

  it('sh -s without a pid is the plain command line', () => {
    expect(scriptShell(10, false, false)).toBe('sh -s');
  });
});

describe('a script whose connection is cut while it is sent: nothing of it runs', () => {
  // Each step of the script leaves a mark; the last line is one a cut could turn into another
  // command (`rm -rf -- DIR/releases/r3` cut to `rm -rf -- DIR`).
  const script = (dir: string) =>
    `${REMOVE_OWN_FILE}\necho one > ${dir}/one\necho two > ${dir}/two\nrm -rf -- ${dir}/victim/releases/r3\n`;
  /** What of `dir` is left after the login shell ran `command` with `stdin`, and its exit code. */
  const runIn = (command: (text: string) => string, text: (dir: string) => string, cut: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-cut-'));
    try {
      mkdirSync(join(dir, 'victim', 'releases', 'r3'), { recursive: true });
      const whole = text(dir);
      const run = spawnSync('sh', ['-c', command(whole)], {
        input: whole.slice(0, whole.length - cut),
        encoding: 'utf8',
      });
      return { code: run.status, left: readdirSync(dir).sort() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const shS = (text: string) => scriptShell(text.length, false, false);
  const exact = (text: string) => scriptShell(text.length, true, false);
  // Cut so that the rm's path ends at DIR/victim: run, that line removes all of it.
  const CUT = `/releases/r3\n`.length;

  it('sh -s, as one brace group: a cut script is a syntax error, no line runs', () => {
    const cut = runIn(shS, (dir) => wholeOrNothing(script(dir)), CUT + `}\n`.length);
    expect(cut.left).toEqual(['victim']);
    expect(cut.code).not.toBe(0);
    const whole = runIn(shS, (dir) => wholeOrNothing(script(dir)), 0);
    expect(whole).toEqual({ code: 0, left: ['one', 'two', 'victim'] });
  });

  it('sh -s without the group (what svc sent before): the lines that came run, the cut one too', () => {
    const cut = runIn(shS, script, CUT);
    expect(cut.left).toEqual(['one', 'two']);
  });

  it('by exact length: a short file never runs (exit 70), and is removed', () => {
    const before = readdirSync('/tmp').filter((name) => name.startsWith('svc-run.'));
    const cut = runIn(exact, script, CUT);
    expect(cut).toEqual({ code: SCRIPT_CUT_EXIT, left: ['victim'] });
    expect(readdirSync('/tmp').filter((name) => name.startsWith('svc-run.'))).toEqual(before);
    expect(runIn(exact, script, 0)).toEqual({ code: 0, left: ['one', 'two', 'victim'] });
    expect(readdirSync('/tmp').filter((name) => name.startsWith('svc-run.'))).toEqual(before);
  });
});
