// A project brought up to a changed scaffold by svc update (issue 13), with a user's own monit
// test kept and its port changed with --port, deploys to a real sandbox host and answers there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUpdate } from '../../src/cli/update.js';
import { changedScaffolds } from '../helpers/scaffold-change.js';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'www-upd';
const MONIT = `config/etc/monit/conf.d/${NAME}`;
const EXTRA_MONIT_TEST = '  if totalmem > 200 MB for 5 cycles then alert\n';

let sbx: Sandbox | undefined;
let work = '';
let project = '';

const git = (...args: string[]) =>
  execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', project, ...args],
    {
      encoding: 'utf8',
    },
  );

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'svc-update-deploy-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    ['new', NAME, '--runtime', 'node', '--init', 'monit', '--cutover', 'restart', '--yes'].concat([
      '--dir',
      project,
    ]),
    { env: { ...process.env, NO_COLOR: '1' } },
  );
  git('init', '-q');
  writeFileSync(
    join(project, MONIT),
    readFileSync(join(project, MONIT), 'utf8') + EXTRA_MONIT_TEST,
  );
  git('add', '-A');
  git('commit', '-qm', 'svc new, and a memory check');
  sbx = await startSandbox({ count: 1 });
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('an updated project deploys', () => {
  it('svc update --port 4000 to a changed scaffold, then svc deploy: it answers on 4000', async () => {
    let out = '';
    const sink = {
      write: (text: string) => ((out += text), true),
    } as unknown as NodeJS.WritableStream;
    const code = await runUpdate(
      { port: '4000' },
      { cwd: project, out: sink, scaffoldsDir: changedScaffolds(join(work, 'scaffolds-next')) },
    );
    expect(code, out).toBe(0);
    expect(out).toContain(`\n  merged     ${MONIT}\n`);
    git('add', '-A');
    git('commit', '-qm', 'svc update --port 4000');

    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
      ...sbx!.env,
      HOME: join(work, 'home'),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const address = sbx!.host('sbx-1').address;
    const response = await fetch(`http://${address}:4000/ok`);
    expect(response.status).toBe(200);
    const check = sbx!.ssh('sbx-1', `cat /etc/monit/conf.d/${NAME}`, { user: 'root' });
    expect(check.stdout).toContain('with timeout 15 seconds');
    expect(check.stdout).toContain('port 14000 protocol http');
    expect(check.stdout.endsWith(EXTRA_MONIT_TEST)).toBe(true);
  }, 240_000);
});
