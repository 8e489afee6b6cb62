// svc resolves ssh_config as OpenSSH 9.2 does (issue 9, point 12, and the known_hosts files of
// point 11). Every config below is resolved by the real `ssh -G -F FILE` and by the real bin/svc
// (`svc hosts TARGET --json`, with HOME a scratch directory holding the same file as
// ~/.ssh/config), and both must say the same HostName, Port, User, ProxyJump, IdentityFile list
// (expanded: ssh -G prints IdentityFile unexpanded, so ssh itself expands each one, as the value
// of UserKnownHostsFile, which takes the same ~ and %-tokens), UserKnownHostsFile,
// GlobalKnownHostsFile (including the default /etc/ssh paths, which are only printed, never
// read or written), HostKeyAlias, IdentitiesOnly, RevokedHostKeys, HashKnownHosts,
// HostKeyAlgorithms (svc's expansion of its value) and IdentityAgent; a config ssh refuses, svc must
// refuse naming the same line. OpenSSH's answers are never written down. svc gets the file as
// SVC_SSH_CONFIG, which is ssh's -F (that file only). The SYSTEM_CASES run both tools without -F,
// each in a private mount namespace where a scratch directory is bind-mounted over /etc/ssh and
// another over ~/.ssh of the passwd home (which ssh uses; svc is given it as $HOME): the machine's
// own files are never read or written.
// ssh takes ~ from the passwd entry and svc from $HOME: both are shown as ~ before comparing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredHostKeyAlgorithms } from '../../src/core/host-key-algorithms.js';
import { runSvc, SVC } from '../helpers/sandbox.js';

interface Case {
  name: string;
  host: string;
  user?: string;
  port?: number;
  config: string;
  /** Other files under the case directory ({dir}), e.g. for Include or Match exec. */
  files?: Record<string, string>;
  /** SYSTEM_CASES: the files of /etc/ssh (ssh_config, ssh_config.d/...). */
  system?: Record<string, string>;
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
  // Review findings: keywords ssh refuses, and the host-key options compared.
  { name: 'an unknown keyword', host: 'x', config: 'Host x\n  Frobnicate yes\n' },
  {
    name: 'a misspelt keyword in a block that does not match',
    host: 'x',
    config: 'Host other\n  HostNmae other.example.com\nHost x\n  User fine\n',
  },
  {
    name: 'IgnoreUnknown before the unknown keyword',
    host: 'x',
    config: 'IgnoreUnknown frob*,Other\nHost x\n  Frobnicate yes\n  User ignored-ok\n',
  },
  {
    name: 'IgnoreUnknown after the unknown keyword',
    host: 'x',
    config: 'Frobnicate yes\nIgnoreUnknown frob*\n',
  },
  {
    name: 'IgnoreUnknown in a block that does not match',
    host: 'x',
    config: 'Host other\n  IgnoreUnknown frob*\nHost *\n  Frobnicate yes\n',
  },
  { name: 'HostName ""', host: 'x', config: 'Host x\n  HostName ""\n' },
  { name: 'User "" where no block matches', host: 'x', config: 'Host other\n  User ""\n' },
  {
    name: 'RevokedHostKeys none wins over a later file',
    host: 'x',
    config: 'Host x\n  RevokedHostKeys none\nHost *\n  RevokedHostKeys ~/revoked\n',
  },
  {
    name: 'RevokedHostKeys with ~ and %-tokens',
    host: 'x',
    config: 'Host x\n  RevokedHostKeys ~/revoked-%h\n',
  },
  {
    name: 'HashKnownHosts and IdentityAgent',
    host: 'x',
    config: 'Host x\n  HashKnownHosts yes\n  IdentityAgent ~/agent-%h.sock\n',
  },
  { name: 'IdentityAgent none', host: 'x', config: 'Host x\n  IdentityAgent none\n' },
  {
    name: 'HostKeyAlgorithms +ssh-rsa',
    host: 'x',
    config: 'Host x\n  HostKeyAlgorithms +ssh-rsa\n',
  },
  {
    name: 'HostKeyAlgorithms ^ and - with a wildcard',
    host: 'x',
    config: 'Host x\n  HostKeyAlgorithms ^rsa-sha2-256\nHost *\n  HostKeyAlgorithms -ecdsa*\n',
  },
  {
    name: 'HostKeyAlgorithms - with a wildcard',
    host: 'x',
    config: 'Host x\n  HostKeyAlgorithms -ecdsa*,ssh-ed25519\n',
  },
  {
    name: 'ProxyCommand none, then ProxyJump',
    host: 'x',
    config: 'Host x\n  ProxyCommand none\nHost *\n  ProxyJump jump.example.com\n',
  },
];

/**
 * ssh without -F: the user's file, then /etc/ssh/ssh_config. `config` is ~/.ssh/config (of the
 * passwd home, in the namespace); `system` the files of /etc/ssh.
 */
const SYSTEM_CASES: Case[] = [
  {
    name: 'system file: read after the user file, the first value wins',
    host: 'sys',
    config: 'Host sys\n  User fromuser\n',
    system: { ssh_config: 'Host sys\n  User fromsystem\n  Port 2301\n' },
  },
  {
    name: "system file: Debian's Include of ssh_config.d/*.conf, relative to /etc/ssh",
    host: 'sys',
    config: '',
    system: {
      ssh_config: 'Include ssh_config.d/*.conf\nHost *\n  HashKnownHosts yes\n',
      'ssh_config.d/10-a.conf': 'Host sys\n  HostName sys.example.com\n  Port 2302\n',
    },
  },
  {
    name: 'system file: RevokedHostKeys, GlobalKnownHostsFile, HostKeyAlgorithms',
    host: 'sys',
    config: 'Host *\n  GlobalKnownHostsFile ~/.ssh/global-user\n',
    system: {
      ssh_config:
        'Host *\n  RevokedHostKeys /etc/ssh/revoked_keys\n  GlobalKnownHostsFile /etc/ssh/g1\n  HostKeyAlgorithms -ssh-ed25519\n  IdentityAgent none\n',
    },
  },
  {
    name: 'system file: Match and Host blocks',
    host: 'sys',
    config: '',
    system: {
      ssh_config:
        'Match originalhost sys\n  HostName real.example.com\nHost real.example.com\n  User never\nMatch host real.example.com\n  Port 2303\n',
    },
  },
  {
    name: 'system file: an unknown keyword there',
    host: 'sys',
    config: 'Host sys\n  User fromuser\n',
    system: { ssh_config: 'Host *\n  Frobnicate yes\n' },
  },
  {
    name: 'system file: IgnoreUnknown in the user file covers it',
    host: 'sys',
    config: 'IgnoreUnknown Frobnicate\n',
    system: { ssh_config: 'Host *\n  Frobnicate yes\n' },
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

/** How each tool is run: with -F (SVC_SSH_CONFIG), or in a namespace without it. */
interface Runner {
  /** The command line for ssh or svc (argv), with its environment. */
  wrap(argv: string[]): string[];
  config?: string;
}

/** The line number a refusal names (ssh: "FILE line N:" / "FILE: line N:"; svc: "FILE:N:"). */
function refusedAt(stderr: string, tool: 'ssh' | 'svc'): Resolved {
  const line = tool === 'ssh' ? /line (\d+)/.exec(stderr) : /:(\d+):/.exec(stderr);
  return { refused: line ? `line ${line[1]}` : `no line in: ${stderr.trim()}` } as Resolved;
}

function sshG(
  run: Runner,
  c: Case,
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
): { refused?: string; all: (key: string) => string[]; one: (key: string) => string | undefined } {
  const args = ['-G', ...(run.config ? ['-F', run.config] : []), ...extra];
  if (c.user) args.push('-l', c.user);
  if (c.port) args.push('-p', String(c.port));
  const [command, ...rest] = run.wrap(['ssh', ...args, c.host]);
  const result = spawnSync(command!, rest, { encoding: 'utf8', env });
  if (result.status !== 0) {
    const refused = refusedAt(result.stderr, 'ssh').refused;
    return { refused, all: () => [], one: () => undefined };
  }
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
  revokedHostKeys?: string;
  hashKnownHosts?: string;
  hostKeyAlgorithms?: string;
  identityAgent?: string;
  refused?: string;
}

function opensshSays(run: Runner, c: Case, env: NodeJS.ProcessEnv): Resolved {
  const g = sshG(run, c, env);
  if (g.refused !== undefined) return { refused: g.refused } as Resolved;
  const files = (value: string | undefined) =>
    (value ?? '').split(' ').filter((file) => file !== '' && file !== 'none');
  // ssh's own expansion of a path it prints unexpanded: the same text as UserKnownHostsFile.
  const expand = (raw: string) =>
    tilde(
      sshG(run, c, env, ['-o', `UserKnownHostsFile=${raw}`]).one('userknownhostsfile')!,
      pwHome,
    );
  const expanded = g.all('identityfile').map(expand);
  const revoked = g.one('revokedhostkeys');
  const agent = g.one('identityagent');
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
    revokedHostKeys: revoked === undefined ? undefined : expand(revoked),
    hashKnownHosts: g.one('hashknownhosts'),
    hostKeyAlgorithms: g.one('hostkeyalgorithms'),
    identityAgent: agent === undefined ? undefined : tilde(agent, pwHome),
  };
}

interface HostJson {
  address: string;
  port: number;
  user: string;
  proxyJump?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  hostKeys?: {
    userFiles: string[];
    globalFiles: string[];
    alias?: string;
    hash: boolean;
    revokedFile?: string;
    algorithms?: string;
  };
}

async function svcSays(
  run: Runner,
  c: Case,
  home: string,
  env: NodeJS.ProcessEnv,
): Promise<Resolved> {
  const target = `${c.user ? `${c.user}@` : ''}${c.host}${c.port ? `:${c.port}` : ''}`;
  const svcEnv = run.config ? { ...env, SVC_SSH_CONFIG: run.config } : env;
  const [command, ...rest] = run.wrap([SVC, 'hosts', target, '--json']);
  const result =
    command === SVC
      ? await runSvc(rest, svcEnv)
      : spawnSync(command!, rest, {
          encoding: 'utf8',
          env: { ...svcEnv, NO_COLOR: '1', SVC_DEBUG: '' },
        });
  const code = 'code' in result ? result.code : result.status;
  if (code !== 0) return refusedAt(result.stderr, 'svc');
  const [spec] = JSON.parse(result.stdout) as HostJson[];
  return {
    hostName: spec!.address,
    port: String(spec!.port),
    user: spec!.user,
    proxyJump: spec!.proxyJump,
    identityFiles: spec!.identityFiles.map((file) => tilde(file, home)),
    userKnownHostsFiles: (spec!.hostKeys?.userFiles ?? []).map((file) => tilde(file, home)),
    globalKnownHostsFiles: (spec!.hostKeys?.globalFiles ?? []).map((file) => tilde(file, home)),
    hostKeyAlias: spec!.hostKeys?.alias,
    identitiesOnly: spec!.identitiesOnly ? 'yes' : 'no',
    revokedHostKeys:
      spec!.hostKeys?.revokedFile === undefined
        ? undefined
        : tilde(spec!.hostKeys.revokedFile, home),
    hashKnownHosts: spec!.hostKeys?.hash ? 'yes' : 'no',
    // svc's own expansion of HostKeyAlgorithms (before it is narrowed to what ssh2 has).
    hostKeyAlgorithms: configuredHostKeyAlgorithms(spec!.hostKeys?.algorithms).join(','),
    identityAgent: spec!.identityAgent === undefined ? undefined : tilde(spec!.identityAgent, home),
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
      const run: Runner = { wrap: (argv) => argv, config };
      const ssh = opensshSays(run, c, env);
      const svc = await svcSays(run, c, home, { ...env, PWD: dir });
      expect(svc).toEqual(ssh);
    },
    30_000,
  );
});

describe('without -F: ~/.ssh/config, then /etc/ssh/ssh_config (in a private mount namespace)', () => {
  it.each(SYSTEM_CASES.map((c, index) => [c.name, c, index] as const))(
    '%s',
    async (_name, c, index) => {
      const dir = join(work, `system-${index}`);
      const etc = join(dir, 'etc-ssh');
      const dotSsh = join(dir, 'dot-ssh');
      mkdirSync(etc, { recursive: true });
      mkdirSync(dotSsh, { recursive: true });
      for (const [name, text] of Object.entries(c.system ?? {})) {
        mkdirSync(join(etc, name, '..'), { recursive: true });
        writeFileSync(join(etc, name), text);
      }
      writeFileSync(join(dotSsh, 'config'), c.config);
      // Both tools see the scratch directories at the real paths, and only inside unshare -m:
      // the mounts vanish with the namespace, and nothing is written to /etc or ~. The passwd
      // home gets an empty tmpfs first, so a machine without ~/.ssh (a fresh CI box) runs alike.
      const mounts = `mount --bind "$1" /etc/ssh && mount -t tmpfs svc-home ${pwHome} && mkdir -m 0700 ${pwHome}/.ssh && mount --bind "$2" ${pwHome}/.ssh && shift 2 && exec "$@"`;
      const run: Runner = {
        wrap: (argv) => ['unshare', '-m', 'sh', '-c', mounts, 'sh', etc, dotSsh, ...argv],
      };
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: pwHome,
        SVC_SANDBOX_DIR: join(dir, 'no-sandbox'),
      };
      delete env.SVC_SSH_CONFIG;
      // The namespace really shows the scratch files (else both tools would fail alike, and agree).
      const [command, ...rest] = run.wrap(['cat', '/etc/ssh/ssh_config', `${pwHome}/.ssh/config`]);
      const shown = spawnSync(command!, rest, { encoding: 'utf8' });
      expect(shown.stdout, shown.stderr).toBe(`${c.system?.ssh_config ?? ''}${c.config}`);
      const ssh = opensshSays(run, c, env);
      const svc = await svcSays(run, c, pwHome, { ...env, PWD: dir });
      expect(svc).toEqual(ssh);
    },
    30_000,
  );
});
