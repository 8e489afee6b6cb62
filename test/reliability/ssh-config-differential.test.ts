// svc resolves ssh_config as OpenSSH 9.2 does (issue 9, point 12, and the known_hosts files of
// point 11). Every config below is resolved by the real `ssh -G -F FILE` and by the real bin/svc
// (`svc hosts TARGET --json`, with HOME a scratch directory holding the same file as
// ~/.ssh/config), and both must say the same HostName, Port, User, ProxyJump, IdentityFile list
// (expanded: ssh -G prints IdentityFile unexpanded, so ssh itself expands each one, as the value
// of UserKnownHostsFile, which takes the same ~ and %-tokens), UserKnownHostsFile,
// GlobalKnownHostsFile (including the default /etc/ssh paths, which are only printed, never
// read or written), HostKeyAlias and IdentitiesOnly. OpenSSH's answers are never written down.
// ssh takes ~ from the passwd entry and svc from $HOME: both are shown as ~ before comparing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc } from '../helpers/sandbox.js';

interface Case {
  name: string;
  host: string;
  user?: string;
  port?: number;
  config: string;
  /** Other files under the case directory ({dir}), e.g. for Include or Match exec. */
  files?: Record<string, string>;
}

const ME = userInfo().username;
const SHORT = hostname().split('.')[0]!;

const CASES: Case[] = [
  { name: 'no config: the defaults', host: 'plain.example.com', config: '' },
  {
    name: 'an alias',
    host: 'web',
    config:
      'Host web\n  HostName 203.0.113.7\n  User deploy\n  Port 2222\n  IdentityFile ~/.ssh/id_web\n',
  },
  {
    name: 'Host is case-sensitive',
    host: 'foo',
    config: 'Host Foo\n  User upper\nHost foo\n  User lower\n',
  },
  { name: 'HostName with %h', host: 'db.lan', config: 'Host *.lan\n  HostName %h.example.com\n' },
  { name: 'HostName in capitals', host: 'cap', config: 'Host cap\n  HostName Real.EXAMPLE.com\n' },
  {
    name: 'a negated Host pattern (the target)',
    host: 'web',
    config: 'Host * !bastion\n  ProxyJump bastion\n  User ops\n',
  },
  {
    name: 'a negated Host pattern (the excluded host)',
    host: 'bastion',
    config: 'Host * !bastion\n  ProxyJump bastion\n  User ops\n',
  },
  {
    name: 'Match !host (the target)',
    host: 'web',
    config: 'Match !host bastion\n  ProxyJump bastion\n  User ops\n',
  },
  {
    name: 'Match !host (the excluded host)',
    host: 'bastion',
    config: 'Match !host bastion\n  ProxyJump bastion\n  User ops\n',
  },
  {
    name: 'Match originalhost after HostName',
    host: 'short',
    config: 'Host short\n  HostName long.example.com\nMatch originalhost short\n  Port 2201\n',
  },
  {
    name: 'Match host sees the HostName, not the alias',
    host: 'short',
    config:
      'Host short\n  HostName long.example.com\nMatch host short\n  Port 2201\nMatch host long.example.com\n  User fromhostname\n',
  },
  {
    name: 'Match user with the user of the target',
    host: 'box',
    user: 'alice',
    config: 'Match user alice\n  Port 2201\nMatch user bob\n  Port 2202\n',
  },
  {
    name: 'Match user sees a User set above it',
    host: 'box',
    config:
      'Host box\n  User carol\nMatch user !root,carol\n  Port 2203\nMatch user !carol\n  Port 2204\n',
  },
  {
    name: 'Match localuser',
    host: 'box',
    config: `Match localuser ${ME}\n  IdentityFile ~/.ssh/id_local\nMatch localuser !${ME}\n  Port 2205\n`,
  },
  {
    name: 'Match exec that succeeds',
    host: 'box',
    config: 'Match exec "test -e {dir}/flag"\n  Port 2206\n',
    files: { flag: '' },
  },
  {
    name: 'Match exec that fails, and negated',
    host: 'box',
    config:
      'Match exec "test -e {dir}/none"\n  Port 2207\nMatch !exec "test -e {dir}/none"\n  User negexec\n',
  },
  {
    name: 'Match exec with %-tokens',
    host: 'tok',
    config: 'Match exec "test %h = tok -a %n = tok -a %p = 22"\n  User tokens\n',
  },
  {
    name: 'Match final: a second pass',
    host: 'fin',
    config:
      'Host fin\n  HostName final.example.com\nMatch final host final.example.com\n  User finaluser\n',
  },
  {
    name: 'the final pass matches Host against the HostName',
    host: 'fin',
    config:
      'Host fin\n  HostName final.example.com\nHost final.example.com\n  Port 2208\nMatch final\n  IdentityFile ~/.ssh/id_final\n',
  },
  {
    name: 'Match canonical without canonicalization',
    host: 'can',
    config: 'Match canonical\n  User canonical\n',
  },
  {
    name: 'CanonicalizeHostname yes: Match canonical and a final pass',
    host: 'can',
    config:
      'Host can\n  HostName canon.example.com\n  CanonicalizeHostname yes\nMatch canonical\n  User canonical\nHost canon.example.com\n  Port 2209\n',
  },
  { name: 'Match all', host: 'any', config: 'Match all\n  User everyone\n' },
  { name: 'Match !all', host: 'any', config: 'Match !all\n  User nobody-ever\n' },
  {
    name: 'the first value obtained wins',
    host: 'db',
    config: 'Host *\n  User first\n  Port 2210\nHost db\n  User second\n  Port 2211\n',
  },
  {
    name: 'IdentityFile accumulates, once each',
    host: 'box',
    config:
      'Host box\n  IdentityFile ~/.ssh/a\n  IdentityFile ~/.ssh/b\nHost *\n  IdentityFile ~/.ssh/a\n  IdentityFile ~/.ssh/c\n',
  },
  {
    name: 'IdentityFile with %-tokens',
    host: 'tok',
    user: 'bob',
    port: 2022,
    config:
      'Host tok\n  HostName tok.example.com\n  HostKeyAlias tokalias\n  IdentityFile ~/k/%h-%p-%r-%u-%n-%l-%L-%i-%k-%%\n  IdentityFile ~/k/%C\n',
  },
  {
    name: 'UserKnownHostsFile: several, ~ and %-tokens',
    host: 'kh',
    config:
      'Host kh\n  HostName kh.example.com\n  UserKnownHostsFile ~/.ssh/kh-%h %d/kh2-%n-%p-%r {dir}/kh3\n',
  },
  { name: 'UserKnownHostsFile none', host: 'kh', config: 'Host kh\n  UserKnownHostsFile none\n' },
  {
    name: 'GlobalKnownHostsFile',
    host: 'kh',
    config: 'Host kh\n  GlobalKnownHostsFile {dir}/global1 {dir}/global2\n',
  },
  {
    name: 'HostKeyAlias and %k',
    host: 'ka',
    config:
      'Host ka\n  HostName 198.51.100.4\n  HostKeyAlias Pinned-Name\n  UserKnownHostsFile {dir}/kh-%k\n',
  },
  {
    name: 'Include with a glob, Host blocks inside',
    host: 'inc1',
    config: 'Include {dir}/conf.d/*.conf\nHost *\n  User fallback\n',
    files: {
      'conf.d/10-a.conf': 'Host inc1\n  HostName inc1.example.org\n  Port 2212\n',
      'conf.d/20-b.conf': 'Host inc1\n  User fromb\n',
    },
  },
  {
    name: 'Include inside a matching and a non-matching Host block',
    host: 'yes',
    config: 'Host yes\n  Include {dir}/a.conf\nHost no\n  Include {dir}/b.conf\n',
    files: { 'a.conf': 'Port 2213\n', 'b.conf': 'User fromb\n' },
  },
  {
    name: 'Include inside a Match block',
    host: 'm',
    config: 'Match originalhost m\n  Include {dir}/m.conf\n',
    files: { 'm.conf': 'User fromm\nHost m\n  Port 2214\n' },
  },
  {
    name: 'user@host:port win over User and Port, and fill %r %p',
    host: 'given',
    user: 'alice',
    port: 2300,
    config: 'Host given\n  User config\n  Port 2215\n  IdentityFile ~/.ssh/%r-%p\n',
  },
  {
    name: 'Keyword=value, quotes, capitals, comments',
    host: 'syn',
    config:
      'HOST syn\n  port=2216\n  IDENTITYFILE "{dir}/quoted"\n  User = eq # a comment\n  hostname\tsyn.example.com\n',
  },
  {
    name: 'ProxyJump none before a wildcard, and a chain',
    host: 'direct',
    config: 'Host direct\n  ProxyJump none\nHost *\n  ProxyJump a.example.com,b.example.com\n',
  },
  {
    name: 'ProxyJump chain',
    host: 'chained',
    config: 'Host *\n  ProxyJump user@a.example.com:2200,b.example.com\n',
  },
  {
    name: 'IdentitiesOnly and HostKeyAlias',
    host: 'io',
    config: 'Host io\n  IdentitiesOnly yes\n  HostKeyAlias io-alias\n  IdentityFile ~/.ssh/id_io\n',
  },
  {
    name: 'Match with several criteria, all needed',
    host: 'multi',
    user: 'dave',
    config:
      'Match originalhost multi user dave\n  Port 2217\nMatch originalhost multi user erin\n  User never\n',
  },
  {
    name: 'Match host with a pattern list',
    host: 'app3.prod',
    config: 'Match host *.prod,!app9.prod\n  User prod\n',
  },
];

const pwHome = userInfo().homedir;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svc-ssh-config-diff-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A path with its home directory shown as ~. */
function tilde(path: string, home: string): string {
  return path === home ? '~' : path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

function sshG(config: string, c: Case, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const args = ['-G', '-F', config, ...extra];
  if (c.user) args.push('-l', c.user);
  if (c.port) args.push('-p', String(c.port));
  const result = spawnSync('ssh', [...args, c.host], { encoding: 'utf8', env });
  expect(result.status, result.stderr).toBe(0);
  const lines = result.stdout.split('\n').map((line) => line.split(' '));
  const all = (key: string) =>
    lines.filter(([k]) => k === key).map(([, ...value]) => value.join(' '));
  return { all, one: (key: string) => all(key)[0] };
}

interface Resolved {
  hostName?: string;
  port?: string;
  user?: string;
  proxyJump?: string;
  identityFiles: string[];
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  identitiesOnly?: string;
}

function opensshSays(config: string, c: Case, env: NodeJS.ProcessEnv): Resolved {
  const g = sshG(config, c, env);
  const files = (value: string | undefined) =>
    (value ?? '').split(' ').filter((file) => file !== '' && file !== 'none');
  // ssh's own expansion of each IdentityFile: the same text as UserKnownHostsFile.
  const expanded = g
    .all('identityfile')
    .map((raw) =>
      tilde(
        sshG(config, c, env, ['-o', `UserKnownHostsFile=${raw}`]).one('userknownhostsfile')!,
        pwHome,
      ),
    );
  return {
    hostName: g.one('hostname'),
    port: g.one('port'),
    user: g.one('user'),
    proxyJump: g.one('proxyjump'),
    identityFiles: expanded,
    userKnownHostsFiles: files(g.one('userknownhostsfile')).map((file) => tilde(file, pwHome)),
    globalKnownHostsFiles: files(g.one('globalknownhostsfile')).map((file) => tilde(file, pwHome)),
    hostKeyAlias: g.one('hostkeyalias'),
    identitiesOnly: g.one('identitiesonly'),
  };
}

interface HostJson {
  address: string;
  port: number;
  user: string;
  proxyJump?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  hostKeys?: { userFiles: string[]; globalFiles: string[]; alias?: string };
}

async function svcSays(c: Case, home: string, env: NodeJS.ProcessEnv): Promise<Resolved> {
  const target = `${c.user ? `${c.user}@` : ''}${c.host}${c.port ? `:${c.port}` : ''}`;
  const result = await runSvc(['hosts', target, '--json'], env);
  if (result.code !== 0) return { hostName: `svc failed: ${result.stderr.trim()}` } as Resolved;
  const [spec] = JSON.parse(result.stdout) as HostJson[];
  return {
    hostName: spec!.address,
    port: String(spec!.port),
    user: spec!.user,
    proxyJump: spec!.proxyJump,
    identityFiles: spec!.identityFiles.map((file) => tilde(file, home)),
    userKnownHostsFiles: (spec!.hostKeys?.userFiles ?? []).map((file) => tilde(file, home)),
    globalKnownHostsFiles: spec!.hostKeys?.globalFiles ?? [],
    hostKeyAlias: spec!.hostKeys?.alias,
    identitiesOnly: spec!.identitiesOnly ? 'yes' : 'no',
  };
}

describe('ssh_config resolved as ssh -G resolves it', () => {
  it('has at least 30 configs', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(SHORT).not.toBe('');
  });

  it.each(CASES.map((c, index) => [c.name, c, index] as const))(
    '%s',
    async (_name, c, index) => {
      const dir = join(work, `case-${index}`);
      const home = join(dir, 'home');
      mkdirSync(join(home, '.ssh'), { recursive: true });
      for (const [name, text] of Object.entries(c.files ?? {})) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), text.replaceAll('{dir}', dir));
      }
      const config = join(home, '.ssh', 'config');
      writeFileSync(config, c.config.replaceAll('{dir}', dir));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: home,
        SVC_SANDBOX_DIR: join(dir, 'no-sandbox'),
      };
      const ssh = opensshSays(config, c, env);
      const svc = await svcSays(c, home, { ...env, PWD: dir });
      expect(svc).toEqual(ssh);
    },
    30_000,
  );
});
