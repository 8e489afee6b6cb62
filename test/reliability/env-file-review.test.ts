// The env file on a real sandbox host (review of issue 15, findings 6, 7, 8 and 10):
// - a new env file is shown without its size (a size tells a secret's length);
// - the same values deployed by address (environment `default`) and then via the inventory group
//   change nothing and restart nothing: the header names no environment;
// - a changed svc.yaml env: value is diffed plainly; a secret is named, never valued;
// - the factsDigest of two plans of the same host differs (salted per run): no offline oracle;
// - deploy A (X=1), deploy B (X=2, a new secret), rollback: the service sees X=1 and no secret,
//   the environment release A ran with (its own svc.yaml);
// - with TOKEN gone from this machine, deploying B is refused but rolling back to A (which names
//   no secret) goes ahead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type CommandResult, type Sandbox } from '../helpers/sandbox.js';
import { root } from './helpers/faults.js';

const NAME = 'api-envs';
const HOST = 'sbx-1';
const TOKEN = `tok-${process.pid}-${Math.random().toString(36).slice(2)}`;
// A debug route: X as the service sees it, and whether TOKEN is set (never its value).
const SERVER = `import { createServer } from 'node:http';
const seen = JSON.stringify({ X: process.env.X ?? null, token: process.env.TOKEN ? 'set' : 'unset' });
createServer((req, res) => res.end(req.url === '/debug/env' ? seen : 'ok')).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

let sbx: Sandbox;
let work: string;
let project: string;
let yamlBase: string;
const printed: CommandResult[] = [];

async function svc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const result = await runSvc([...args, '--dir', project], {
    ...sbx.env,
    HOME: join(work, 'home'),
    ...env,
  });
  printed.push(result);
  return result;
}

/** svc.yaml with env: X and, optionally, secrets:; the group `production` lists the host. */
function writeManifest(x: string, secrets = false): void {
  const address = sbx.host(HOST).address;
  writeFileSync(
    join(project, 'svc.yaml'),
    yamlBase.replace(
      /^env: \{\}$/m,
      [
        `env: { X: "${x}" }`,
        ...(secrets ? ['secrets: [TOKEN]'] : []),
        'hosts:',
        '  production:',
        `    hosts: { web-1: { address: "${address}", user: deploy } }`,
      ].join('\n'),
    ),
  );
}

const seen = () => JSON.parse(root(sbx, HOST, 'curl -s http://127.0.0.1:3000/debug/env')) as object;
const ENV_FILE = `/etc/default/${NAME}`;

describe.sequential('the env file on a sandbox host', () => {
  beforeAll(async () => {
    sbx = await startSandbox({ count: 1 });
    work = mkdtempSync(join(tmpdir(), 'svc-env-review-'));
    project = join(work, NAME);
    const home = join(work, 'home');
    execFileSync(
      SVC,
      ['new', NAME, '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
      {
        env: { ...process.env, CI: '1', HOME: home },
      },
    );
    writeFileSync(join(project, 'server.js'), SERVER);
    yamlBase = readFileSync(join(project, 'svc.yaml'), 'utf8');
    if (!/^env: \{\}$/m.test(yamlBase)) throw new Error('svc new wrote no `env: {}` line');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    const { address, keyFile } = sbx.host(HOST);
    writeFileSync(
      join(home, '.ssh', 'config'),
      `Host ${address}\n  IdentityFile ${keyFile}\n  IdentitiesOnly yes\n`,
    );
    mkdirSync(join(project, '.svc', 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(join(project, '.svc', 'secrets', 'production'), `TOKEN=${TOKEN}\n`, {
      mode: 0o600,
    });
    writeManifest('1');
  }, 180_000);

  afterAll(async () => {
    await sbx?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a new env file is shown without its size', async () => {
    const plan = await svc(['plan', 'production', '--accept-new']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const line = plan.stdout.split('\n').find((text) => text.includes(ENV_FILE));
    expect(line).toBeDefined();
    expect(line).not.toMatch(/\d+(\.\d+)? (B|KiB)/);
    expect(line).toContain('0600 root:root');
  }, 120_000);

  it('deployed by address, then planned via the group with the same values: no change, no restart', async () => {
    const address = sbx.host(HOST).address;
    const first = await svc(['deploy', `deploy@${address}`, '--yes', '--json', '--accept-new']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // deploy --json's plan event carries the changes as they are: the new env file has no size.
    const events = first.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { event: string; plan?: { changes: object[] } });
    const planned = events.find((event) => event.event === 'plan')!.plan!.changes;
    const created = planned.find((change) => (change as { target: string }).target === ENV_FILE);
    expect(created).toMatchObject({ action: 'create', sensitive: true });
    expect(created).not.toHaveProperty('size');
    expect(seen()).toEqual({ X: '1', token: 'unset' });
    const again = await svc(['plan', 'production']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain(ENV_FILE);
    expect(again.stdout).not.toContain('sensitive');
    expect(again.stdout).not.toMatch(/restart/);
  }, 180_000);

  it('two plans of an unchanged host carry different factsDigests (salted per run)', async () => {
    const digests = [];
    for (let i = 0; i < 2; i++) {
      const plan = await svc(['plan', 'production', '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const document = JSON.parse(plan.stdout) as { hosts: { factsDigest: string }[] };
      digests.push(document.hosts[0]!.factsDigest);
    }
    expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(digests[1]).not.toBe(digests[0]);
  }, 120_000);

  it('a changed env: value is diffed plainly; a new secret is named only', async () => {
    writeManifest('2', true);
    const plan = await svc(['plan', 'production']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('      -X=1\n      +X=2\n');
    expect(plan.stdout).toContain('      + TOKEN (sensitive value added)\n');
    const json = await svc(['plan', 'production', '--json']);
    const document = JSON.parse(json.stdout) as {
      hosts: { changes: { target: string; env?: unknown; sensitive?: boolean; size?: number }[] }[];
    };
    const change = document.hosts[0]!.changes.find((c) => c.target === ENV_FILE)!;
    expect(change.env).toStrictEqual([
      { key: 'X', change: 'changed', before: ['X=1'], after: ['X=2'] },
      { key: 'TOKEN', change: 'added', sensitive: true },
    ]);
    expect(change.sensitive).toBe(true);
    expect(change.size).toBeUndefined();
  }, 120_000);

  it('deploy A (X=1), deploy B (X=2 and a secret), rollback: the service sees what A saw', async () => {
    const b = await svc(['deploy', 'production', '--yes']);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(seen()).toEqual({ X: '2', token: 'set' });
    // What the rollback would do to the env file, said before it is done (checked after).
    const dry = await svc(['rollback', 'production', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const back = await svc(['rollback', 'production', '--yes']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(seen()).toEqual({ X: '1', token: 'unset' });
    expect(dry.stdout).toContain('      -X=2\n      +X=1\n');
    expect(dry.stdout).toContain('      - TOKEN (sensitive value removed)\n');
    expect(root(sbx, HOST, `grep -c TOKEN ${ENV_FILE} || true`).trim()).toBe('0');
  }, 300_000);

  // This machine lost TOKEN (a new laptop, a CI job without it): a deploy of B needs it and is
  // refused before any host is contacted, but a rollback to A, whose svc.yaml names no secret,
  // needs nothing of it and goes ahead (it used to be refused like the deploy).
  it('a rollback needs only the secrets its release names', async () => {
    const again = await svc(['deploy', 'production', '--yes']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(seen()).toEqual({ X: '2', token: 'set' });
    const secrets = join(project, '.svc', 'secrets', 'production');
    writeFileSync(secrets, '# TOKEN is not on this machine\n');
    try {
      const deploy = await svc(['deploy', 'production', '--dry-run']);
      expect(deploy.code, deploy.stdout + deploy.stderr).toBe(1);
      expect(deploy.stderr).toContain('secret TOKEN (production): not found');
      const back = await svc(['rollback', 'production', '--yes']);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect(seen()).toEqual({ X: '1', token: 'unset' });
      // From A, the rollback's choice is B, which needs TOKEN: that host is not rolled back.
      const toB = await svc(['rollback', 'production', '--dry-run']);
      expect(toB.code, toB.stdout + toB.stderr).toBe(1);
      expect(toB.stdout + toB.stderr).toContain('secret TOKEN (production): not found');
    } finally {
      writeFileSync(secrets, `TOKEN=${TOKEN}\n`);
    }
  }, 300_000);

  it('no secret value in anything svc printed', () => {
    for (const result of printed) {
      expect(result.stdout).not.toContain(TOKEN);
      expect(result.stderr).not.toContain(TOKEN);
    }
  });
});
