// Under init: monit, a first deploy starts the service once. monit starts a check it has just
// loaded on its own, at once, and what it starts is already the new release: the apply script
// decides start or restart (and takes the health gate's "before" pid) from the host as it was
// before `monit reload`, so it does not take monit's fresh process for the old one, stop it and
// start the same release again. A redeploy of a changed release still restarts, and a first
// deploy that crashes at start is still noticed at once and undone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;

const scaffold = (name: string, port: number) => {
  const project = join(work, name);
  execFileSync(
    SVC,
    [
      'new',
      name,
      '--yes',
      '--init',
      'monit',
      '--cutover',
      'restart',
      '--port',
      String(port),
      '--dir',
      project,
    ],
    { env: { ...process.env, CI: '1' } },
  );
  return project;
};
const deploy = async (project: string, flags: string[] = []) => {
  const started = Date.now();
  const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...flags], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });
  return { ...result, seconds: (Date.now() - started) / 1000 };
};
const onHost = (command: string) => {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
};
/** How many times the service has started: the scaffolded server logs one line per start. */
const starts = (name: string) =>
  Number(onHost(`grep -c 'listening on' /var/log/${name}/${name}.log || :`));
const livePid = (name: string) => onHost(`cat /run/${name}.pid`);
/** The release the live process runs in (its working directory). */
const liveCwd = (name: string) => onHost(`readlink /proc/$(cat /run/${name}.pid)/cwd`);

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-monit-once-'));
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a cold deploy under init: monit', () => {
  const name = 'api-once';
  let project: string;

  it('starts the new release once, and it is the process that answers', async () => {
    project = scaffold(name, 9131);
    const result = await deploy(project);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(starts(name)).toBe(1);
    const release = onHost(`readlink -f /var/www/${name}/current`);
    expect(liveCwd(name)).toBe(release);
    expect(onHost(`curl -fsS http://127.0.0.1:9131/ok -o /dev/null -w '%{http_code}'`)).toBe('200');
  }, 120_000);

  it('a redeploy of a changed release restarts it: a new process in the new release', async () => {
    const before = livePid(name);
    const server = join(project, 'server.js');
    writeFileSync(server, `// changed\n${readFileSync(server, 'utf8')}`);
    const result = await deploy(project);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain(`restarted ${name}`);
    expect(livePid(name)).not.toBe(before);
    expect(liveCwd(name)).toBe(onHost(`readlink -f /var/www/${name}/current`));
    expect(starts(name)).toBe(2);
  }, 120_000);
});

describe('a first deploy under init: monit that crashes at start', () => {
  it('is noticed at once, said, and undone: nothing of it runs', async () => {
    const name = 'api-once-crash';
    const project = scaffold(name, 9132);
    const server = join(project, 'server.js');
    writeFileSync(
      server,
      `console.error('once-test: exits at start');\nprocess.exit(3);\n${readFileSync(server, 'utf8')}`,
    );
    // A long health timeout: a death not noticed would wait all of it (60 s; 30 s with the
    // default and the old code), so the wall bound below can leave a busy machine room.
    const result = await deploy(project, ['--health-timeout', '60']);
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(1);
    // Seen within a poll of the death, not the health timeout later: the host's own measure, from
    // the start to the death noticed.
    const exited = /sbx-1: release [0-9a-f]{12} exited (\d+\.\d) s after start/.exec(output);
    expect(exited, output).not.toBeNull();
    console.info(
      `monit-start-once: crashing first deploy ${result.seconds.toFixed(1)} s, exited ${exited![1]} s after start`,
    );
    expect(Number(exited![1]), output).toBeLessThan(3);
    // The whole deploy: a first deploy (up to 21 s seen on a busy machine) and the undo of a first
    // monit deploy, which waits for monit to drop the check (about 10 s, the old code too); far
    // from the 60 s a death not noticed would wait before its undo.
    expect(result.seconds, output).toBeLessThan(45);
    expect(output).toContain('| once-test: exits at start');
    expect(output).toContain('there was no previous release: the service was stopped');
    expect(onHost(`monit summary ${name} >/dev/null 2>&1 && echo loaded || echo gone`)).toBe(
      'gone',
    );
    // No process runs in the release (the node process's command line does not name it: its
    // working directory does).
    expect(
      onHost(
        `for p in /proc/[0-9]*; do case $(readlink $p/cwd 2>/dev/null) in /var/www/${name}/*) echo $p ;; esac; done; echo end`,
      ),
    ).toBe('end');
  }, 120_000);
});
