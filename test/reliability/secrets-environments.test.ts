// Issue 15's "Done when": one project, two groups (staging, production) on two sandbox hosts, two
// secrets resolved from three sources (svc's environment, .svc/secrets/ENV, secretsCommand). Each
// service sees its own values (a debug route prints their hash); then the four unique values are
// searched for in what git tracks and its history, every byte svc printed (--json too), `ps` on the
// hosts during the deploy, and every file svc may write on the hosts but the env file: zero hits.
// And the three refusals (a missing secret, a secrets file others can read, a failing command)
// are one line each, with no connection made to the host (a listener counts them).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type CommandResult, type Sandbox } from '../helpers/sandbox.js';
import { root } from './helpers/faults.js';

const NAME = 'api-orders';
const unique = (what: string) => `${what}-${process.pid}-${Math.random().toString(36).slice(2)}`;
const VALUES = {
  staging: { DB_PASSWORD: unique('stg-db'), STRIPE_KEY: unique('stg-stripe') },
  production: { DB_PASSWORD: unique('prod-db'), STRIPE_KEY: unique('prod-stripe') },
};
const ALL = Object.values(VALUES).flatMap((values) => Object.values(values));
const HOSTS = { staging: 'sbx-1', production: 'sbx-2' } as const;

// A debug route: the sha256 of what the service sees, never the values themselves.
const SERVER = `import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
const seen = JSON.stringify([process.env.DB_PASSWORD, process.env.STRIPE_KEY, process.env.LOG_LEVEL]);
createServer((req, res) => {
  res.end(req.url === '/debug/env' ? createHash('sha256').update(seen).digest('hex') : 'ok');
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;
const expectedHash = (group: keyof typeof VALUES, level: string) =>
  createHash('sha256')
    .update(JSON.stringify([VALUES[group].DB_PASSWORD, VALUES[group].STRIPE_KEY, level]))
    .digest('hex');

let sbx: Sandbox;
let work: string;
let project: string;
const printed: { command: string; result: CommandResult }[] = [];

async function svc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const result = await runSvc([...args, '--dir', project], {
    ...sbx.env,
    HOME: join(work, 'home'),
    ...env,
  });
  printed.push({ command: args.join(' '), result });
  return result;
}

/** Records every command line on a host (ps, full width) until stopped: read over root's ssh. */
function watchPs(host: string): { stop: () => string } {
  const child: ChildProcess = spawn(
    sbx.sshArgs(host, 'root')[0]!,
    [...sbx.sshArgs(host, 'root').slice(1), 'while :; do ps -eww -o args; sleep 0.02; done'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
  return {
    stop: () => {
      child.kill();
      return out;
    },
  };
}

const found = (text: string) => ALL.filter((value) => text.includes(value));

describe.sequential('secrets and environments on two hosts', () => {
  beforeAll(async () => {
    sbx = await startSandbox({ count: 2 });
    work = mkdtempSync(join(tmpdir(), 'svc-environments-'));
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
    // Inventory hosts are reached as ssh would reach them: the sandbox's key from ~/.ssh/config.
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(
      join(home, '.ssh', 'config'),
      Object.values(HOSTS)
        .map(
          (name) =>
            `Host ${sbx.host(name).address}\n  IdentityFile ${sbx.host(name).keyFile}\n  IdentitiesOnly yes\n`,
        )
        .join(''),
    );
    // The command's store, outside the project: production's DB_PASSWORD comes from here.
    const vault = join(work, 'vault');
    mkdirSync(join(vault, 'production'), { recursive: true });
    writeFileSync(join(vault, 'production', 'DB_PASSWORD'), `${VALUES.production.DB_PASSWORD}\n`);
    const group = (name: keyof typeof HOSTS, env: string) =>
      `  ${name}:\n${env}    hosts:\n      ${name}-1: { address: "${sbx.host(HOSTS[name]).address}", user: deploy }\n`;
    const yaml = join(project, 'svc.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(
        /^env: \{\}$/m,
        [
          'env: { LOG_LEVEL: info }',
          'secrets: [DB_PASSWORD, STRIPE_KEY]',
          `secretsCommand: cat ${vault}/{env}/{key}`,
          'hosts:',
          group('staging', '    env: { LOG_LEVEL: debug }\n') + group('production', ''),
        ].join('\n'),
      ),
    );
    mkdirSync(join(project, '.svc', 'secrets'), { recursive: true, mode: 0o700 });
    for (const [env, text] of [
      ['staging', `STRIPE_KEY=${VALUES.staging.STRIPE_KEY}\n`],
      ['production', `# the command has DB_PASSWORD\nSTRIPE_KEY=${VALUES.production.STRIPE_KEY}\n`],
    ] as const)
      writeFileSync(join(project, '.svc', 'secrets', env), text, { mode: 0o600 });
  }, 180_000);

  afterAll(async () => {
    await sbx?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('svc secrets names each source, never a value', async () => {
    const result = await svc(['secrets', 'staging,production'], {
      DB_PASSWORD__STAGING: VALUES.staging.DB_PASSWORD,
    });
    expect(result.code, result.stderr).toBe(0);
    // $DB_PASSWORD__STAGING is staging's alone: production goes on to its own sources.
    expect(result.stdout.split('\n').map((line) => line.replace(/ +/g, ' '))).toEqual([
      'ENVIRONMENT KEY SOURCE',
      'staging DB_PASSWORD environment ($DB_PASSWORD__STAGING)',
      'staging STRIPE_KEY file (.svc/secrets/staging)',
      'production DB_PASSWORD command (secretsCommand)',
      'production STRIPE_KEY file (.svc/secrets/production)',
      '',
    ]);
    // A run of one environment reads the plain $DB_PASSWORD too (after the qualified one).
    const staging = await svc(['secrets', 'staging'], { DB_PASSWORD: VALUES.staging.DB_PASSWORD });
    expect(staging.stdout).toMatch(/staging +DB_PASSWORD +environment \(\$DB_PASSWORD\)/);
  });

  it("a plain $DB_PASSWORD while staging and production are both deployed: one line, not production's value in staging", async () => {
    for (const args of [
      ['secrets', 'staging,production'],
      ['plan', 'staging,production'],
      ['deploy', 'staging,production', '--yes'],
    ]) {
      const result = await svc(args, { DB_PASSWORD: VALUES.production.DB_PASSWORD });
      const command = args[0];
      expect(result.stderr, command).toBe(
        'svc: error: secret DB_PASSWORD: $DB_PASSWORD is set, but this run deploys several environments (staging, production) and it would go to each; set DB_PASSWORD__STAGING, DB_PASSWORD__PRODUCTION instead and unset DB_PASSWORD\n',
      );
      expect(result.code, command).toBe(1);
      if (command === 'secrets')
        expect(result.stdout).toMatch(/^staging +DB_PASSWORD +not resolved \(below\)$/m);
    }
  });

  it('deploys each group with its own values; ps on the hosts never shows one', async () => {
    const watchers = Object.values(HOSTS).map(watchPs);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const staging = await svc(['deploy', 'staging', '--yes', '--json', '--accept-new'], {
      DB_PASSWORD: VALUES.staging.DB_PASSWORD,
    });
    expect(staging.code, staging.stdout + staging.stderr).toBe(0);
    const production = await svc(['deploy', 'production', '--yes', '--accept-new']);
    expect(production.code, production.stdout + production.stderr).toBe(0);
    const seen = watchers.map((watcher) => watcher.stop());
    // Each watcher saw its host's deploy: the login shell that says the script's pid lives as
    // long as the deploy does (a short-lived step such as the digest's `sh -s` can fall between
    // two samples on a busy machine).
    for (const [index, text] of seen.entries()) expect(text, `host ${index}`).toContain('svc-pid');
    const ps = seen.join('\n');
    expect(found(ps)).toEqual([]);
    for (const [group, level] of [
      ['staging', 'debug'],
      ['production', 'info'],
    ] as const) {
      const host = HOSTS[group];
      expect(root(sbx, host, 'curl -s http://127.0.0.1:3000/debug/env')).toBe(
        expectedHash(group, level),
      );
      expect(root(sbx, host, `stat -c '%U:%G %a' /etc/default/${NAME}`)).toBe('root:root 600\n');
    }
  }, 240_000);

  it('one run of both groups: each reads its own $DB_PASSWORD__ENV; the plan names every source', async () => {
    const both = await svc(['plan', 'staging,production', '--json'], {
      DB_PASSWORD__STAGING: VALUES.staging.DB_PASSWORD,
      DB_PASSWORD__PRODUCTION: unique('new-prod'),
    });
    expect(both.code, both.stderr).toBe(0);
    const plan = JSON.parse(both.stdout) as {
      hosts: {
        host: string;
        environment: unknown;
        changes: { target: string; sensitive?: boolean }[];
      }[];
    };
    const envFile = (index: number) =>
      plan.hosts[index]!.changes.filter((change) => change.target === `/etc/default/${NAME}`);
    // Staging's value is the one deployed: no change. Production's new one is production's only.
    expect(envFile(0)).toEqual([]);
    expect(envFile(1)).toMatchObject([{ sensitive: true }]);
    expect(plan.hosts.map((host) => host.environment)).toEqual([
      {
        name: 'staging',
        secrets: [
          { key: 'DB_PASSWORD', source: 'environment', from: '$DB_PASSWORD__STAGING' },
          { key: 'STRIPE_KEY', source: 'file', from: '.svc/secrets/staging' },
        ],
      },
      {
        name: 'production',
        secrets: [
          { key: 'DB_PASSWORD', source: 'environment', from: '$DB_PASSWORD__PRODUCTION' },
          { key: 'STRIPE_KEY', source: 'file', from: '.svc/secrets/production' },
        ],
      },
    ]);
    const text = await svc(['plan', 'staging,production'], {
      DB_PASSWORD__STAGING: VALUES.staging.DB_PASSWORD,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      '  secrets (staging): DB_PASSWORD from $DB_PASSWORD__STAGING, STRIPE_KEY from .svc/secrets/staging\n',
    );
    expect(text.stdout).toContain(
      '  secrets (production): DB_PASSWORD from secretsCommand, STRIPE_KEY from .svc/secrets/production\n',
    );
  }, 120_000);

  it('a redeploy with the same secrets changes nothing; a changed secret is "(sensitive value changed)"', async () => {
    const same = await svc(['plan', 'production']);
    expect(same.stdout).not.toContain('/etc/default');
    expect(same.stdout).not.toContain('sensitive');
    const changed = await svc(['plan', 'production', '--json'], {
      STRIPE_KEY: unique('other'),
    });
    const plan = JSON.parse(changed.stdout) as {
      hosts: { changes: { target: string; sensitive?: boolean }[] }[];
    };
    expect(plan.hosts[0]!.changes.find((c) => c.target === `/etc/default/${NAME}`)).toMatchObject({
      sensitive: true,
    });
    const text = await svc(['plan', 'production'], { STRIPE_KEY: unique('other') });
    expect(text.stdout).toContain('(sensitive value changed)');
  }, 120_000);

  it('no value in what git tracks or its history, in anything svc printed, or on the hosts but in the env file', () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', project, ...args], { encoding: 'latin1', maxBuffer: 64 << 20 });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'project');
    const tracked = git('ls-files').split('\n').filter(Boolean);
    expect(tracked).toContain('svc.yaml');
    // svc new's record of what it generated (.svc/scaffold/, for svc update) is tracked, and is
    // read for values below like every tracked file; nothing else under .svc/ is.
    expect(tracked.some((path) => path.startsWith('.svc/scaffold/'))).toBe(true);
    expect(
      tracked.filter((path) => path.startsWith('.svc') && !path.startsWith('.svc/scaffold/')),
    ).toEqual([]);
    const history = git('log', '-p', '--all') + git('rev-list', '--all', '--objects');
    const blobs = tracked.map((path) => readFileSync(join(project, path), 'latin1')).join('\n');
    expect(found(history + blobs)).toEqual([]);
    for (const { command, result } of printed) {
      expect(found(result.stdout), command).toEqual([]);
      expect(found(result.stderr), command).toEqual([]);
    }
    for (const host of Object.values(HOSTS)) {
      const elsewhere = root(
        sbx,
        host,
        `grep -rlsF ${ALL.map((value) => `-e '${value}'`).join(' ')} /etc /var/www /var/log /var/db /var/lib/svc /var/tmp /tmp /home /root /run 2>/dev/null | grep -v -e '^/etc/default/${NAME}$' -e '^/run/svc-sandbox/' || true`,
      );
      expect(elsewhere).toBe('');
    }
  });

  it('a secrets file git tracks is refused in one line before any host is contacted; untracked, it is used', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-C', project, ...args]);
    const env = { DB_PASSWORD: VALUES.staging.DB_PASSWORD };
    git('add', '-f', '.svc/secrets/staging');
    const refused = await svc(['plan', 'staging'], env);
    expect(refused.stderr).toBe(
      'svc: error: .svc/secrets/staging: git tracks it, so its values are in the repository; run git rm --cached .svc/secrets/staging, then change those values\n',
    );
    expect(refused.stdout).toBe('');
    expect(refused.code).toBe(1);
    git('rm', '-q', '--cached', '.svc/secrets/staging');
    const planned = await svc(['plan', 'staging'], env);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('STRIPE_KEY from .svc/secrets/staging');
  }, 120_000);
});

describe('refusals before any connection', () => {
  // Two listeners (production's web1, and a port for a second group): each counts a connection.
  const servers: Server[] = [];
  let connections = 0;
  let dir: string;
  let home: string;
  let port = 0;
  let otherPort = 0;

  beforeAll(async () => {
    const listen = async () => {
      const server = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    };
    port = await listen();
    otherPort = await listen();
    dir = mkdtempSync(join(tmpdir(), 'svc-refusals-'));
    home = join(dir, 'home');
    const project = join(dir, NAME);
    // A key to offer: without one svc would stop before connecting for that reason alone.
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      join(home, '.ssh', 'id_ed25519'),
    ]);
    execFileSync(
      SVC,
      ['new', NAME, '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
      {
        env: { ...process.env, CI: '1', HOME: home },
      },
    );
    const yaml = join(project, 'svc.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(
        /^env: \{\}$/m,
        `env: {}\nsecrets: [DB_PASSWORD]\nhosts:\n  production:\n    hosts:\n      web1: { address: 127.0.0.1, port: ${port} }\n`,
      ),
    );
  }, 60_000);

  afterAll(() => {
    for (const server of servers) server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const plan = (env: NodeJS.ProcessEnv = {}, target = 'production') =>
    runSvc(['plan', target, '--dir', join(dir, NAME)], {
      ...process.env,
      HOME: home,
      ...env,
    });
  const setYaml = (from: RegExp, to: string) => {
    const yaml = join(dir, NAME, 'svc.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(from, to));
  };

  it('a missing secret: one line naming the key and where svc looked', async () => {
    const result = await plan();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "svc: error: secret DB_PASSWORD (production): not found: not in svc's environment ($DB_PASSWORD__PRODUCTION or $DB_PASSWORD), no file .svc/secrets/production, no secretsCommand in svc.yaml\n",
    );
    expect(connections).toBe(0);
  });

  it('a secrets file others can read: one line, as OpenSSH refuses a key file', async () => {
    const file = join(dir, NAME, '.svc', 'secrets', 'production');
    mkdirSync(join(dir, NAME, '.svc', 'secrets'), { recursive: true });
    writeFileSync(file, 'DB_PASSWORD=x\n');
    chmodSync(file, 0o644);
    const result = await plan();
    expect(result.stderr).toBe(
      'svc: error: .svc/secrets/production: permissions 0644 are too open (others may read it); run chmod 600 .svc/secrets/production\n',
    );
    expect(result.code).toBe(1);
    chmodSync(file, 0o600);
    rmSync(file);
    expect(connections).toBe(0);
  });

  it('a failing secrets command: one line with its exit status, never its output', async () => {
    setYaml(
      /^secrets: \[DB_PASSWORD\]$/m,
      "secrets: [DB_PASSWORD]\nsecretsCommand: sh -c 'echo printed-value; exit 3'",
    );
    const result = await plan();
    expect(result.stderr).toBe(
      'svc: error: secret DB_PASSWORD (production): secretsCommand exited with status 3\n',
    );
    expect(result.stdout + result.stderr).not.toContain('printed-value');
    expect(result.code).toBe(1);
    expect(connections).toBe(0);
  });

  it('a plain $DB_PASSWORD for a run of two environments: one line naming $DB_PASSWORD__ENV', async () => {
    const yaml = readFileSync(join(dir, NAME, 'svc.yaml'), 'utf8');
    setYaml(
      /^hosts:\n/m,
      `hosts:\n  staging:\n    hosts:\n      stg1: { address: 127.0.0.1, port: ${otherPort} }\n`,
    );
    const result = await plan({ DB_PASSWORD: 'plain-value' }, 'staging,production');
    expect(result.stderr).toBe(
      'svc: error: secret DB_PASSWORD: $DB_PASSWORD is set, but this run deploys several environments (staging, production) and it would go to each; set DB_PASSWORD__STAGING, DB_PASSWORD__PRODUCTION instead and unset DB_PASSWORD\n',
    );
    expect(result.code).toBe(1);
    expect(connections).toBe(0);
    writeFileSync(join(dir, NAME, 'svc.yaml'), yaml);
  });

  it('one machine under two groups (an ~/.ssh/config alias of it in one): one line naming both', async () => {
    const yaml = readFileSync(join(dir, NAME, 'svc.yaml'), 'utf8');
    const config = join(dir, 'ssh_config');
    writeFileSync(config, `Host web-alias\n  HostName 127.0.0.1\n  Port ${port}\n`);
    setYaml(/^hosts:\n/m, `hosts:\n  staging:\n    hosts:\n      stg1: { address: web-alias }\n`);
    for (const target of ['production', 'staging']) {
      const result = await plan({ DB_PASSWORD: 'x', SVC_SSH_CONFIG: config }, target);
      expect(result.stderr, target).toBe(
        `svc: error: svc.yaml: hosts: stg1 (group staging) and web1 (group production) are one machine, 127.0.0.1:${port}; it would get staging's and production's environment in turn: list it in one group only\n`,
      );
      expect(result.code).toBe(1);
    }
    expect(connections).toBe(0);
    writeFileSync(join(dir, NAME, 'svc.yaml'), yaml);
  });

  it('a secrets file git tracks: one line naming it and git rm --cached', async () => {
    const project = join(dir, NAME);
    mkdirSync(join(project, '.svc', 'secrets'), { recursive: true });
    writeFileSync(join(project, '.svc', 'secrets', 'production'), 'DB_PASSWORD=x\n', {
      mode: 0o600,
    });
    execFileSync('git', ['-C', project, 'init', '-q']);
    execFileSync('git', ['-C', project, 'add', '-f', '.svc/secrets/production']);
    const result = await plan();
    expect(result.stderr).toBe(
      'svc: error: .svc/secrets/production: git tracks it, so its values are in the repository; run git rm --cached .svc/secrets/production, then change those values\n',
    );
    expect(result.code).toBe(1);
    expect(connections).toBe(0);
    rmSync(join(project, '.git'), { recursive: true, force: true });
    rmSync(join(project, '.svc', 'secrets', 'production'));
  });

  it('the listener does count a connection (the checks above can fail)', async () => {
    setYaml(/^secretsCommand: .*$/m, 'secretsCommand: echo from-command');
    const result = await plan({ SVC_SSH_CONFIG: 'none' });
    expect(connections, result.stdout + result.stderr).toBeGreaterThan(0);
  });
});
