// Issue 15, review finding 2, against OpenSSH itself: one machine listed under two inventory
// groups (staging, production) is refused in a project with secrets:, whatever the TARGET, and
// "one machine" is what ssh would connect to. For each ssh_config below, the real `ssh -G -F FILE
// [-p PORT] ADDRESS` resolves both inventory hosts (HostName, Port), and the real bin/svc
// (`svc secrets production`, SVC_SSH_CONFIG=FILE, which connects to nothing) must refuse exactly
// when ssh names one hostname:port for both. OpenSSH's answers are never written down here.
// Hostnames are compared without case, as DNS compares them (and svc shows them in lower case).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, SVC } from '../helpers/sandbox.js';

const NAME = 'api-orders';
interface Host {
  address: string;
  port?: number;
}
interface Case {
  name: string;
  config: string;
  staging: Host;
  production: Host;
}

const CASES: Case[] = [
  {
    name: 'two aliases of one HostName',
    config: 'Host stg\n  HostName 10.0.0.5\nHost prod\n  HostName 10.0.0.5\n',
    staging: { address: 'stg' },
    production: { address: 'prod' },
  },
  {
    name: 'two aliases of one HostName, other Ports',
    config: 'Host stg\n  HostName 10.0.0.5\n  Port 2222\nHost prod\n  HostName 10.0.0.5\n',
    staging: { address: 'stg' },
    production: { address: 'prod' },
  },
  {
    name: 'an alias and its HostName',
    config: 'Host stg\n  HostName 10.0.0.5\n',
    staging: { address: 'stg' },
    production: { address: '10.0.0.5' },
  },
  {
    name: 'HostName with %h',
    config: 'Host *.lan\n  HostName %h.example.com\n',
    staging: { address: 'db.lan' },
    production: { address: 'db.lan.example.com' },
  },
  {
    name: 'HostName in capitals',
    config: 'Host cap\n  HostName Real.EXAMPLE.com\n',
    staging: { address: 'cap' },
    production: { address: 'real.example.com' },
  },
  {
    name: 'Match host on the HostName sets the Port of both',
    config:
      'Host stg\n  HostName 10.0.0.9\nHost prod\n  HostName 10.0.0.9\nMatch host 10.0.0.9\n  Port 2200\n',
    staging: { address: 'stg' },
    production: { address: 'prod' },
  },
  {
    name: 'Match host sets the Port, an inventory port: is given as -p',
    config:
      'Host stg\n  HostName 10.0.0.9\nHost prod\n  HostName 10.0.0.9\nMatch host 10.0.0.9\n  Port 2200\n',
    staging: { address: 'stg' },
    production: { address: 'prod', port: 22 },
  },
  {
    name: 'the first Port wins: one from its Host block, one from Host *',
    config:
      'Host stg\n  HostName h.example\n  Port 2201\nHost prod\n  HostName h.example\nHost *\n  Port 2201\n',
    staging: { address: 'stg' },
    production: { address: 'prod' },
  },
  {
    name: "an inventory port: equal to the alias's Port",
    config: 'Host stg\n  HostName 10.0.0.5\n  Port 2222\n',
    staging: { address: 'stg' },
    production: { address: '10.0.0.5', port: 2222 },
  },
  {
    name: 'Match originalhost after HostName',
    config: 'Host short\n  HostName long.example.com\nMatch originalhost short\n  Port 2201\n',
    staging: { address: 'short' },
    production: { address: 'long.example.com', port: 2201 },
  },
  {
    name: 'two names, two machines',
    config: 'Host stg\n  HostName 10.0.0.5\nHost prod\n  HostName 10.0.0.6\n',
    staging: { address: 'stg' },
    production: { address: 'prod' },
  },
];

let work: string;
let project: string;
let yaml: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svc-one-machine-'));
  project = join(work, NAME);
  mkdirSync(join(work, 'home'));
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1', HOME: join(work, 'home') },
    },
  );
  yaml = readFileSync(join(project, 'svc.yaml'), 'utf8');
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What `ssh -G` says the host connects to: lower-case hostname and port. */
function sshEndpoint(config: string, host: Host): string {
  const args = ['-G', '-F', config, ...(host.port ? ['-p', String(host.port)] : []), host.address];
  const result = spawnSync('ssh', args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: join(work, 'home') },
  });
  expect(result.status, result.stderr).toBe(0);
  const value = (key: string) =>
    result.stdout
      .split('\n')
      .find((line) => line.startsWith(`${key} `))!
      .slice(key.length + 1);
  return `${value('hostname').toLowerCase()}:${value('port')}`;
}

const inventoryHost = (name: string, host: Host) =>
  `      ${name}: { address: ${host.address}${host.port ? `, port: ${host.port}` : ''} }\n`;

describe('one machine under two groups, as ssh -G resolves it', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const config = join(work, 'ssh_config');
    writeFileSync(config, c.config);
    writeFileSync(
      join(project, 'svc.yaml'),
      yaml.replace(
        /^env: \{\}$/m,
        `env: {}\nsecrets: [DB_PASSWORD]\nhosts:\n  staging:\n    hosts:\n${inventoryHost('stg1', c.staging)}  production:\n    hosts:\n${inventoryHost('web1', c.production)}`,
      ),
    );
    const staging = sshEndpoint(config, c.staging);
    const production = sshEndpoint(config, c.production);
    const result = await runSvc(['secrets', 'production', '--dir', project], {
      ...process.env,
      HOME: join(work, 'home'),
      SVC_SSH_CONFIG: config,
      DB_PASSWORD: 'x',
    });
    if (staging === production) {
      expect(result.stderr).toBe(
        `svc: error: svc.yaml: hosts: stg1 (group staging) and web1 (group production) are one machine, ${staging}; it would get staging's and production's environment in turn: list it in one group only\n`,
      );
      expect(result.code).toBe(1);
    } else {
      expect(result.stderr, `${staging} / ${production}`).toBe('');
      expect(result.code).toBe(0);
    }
  });

  it('the cases above include both answers (the differential can fail either way)', () => {
    const same = CASES.filter((c) => {
      const config = join(work, `ssh_config-${CASES.indexOf(c)}`);
      writeFileSync(config, c.config);
      return sshEndpoint(config, c.staging) === sshEndpoint(config, c.production);
    });
    expect(same.length).toBeGreaterThan(2);
    expect(same.length).toBeLessThan(CASES.length - 2);
  });
});
