// svc writing into a pipe whose reader went away (`svc history T | head -1`): a real pipe made by
// sh, its read end closed before svc starts, so that svc's first write fails with EPIPE. svc ends
// quietly with 141 (128 + SIGPIPE, what a shell reports for a tool a closed pipe ended), and a
// deploy whose output goes nowhere still finishes on its host: the release live, its history
// record written, the next plan empty. svc top, which would otherwise refresh forever, ends too.
// Against a real sandbox host (root, sshd, monit) and the built bin/svc.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let sbx: Sandbox;
let work: string;
let project: string;
let runs = 0;

const env = () => ({ ...sbx.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' });
const svc = (args: string[]) => runSvc([...args, '--dir', project], env());

interface ClosedRun {
  code: number;
  stderr: string;
}

/**
 * bin/svc ARGS with its stdout (and with `both`, its stderr) on a pipe whose only reader closed
 * it before svc was started: the reader shuts its end and only then lets the writer go on.
 */
function withClosedPipe(args: string[], both = false, timeoutMs = 120_000): Promise<ClosedRun> {
  const go = join(work, `go-${++runs}`);
  const code = join(work, `code-${runs}`);
  const script = `{ while [ ! -e "$GO" ]; do sleep 0.02; done; "$@"${both ? ' 2>&1' : ''}; echo $? > "$CODE"; } | { exec <&-; : > "$GO"; }`;
  return new Promise((resolve, reject) => {
    // svc's own options (--help) take no project; the commands get this one.
    const full = args[0]!.startsWith('-') ? args : [...args, '--dir', project];
    const child = spawn('sh', ['-c', script, 'sh', SVC, ...full], {
      env: { ...env(), GO: go, CODE: code },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`svc ${args.join(' ')} did not end within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ code: Number(readFileSync(code, 'utf8')), stderr });
    });
  });
}

const live = (host: string) => {
  const result = sbx.ssh(host, `readlink /var/www/${NAME}/current`, { user: 'root' });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().replace('releases/', '');
};

let releases = 0;
/** A new release: one file of the project changes. */
const newRelease = () => writeFileSync(join(project, 'VERSION'), `${++releases}\n`);

/** After a deploy svc could not report: the plan is empty and the newest record says deployed. */
async function deployedAndRecorded(before: string): Promise<void> {
  const plan = await svc(['plan', 'sandbox', '--detailed-exitcode']);
  expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  const now = live('sbx-1');
  expect(now).not.toBe(before);
  const history = await svc(['history', 'sandbox', '--json']);
  expect(history.code, history.stderr).toBe(0);
  const records = (JSON.parse(history.stdout) as { records: { after: string; result: string }[] })
    .records;
  expect(records.at(-1)).toMatchObject({ after: now, result: 'deployed' });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'svc-closed-pipe-'));
  project = join(work, NAME);
  sbx = await startSandbox({ count: 1 });
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
    { env: { ...process.env, CI: '1' } },
  );
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc with a closed pipe for its output', () => {
  const readers: string[][] = [
    ['--help'],
    ['--version'],
    ['plan', 'sandbox'],
    ['plan', 'sandbox', '--json'],
    ['history', 'sandbox'],
    ['status', 'sandbox'],
    ['releases', 'sandbox'],
    ['top', 'sandbox', '--once'],
  ];
  it.each(readers.map((args) => [args.join(' '), args] as const))(
    'svc %s: ends with 141 and says nothing',
    async (_shown, args) => {
      const run = await withClosedPipe([...args]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(141);
    },
  );

  it('an output that fails otherwise (a full disk: /dev/full) is said in one line on stderr, exit 1', () => {
    const run = spawnSync('sh', ['-c', `"$0" --help > /dev/full`, SVC], {
      env: env(),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe(
      'svc: error: cannot write the output: ENOSPC: no space left on device, write\n',
    );
    expect(run.status).toBe(1);
  });

  it('svc top --json, which refreshes until stopped, ends when its reader is gone', async () => {
    const run = await withClosedPipe(
      ['top', 'sandbox', '--json', '--interval', '1'],
      false,
      60_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(141);
  });

  it('a deploy with --json (its plan written before the host is touched) still finishes on the host', async () => {
    const before = live('sbx-1');
    newRelease();
    const run = await withClosedPipe(['deploy', 'sandbox', '--yes', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(141);
    await deployedAndRecorded(before);
  });

  it('a deploy in batches with stdout and stderr on the closed pipe still finishes on the host', async () => {
    const before = live('sbx-1');
    newRelease();
    const run = await withClosedPipe(['deploy', 'sandbox', '--yes', '--batch', '1'], true);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(141);
    await deployedAndRecorded(before);
  });

  it('a deploy that fails keeps its own exit code when its reader is gone', async () => {
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    try {
      writeFileSync(join(project, 'svc.yaml'), `${manifest}install: [/bin/false]\n`);
      newRelease();
      const run = await withClosedPipe(['deploy', 'sandbox', '--yes', '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(1);
    } finally {
      writeFileSync(join(project, 'svc.yaml'), manifest);
    }
  });
});
