// `svc hosts` through the real bin/svc (run `npm run build` first), with HOME and the sandbox
// directory pointed at temporary ones so the real ~/.ssh and sandbox are never read.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

const SVC = new URL('../../bin/svc', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'svc-hosts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const me = userInfo().username;

let home = '';
let sandboxDir = '';
let cwd = '';
let counter = 0;

const SSH_CONFIG = `Host myalias
  HostName real.example.com
  User aliasuser
  Port 2022
  IdentityFile ~/.ssh/id_%h
  ProxyJump jump@bastion.example.com

Host 203.0.113.*
  IdentityFile ~/.ssh/id_web
`;

const SANDBOX = (dir: string) => ({
  version: 1,
  net: '10.231',
  knownHostsFile: join(dir, 'known_hosts'),
  hosts: [
    {
      name: 'sbx-1',
      kind: 'light',
      address: '10.231.1.1',
      port: 22,
      user: 'deploy',
      users: ['deploy', 'root'],
      keyFile: join(dir, 'id_ed25519'),
      netns: 'svc-sbx-1',
      pid: 4242,
      pids: [4242],
    },
  ],
});

const MANIFEST = `schema: 1
name: api-orders
description: Orders API
port: 3000
health: /ok
runtime: node
init: systemd
monit: true
user: api-orders
command: [/usr/bin/node, server.js]
stopTimeout: 30
env: {}
files: {}
generator: { svc: 0.1.0 }
hosts:
  web:
    vars: { region: eu }
    hosts:
      web1: { address: 203.0.113.10, user: deploy, vars: { weight: 2 } }
      web2: { address: web2.example.com, port: 2200 }
`;

beforeEach(() => {
  const dir = join(root, String(counter++));
  home = join(dir, 'home');
  sandboxDir = join(dir, 'sandbox');
  cwd = join(dir, 'project');
  for (const path of [join(home, '.ssh'), cwd]) mkdirSync(path, { recursive: true });
  mkdirSync(sandboxDir, { mode: 0o700 }); // as svc sandbox up makes it: svc trusts no other
  writeFileSync(join(home, '.ssh', 'config'), SSH_CONFIG);
  writeFileSync(join(sandboxDir, 'inventory.json'), JSON.stringify(SANDBOX(sandboxDir)));
});

function svc(args: string[]) {
  const result = spawnSync(SVC, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, SVC_SANDBOX_DIR: sandboxDir, NO_COLOR: '1', SVC_DEBUG: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('svc hosts', () => {
  it('lists the sandbox outside a project', () => {
    const key = join(sandboxDir, 'id_ed25519');
    expect(svc(['hosts'])).toEqual({
      code: 0,
      stdout: [
        `NAME   LOGIN                 VIA      ${'IDENTITY FILES'.padEnd(key.length)}  PROXY JUMP`,
        `sbx-1  deploy@10.231.1.1:22  sandbox  ${key}  -`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('shows what ~/.ssh/config makes of an alias, and a literal user@host:port', () => {
    const { code, stdout } = svc(['hosts', 'myalias,root@10.0.0.5:2222']);
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'NAME      LOGIN                            VIA         IDENTITY FILES              PROXY JUMP',
      'myalias   aliasuser@real.example.com:2022  ssh-config  ~/.ssh/id_real.example.com  jump@bastion.example.com',
      '10.0.0.5  root@10.0.0.5:2222               literal     -                           -',
      '',
    ]);
  });

  it('prints the inventory of svc.yaml as JSON, through ~/.ssh/config', () => {
    writeFileSync(join(cwd, 'svc.yaml'), MANIFEST);
    const { code, stdout, stderr } = svc(['hosts', 'web', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject([
      {
        name: 'web1',
        group: 'web',
        address: '203.0.113.10',
        port: 22,
        user: 'deploy',
        identityFiles: [join(home, '.ssh', 'id_web')],
        vars: { region: 'eu', weight: 2 },
        source: 'inventory',
      },
      {
        name: 'web2',
        group: 'web',
        address: 'web2.example.com',
        port: 2200,
        user: me,
        defaultIdentities: true,
        vars: { region: 'eu' },
        source: 'inventory',
      },
    ]);
  });

  it('without a TARGET lists every group', () => {
    writeFileSync(join(cwd, 'svc.yaml'), MANIFEST);
    const { code, stdout } = svc(['hosts']);
    expect(code).toBe(0);
    expect(stdout.split('\n').map((line) => line.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'NAME LOGIN VIA',
      'web1 deploy@203.0.113.10:22 inventory',
      `web2 ${me}@web2.example.com:2200 inventory`,
      'sbx-1 deploy@10.231.1.1:22 sandbox',
      '',
    ]);
  });

  it('says so when there are no hosts at all', () => {
    rmSync(join(sandboxDir, 'inventory.json'));
    expect(svc(['hosts'])).toEqual({
      code: 0,
      stdout: 'No hosts: add hosts: to svc.yaml, or start sandbox hosts with svc sandbox up.\n',
      stderr: '',
    });
    expect(svc(['hosts', '--json']).stdout).toBe('[]\n');
  });

  it.each([
    [['hosts', 'deploy@'], 'svc: error: target "deploy@": no host after the @\n'],
    [
      ['hosts', 'web1:0'],
      'svc: error: target "web1:0": port must be an integer between 1 and 65535 (got "0")\n',
    ],
    [
      ['hosts', 'sbx-7'],
      'svc: error: target "sbx-7": no sandbox host sbx-7 (the sandbox has sbx-1)\n',
    ],
  ])('refuses %j with one line', (args, stderr) => {
    expect(svc(args)).toEqual({ code: 1, stdout: '', stderr });
  });

  it('names the svc.yaml field that is wrong', () => {
    writeFileSync(join(cwd, 'svc.yaml'), MANIFEST.replace('port: 2200', 'port: 0'));
    expect(svc(['hosts', 'web'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'svc: error: svc.yaml: hosts.web.hosts.web2.port: must be an integer between 1 and 65535\n',
    });
  });

  it('names a broken sandbox inventory', () => {
    writeFileSync(join(sandboxDir, 'inventory.json'), '{"version": 1');
    expect(svc(['hosts', 'sandbox'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `svc: error: ${join(sandboxDir, 'inventory.json')}: not valid JSON\n`,
    });
  });
});
