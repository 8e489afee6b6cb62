// svc.yaml `secretsCommand` run as real processes (review of issue 15): a command that leaves a
// process behind holding its stdout costs a bounded wait, not the timeout; a command that never
// finishes is ended with everything it started (TERM to its process group, then KILL), proven by
// pid; its stderr reaches the user's terminal and does not count toward the 64 KiB cap; a pass
// entry with notes after the password is refused with a hint, and the README's first-line form
// gives the password alone and still fails when pass does. Ctrl-C while it runs ends its group
// and svc (130), under plan/secrets and deploy alike.
// Needs `npm run build` first (bin/svc runs dist/).
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readManifestFile } from '../../src/project/read.js';
import { lookUpSecrets } from '../../src/project/secrets.js';
import { SVC } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let work: string;
let project: string;
let pids: string;
const started: number[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from start until svc exited. */
  exitedAfter: number;
  /** When svc exited (Date.now()). */
  exitedAt: number;
}

/** bin/svc, timed to its exit; its output is what it printed until then (plus what was queued). */
function svc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(SVC, [...args, '--dir', project], {
      env: {
        ...process.env,
        HOME: join(work, 'home'),
        NO_COLOR: '1',
        SVC_DEBUG: '',
        PIDS: pids,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      const exitedAt = Date.now();
      const exitedAfter = exitedAt - start;
      // What svc wrote before it exited is in the pipes: read it, but a process left behind
      // holding them must not hold the test too.
      setTimeout(() => resolve({ code, stdout, stderr, exitedAfter, exitedAt }), 300);
    });
  });
}

/** Whether a process with this pid runs (a zombie has ended: only its parent's wait is left). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pids the scripts recorded (one file per process) */
function recordedPids(): number[] {
  return readdirSync(pids).map((file) => Number(readFileSync(join(pids, file), 'utf8')));
}

async function noneRunning(list: number[]): Promise<number[]> {
  // SIGKILL is delivered at once but the process is gone only once the kernel has torn it down.
  for (let i = 0; i < 50 && list.some(running); i++) await new Promise((r) => setTimeout(r, 20));
  return list.filter(running);
}

function script(name: string, body: string): string {
  const path = join(work, 'bin', name);
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}

function useCommand(line: string): void {
  const yaml = join(project, 'svc.yaml');
  const text = readFileSync(yaml, 'utf8').replace(/^secretsCommand: .*\n/m, '');
  writeFileSync(
    yaml,
    text.replace(/^secrets: .*$/m, (found) => `${found}\nsecretsCommand: ${line}`),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'svc-secrets-command-'));
  project = join(work, NAME);
  pids = join(work, 'pids');
  mkdirSync(join(work, 'bin'));
  mkdirSync(pids);
  const made = await new Promise<number | null>((resolve) =>
    spawn(SVC, ['new', NAME, '--yes', '--cutover', 'restart', '--dir', project], {
      env: { ...process.env, CI: '1', HOME: join(work, 'home') },
      stdio: 'ignore',
    }).on('exit', resolve),
  );
  if (made !== 0) throw new Error('svc new failed');
  const yaml = join(project, 'svc.yaml');
  writeFileSync(
    yaml,
    readFileSync(yaml, 'utf8').replace(/^env: \{\}$/m, 'env: {}\nsecrets: [DB_PASSWORD]'),
  );
});

afterEach(() => {
  // A failing run (the code before this fix) leaves processes behind: end them by pid.
  for (const pid of [...recordedPids(), ...started.splice(0)])
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  rmSync(pids, { recursive: true, force: true });
  mkdirSync(pids);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * bin/svc with `args`, sent SIGINT (as a terminal's Ctrl-C) once the command has recorded its
 * pids; resolves with how it ended and how long after the SIGINT.
 */
function interrupted(
  args: string[],
  againAfterMs?: number,
): Promise<Run & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SVC, [...args, '--dir', project], {
      env: { ...process.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '', PIDS: pids },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => {
      if (sentAt !== 0 || recordedPids().length < 2) return;
      sentAt = Date.now();
      child.kill('SIGINT');
      // A second Ctrl-C, while svc still ends the command's group.
      if (againAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), againAfterMs);
    }, 20);
    const giveUp = setTimeout(
      () => reject(new Error(`the command never started: ${stderr}`)),
      20_000,
    );
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(giveUp);
      const exitedAt = Date.now();
      const exitedAfter = exitedAt - sentAt;
      setTimeout(() => resolve({ code, signal, stdout, stderr, exitedAfter, exitedAt }), 300);
    });
  });
}

describe('Ctrl-C while secretsCommand runs', () => {
  // The command runs in a session of its own: the terminal's SIGINT reaches svc alone. svc ends
  // the command's whole group, then stops (130): nothing runs on after it, and Ctrl-C is not held
  // up until the command's own 30 s.
  it.each([
    ['svc secrets', ['secrets', '127.0.0.1']],
    ['svc deploy', ['deploy', '127.0.0.1', '--yes']],
  ])(
    '%s: the command and what it started end with svc, which exits 130',
    async (_, args) => {
      useCommand(
        script(
          'waits',
          'sleep 300 &\necho $! > "$PIDS/grandchild"\necho $$ > "$PIDS/child"\nwait\n',
        ),
      );
      const run = await interrupted(args);
      expect(run.stderr).toContain('interrupted');
      expect({ code: run.code, signal: run.signal }).toStrictEqual({ code: 130, signal: null });
      // TERM reaches both at once: far under the 30 s timeout (15 s leaves a busy machine room
      // for svc's own way out, and still tells the two apart).
      expect(run.exitedAfter).toBeLessThan(15_000);
      expect(recordedPids()).toHaveLength(2);
      expect(await noneRunning(recordedPids())).toEqual([]);
    },
    60_000,
  );

  // Review 11: svc deploy's second Ctrl-C (remote/ctrl-c.ts onCtrlC) leaves at once with
  // process.exit, while runSecretsCommand still waits out TERM -> KILL for the command's group
  // (its own session: the terminal's Ctrl-C never reaches it). A command that ignores TERM
  // (`pass`/`gpg` waiting on pinentry, or a script with a TERM trap) then runs on after svc.
  it('svc deploy, Ctrl-C twice while the command ignores TERM: nothing it started runs on', async () => {
    useCommand(
      script(
        'ignores-term',
        'trap \'\' TERM\nsleep 300 &\necho $! > "$PIDS/grandchild"\necho $$ > "$PIDS/child"\nwait\n',
      ),
    );
    const run = await interrupted(['deploy', '127.0.0.1', '--yes'], 300);
    expect(recordedPids()).toHaveLength(2);
    expect(await noneRunning(recordedPids()), run.stderr).toEqual([]);
    expect(run.code).toBe(130);
  }, 60_000);
});

describe('secretsCommand as real processes', () => {
  it('a process it leaves holding stdout costs a bounded wait and is ended', async () => {
    useCommand(
      script(
        'leaves-one',
        'sleep 300 &\necho $! > "$PIDS/grandchild"\necho $$ > "$PIDS/child"\necho from-command\n',
      ),
    );
    const run = await svc(['secrets', '127.0.0.1']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/default +DB_PASSWORD +command \(secretsCommand\)/);
    expect(run.code).toBe(0);
    // The grace after the command's own exit is 0.5 s; the timeout would be 30 s. Timed from
    // svc's spawn (node's start-up and reading the project included): 20 s still tells them apart.
    expect(run.exitedAfter).toBeLessThan(20_000);
    expect(recordedPids()).toHaveLength(2);
    expect(await noneRunning(recordedPids())).toEqual([]);
  }, 60_000);

  it('one that never finishes is ended at 30 s with all it started (TERM, then KILL)', async () => {
    // The grandchild is started before TERM is ignored, the last sleep after: one dies of TERM,
    // the other (and the shell) only of KILL.
    useCommand(
      script(
        'never-ends',
        [
          'sleep 300 &',
          'echo $! > "$PIDS/grandchild"',
          'echo $$ > "$PIDS/child"',
          "trap '' TERM",
          'sleep 300 &',
          'echo $! > "$PIDS/ignores-term"',
          'wait',
          '',
        ].join('\n'),
      ),
    );
    const run = await svc(['secrets', '127.0.0.1']);
    expect(run.stderr).toBe(
      'svc: error: secret DB_PASSWORD (default): secretsCommand did not finish within 30 s\n',
    );
    expect(run.code).toBe(1);
    expect(run.exitedAfter).toBeGreaterThanOrEqual(30_000);
    // 30 s, then at most 2 s between TERM and KILL, and svc's own way out: timed from the
    // command's start (its pid file), so node's start-up on a busy machine does not count.
    const commandStarted = statSync(join(pids, 'child')).mtimeMs;
    expect(run.exitedAt - commandStarted).toBeLessThan(40_000);
    expect(recordedPids()).toHaveLength(3);
    expect(await noneRunning(recordedPids())).toEqual([]);
  }, 90_000);

  it('passes its stderr through to the terminal, not counted toward the 64 KiB cap', async () => {
    useCommand(
      script(
        'talks',
        'echo "gpg: decryption of svc/default/$SVC_SECRET_KEY asked for a passphrase" >&2\n' +
          'head -c 200000 /dev/zero | tr "\\0" x >&2\necho from-command\n',
      ),
    );
    const run = await svc(['secrets', '127.0.0.1']);
    expect(run.stdout).toMatch(/default +DB_PASSWORD +command \(secretsCommand\)/);
    expect(run.stderr).toContain(
      'gpg: decryption of svc/default/DB_PASSWORD asked for a passphrase\n',
    );
    expect(run.stderr).toContain('x'.repeat(200_000));
    expect(run.code).toBe(0);
  }, 60_000);

  it('more than 64 KiB on stdout is refused, and what it started is ended', async () => {
    useCommand(
      script(
        'floods',
        'sleep 300 &\necho $! > "$PIDS/grandchild"\necho $$ > "$PIDS/child"\n' +
          'head -c 70000 /dev/zero | tr "\\0" x\nsleep 300\n',
      ),
    );
    const run = await svc(['secrets', '127.0.0.1']);
    expect(run.stderr).toBe(
      'svc: error: secret DB_PASSWORD (default): secretsCommand printed more than 64 KiB\n',
    );
    // Refused as the cap is passed, not at the 30 s timeout (timed from svc's spawn).
    expect(run.exitedAfter).toBeLessThan(20_000);
    expect(await noneRunning(recordedPids())).toEqual([]);
  }, 60_000);
});

describe('a pass entry with notes after the password', () => {
  const ENTRY = 'pa55-first-line\nurl: https://db.example.net\nuser: orders\n';
  let fakePass: string;

  beforeAll(() => {
    // A stand-in for pass: `pass show NAME` prints the whole entry, as pass(1) does.
    const store = join(work, 'store', 'svc', 'default');
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, 'DB_PASSWORD'), ENTRY);
    fakePass = join(work, 'bin', 'pass');
    writeFileSync(
      fakePass,
      `#!/bin/sh\n[ "$1" = show ] || exit 2\nexec cat "${join(work, 'store')}/$2"\n`,
    );
    chmodSync(fakePass, 0o755);
  });

  const resolveWith = async (line: string) => {
    useCommand(line);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(work, 'bin')}:${process.env.PATH}`,
    };
    delete env.DB_PASSWORD;
    return lookUpSecrets(project, readManifestFile(project), 'default', env);
  };

  it('`pass show` alone prints every line: refused, with the hint', async () => {
    const { resolved, problems } = await resolveWith('pass show svc/{env}/{key}');
    expect(resolved).toEqual([]);
    expect(problems.map((problem) => problem.line)).toEqual([
      'secret DB_PASSWORD (default, from secretsCommand): contains a line break; the env file holds one line per value (secretsCommand must print the value alone: for a pass entry, its first line only)',
    ]);
  });

  const README_FORM = `bash -o pipefail -c 'pass show "svc/$SVC_SECRET_ENV/$SVC_SECRET_KEY" | sed -n 1p'`;

  it("the README's form gives the first line alone", async () => {
    expect(
      readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8'),
    ).toContain(`secretsCommand: ${README_FORM}`);
    const { resolved, problems } = await resolveWith(README_FORM);
    expect(problems).toEqual([]);
    expect(resolved.map(({ key, value }) => [key, value])).toEqual([
      ['DB_PASSWORD', 'pa55-first-line'],
    ]);
  });

  it('output that is not UTF-8 is refused, never replaced', async () => {
    const { resolved, problems } = await resolveWith(`sh -c 'printf "caf\\351\\n"'`);
    expect(resolved).toEqual([]);
    expect(problems.map((problem) => problem.line)).toEqual([
      'secret DB_PASSWORD (default): secretsCommand printed bytes that are not UTF-8',
    ]);
  });

  it("the README's form still fails when pass does", async () => {
    rmSync(join(work, 'store', 'svc', 'default', 'DB_PASSWORD'));
    const { problems } = await resolveWith(README_FORM);
    expect(problems.map((problem) => problem.line)).toEqual([
      'secret DB_PASSWORD (default): secretsCommand exited with status 1',
    ]);
  });
});
