// ~/.ssh/config through core/ssh-config.ts, checked against OpenSSH itself: for every host
// below, `ssh -G -F file host` must say the same HostName, User, Port and ProxyJump.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import { loadSshConfig } from '../../src/remote/ssh-config.js';

const root = mkdtempSync(join(tmpdir(), 'svc-ssh-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** Writes files under a fresh directory; `{dir}` in their text is that directory. */
function files(tree: Record<string, string>): string {
  const dir = join(root, String(counter++));
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text.replaceAll('{dir}', dir));
  }
  return dir;
}

const HOME = '/home/me';
const LOCAL = { home: HOME, localUser: 'me', localHost: 'laptop.local', env: {} };

const MAIN = `# global settings first: the first value obtained wins
Include {dir}/conf.d/*.conf

Host alias
  HostName 203.0.113.7
  User deploy
  Port 2222
  IdentityFile ~/.ssh/id_alias
  IdentityFile ~/.ssh/keys/%h_%p_%r_%n_%u_%d_%%
  ProxyJump jump@bastion.example.com:2200

Host *.internal !skip.internal
  User ops
  ProxyJump bastion.example.com

Host db.internal
  User dbadmin
  Port 5432

Host web?
  Port 2201

Host WEBX
  Port 2202

Host w* !web?
  User wuser

Host tpl-*
  HostName %h.example.net

Host cond
  Include {dir}/cond.conf
  User after-include

Host nojump
  ProxyJump none

Host *
  IdentityFile ~/.ssh/id_default
  ProxyJump fallback.example.com
`;

const TREE = {
  config: MAIN,
  'conf.d/10-first.conf': 'Host included\n  HostName included.example.org\n  User inc\n',
  'conf.d/20-second.conf': 'Host included2\n  Port 2020\n',
  'conf.d/.hidden.conf': 'Host included\n  User hidden\n',
  'cond.conf': 'Port 2300\nHost cond\n  User condy\nHost other-from-cond\n  User never\n',
};

describe('loadSshConfig agrees with ssh -G', () => {
  const dir = files(TREE);
  const lookup = loadSshConfig({ file: join(dir, 'config') });
  const localUser = userInfo().username;

  it.each([
    'alias',
    'a.internal',
    'db.internal',
    'skip.internal',
    'webx',
    'web',
    'webxy',
    'WEBX',
    'tpl-one',
    'cond',
    'other-from-cond',
    'included',
    'included2',
    'nojump',
    'unknown.example.com',
  ])('%s', (host) => {
    const ssh = spawnSync('ssh', ['-G', '-F', join(dir, 'config'), host], { encoding: 'utf8' });
    expect(ssh.status, ssh.stderr).toBe(0);
    const said = new Map(
      ssh.stdout
        .split('\n')
        .map((line) => line.split(' '))
        .map(([key, ...value]) => [key!, value.join(' ')]),
    );
    const entry = lookup(host);
    expect({
      hostname: entry.hostName,
      user: entry.user ?? localUser,
      port: String(entry.port ?? 22),
      proxyjump: entry.proxyJump,
    }).toEqual({
      hostname: said.get('hostname'),
      user: said.get('user'),
      port: said.get('port'),
      proxyjump: said.get('proxyjump'),
    });
  });
});

describe('loadSshConfig', () => {
  const dir = files(TREE);
  const lookup = loadSshConfig({ file: join(dir, 'config'), ...LOCAL });

  it('resolves an alias: HostName, User, Port, IdentityFile (accumulated), ProxyJump', () => {
    expect(lookup('alias')).toMatchObject({
      hostName: '203.0.113.7',
      user: 'deploy',
      port: 2222,
      identityFiles: [
        `${HOME}/.ssh/id_alias`,
        `${HOME}/.ssh/keys/203.0.113.7_2222_deploy_alias_me_${HOME}_%`,
        `${HOME}/.ssh/id_default`,
      ],
      proxyJump: 'jump@bastion.example.com:2200',
    });
  });

  it('expands %r and %p with the user and port given explicitly, which win', () => {
    const entry = lookup('alias', { user: 'root', port: 22 });
    expect(entry.identityFiles[1]).toBe(`${HOME}/.ssh/keys/203.0.113.7_22_root_alias_me_${HOME}_%`);
    // As with ssh -l: the user given is set before the config is read, so User is never obtained.
    expect(entry.user).toBeUndefined();
    expect(entry.port).toBeUndefined();
  });

  it('takes the first value obtained for each setting (wildcards before the specific block)', () => {
    expect(lookup('db.internal')).toMatchObject({
      hostName: 'db.internal',
      user: 'ops',
      port: 5432,
      identityFiles: [`${HOME}/.ssh/id_default`],
      proxyJump: 'bastion.example.com',
    });
    expect(lookup('skip.internal').user).toBeUndefined();
  });

  it('matches ? as exactly one character, case-sensitively, and lower-cases the host name', () => {
    expect(lookup('webx').port).toBe(2201);
    expect(lookup('web').port).toBeUndefined();
    expect(lookup('WEBX')).toMatchObject({ hostName: 'webx', port: 2202 });
    expect(lookup('web').user).toBe('wuser');
    expect(lookup('webx').user).toBeUndefined();
  });

  it('expands %h in HostName', () => {
    expect(lookup('tpl-one').hostName).toBe('tpl-one.example.net');
  });

  it('follows Include, with wildcards (no dot files), and inside a Host block only when it matches', () => {
    expect(lookup('included')).toMatchObject({ hostName: 'included.example.org', user: 'inc' });
    expect(lookup('included2').port).toBe(2020);
    expect(lookup('cond')).toMatchObject({ port: 2300, user: 'condy' });
    expect(lookup('other-from-cond').user).toBeUndefined();
  });

  it('takes ProxyJump none as no jump host', () => {
    expect(lookup('nojump').proxyJump).toBeUndefined();
    expect(lookup('elsewhere').proxyJump).toBe('fallback.example.com');
  });

  it('resolves a relative Include under ~/.ssh, and ~ in IdentityFile to the home given', () => {
    const home = files({
      '.ssh/config': 'Include config.d/*\nHost *\n  IdentityFile ~/.ssh/id_%L\n',
      '.ssh/config.d/a': 'Host box\n  HostName box.example.com\n',
    });
    const entry = loadSshConfig({ ...LOCAL, home })('box');
    expect(entry).toMatchObject({
      hostName: 'box.example.com',
      identityFiles: [`${home}/.ssh/id_laptop`],
    });
    expect(entry.user).toBeUndefined();
  });

  it('expands ${VAR} in IdentityFile from the environment given', () => {
    const dir = files({ config: 'Host *\n  IdentityFile ${KEYS}/%h\n' });
    const file = join(dir, 'config');
    expect(loadSshConfig({ ...LOCAL, file, env: { KEYS: '/keys' } })('h1').identityFiles).toEqual([
      '/keys/h1',
    ]);
    expect(() => loadSshConfig({ ...LOCAL, file })('h1')).toThrow(
      `${file}:2: IdentityFile \${KEYS}/%h (for h1): environment variable KEYS is not set`,
    );
  });

  it('takes a missing file as an empty config', () => {
    const entry = loadSshConfig({ ...LOCAL, file: join(root, 'nope') })('Host.Example');
    expect(entry).toMatchObject({ hostName: 'host.example', identityFilesConfigured: false });
    // OpenSSH's default identity files and known_hosts files.
    expect(entry.identityFiles[0]).toBe(`${HOME}/.ssh/id_rsa`);
    expect(entry.hostKeys?.userFiles).toEqual([
      `${HOME}/.ssh/known_hosts`,
      `${HOME}/.ssh/known_hosts2`,
    ]);
  });

  it.each([
    [
      'Host *\n  IdentityFile ~/.ssh/%z\n',
      ':2: IdentityFile ~/.ssh/%z (for h1): unknown or unsupported token %z',
    ],
    [
      'Host *\n  IdentityFile ~/.ssh/id\n  UserKnownHostsFile ~/kh ~no-such-user-svc/kh\n',
      ':3: UserKnownHostsFile ~no-such-user-svc/kh (for h1): ~no-such-user-svc: no such user in the passwd database',
    ],
    [
      'Host *\n  Port no-such-service\n',
      ':2: Port no-such-service is not a port number or tcp service name',
    ],
    ['Host *\n  Port 70000\n', ':2: Port 70000 is not a port number or tcp service name'],
    ['Host other\n  Port 0\n', ':2: Port 0 is not a port number or tcp service name'],
    ['Host\n', ':1: Host needs a pattern (ssh refuses an empty one)'],
    [
      'Host other\n  ProxyJump ssh://u@h/path\n',
      ':2: ProxyJump ssh://u@h/path is not a valid ssh:// URI (a path is not allowed), as ssh says',
    ],
    ['Host "unclosed\n', ':1: unterminated quote'],
    ['Include {dir}/config\n', ':1: Include nested too deeply'],
    ['Match user\n', ':1: Match user needs a value'],
    ['Match all host x\n', ':1: Match all cannot be combined with other attributes'],
    ['Match color red\n', ':1: unsupported Match attribute color'],
    [
      'Host other\n  HostNmae x\n',
      ':2: Bad configuration option hostnmae (ssh refuses it too; IgnoreUnknown lists keywords to skip)',
    ],
    [
      'Frobnicate yes\nIgnoreUnknown frob*\n',
      ':1: Bad configuration option frobnicate (ssh refuses it too; IgnoreUnknown lists keywords to skip)',
    ],
    ['Host *\n  HostName ""\n', ':2: hostname needs a value'],
    ['Host other\n  User ""\n', ':2: user needs a value'],
    [
      'Host *\n  ProxyCommand nc %h %p\n',
      ':2: ProxyCommand is set for h1, and svc does not support ProxyCommand (ProxyJump it does): refusing rather than connect another way',
    ],
    [
      'Host *\n  KnownHostsCommand /bin/true\n',
      ':2: KnownHostsCommand is set for h1, and svc does not support KnownHostsCommand: refusing rather than connect another way',
    ],
  ])('refuses %j naming the file and line', (text, message) => {
    const file = join(files({ config: text }), 'config');
    let error: unknown;
    try {
      loadSshConfig({ ...LOCAL, file })('h1');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SvcError);
    expect((error as Error).message).toBe(`${file}${message}`);
  });
});

describe('loadSshConfig: the rest of what ssh reads', () => {
  it('skips keywords IgnoreUnknown names, from the line after it', () => {
    const file = join(files({ config: 'IgnoreUnknown Frob*,x\nFrobnicate 1\nUser u\n' }), 'config');
    expect(loadSshConfig({ ...LOCAL, file })('h1').user).toBe('u');
  });

  it('takes RevokedHostKeys none as unset, also over a later value', () => {
    const text = 'Host h1\n  RevokedHostKeys none\nHost *\n  RevokedHostKeys /k\n';
    const file = join(files({ config: text }), 'config');
    expect(loadSshConfig({ ...LOCAL, file })('h1').hostKeys?.revokedFile).toBeUndefined();
    expect(loadSshConfig({ ...LOCAL, file })('h2').hostKeys?.revokedFile).toBe('/k');
  });

  it('takes ProxyCommand none as no proxy, and then ignores ProxyJump as ssh does', () => {
    const text = 'Host h1\n  ProxyCommand none\nHost *\n  ProxyJump j\n';
    const file = join(files({ config: text }), 'config');
    expect(loadSshConfig({ ...LOCAL, file })('h1').proxyJump).toBeUndefined();
    expect(loadSshConfig({ ...LOCAL, file })('h2').proxyJump).toBe('j');
  });

  it('reads the system file after ~/.ssh/config without -F, the first value winning', () => {
    const dir = files({
      'home/.ssh/config': 'Host h1\n  User fromuser\n',
      system: 'Host *\n  User fromsystem\n  Port 2200\n  HashKnownHosts yes\n',
    });
    const lookup = loadSshConfig({
      ...LOCAL,
      home: join(dir, 'home'),
      systemFile: join(dir, 'system'),
    });
    expect(lookup('h1')).toMatchObject({ user: 'fromuser', port: 2200 });
    expect(lookup('h1').hostKeys?.hash).toBe(true);
    // -F: that file only.
    const only = loadSshConfig({ ...LOCAL, file: join(dir, 'home/.ssh/config') })('h1');
    expect(only.port).toBeUndefined();
    expect(only.hostKeys?.hash).toBe(false);
  });
});

describe('loadSshConfig: ~user asks the passwd database once per user (review 12)', () => {
  it('runs the lookup once per user name, not once per path, pass and host', async () => {
    const { passwdHome } = await import('../../src/remote/ssh-config.js');
    const me = userInfo().username;
    const dir = files({
      config: `Include ~${me}/.ssh/none-*.conf\nHost *\n  IdentityFile ~${me}/.ssh/id_a\n  UserKnownHostsFile ~${me}/.ssh/kh ~${me}/.ssh/kh2\n  GlobalKnownHostsFile ~${me}/g\n  CanonicalizeHostname yes\nHost h1\n  IdentityFile ~${me}/.ssh/id_1\nHost h2\n  IdentityFile ~${me}/.ssh/id_2\n`,
    });
    const asked: string[] = [];
    // The real passwd database (getent), counted.
    const userHome = (name: string) => {
      asked.push(name);
      return passwdHome(name);
    };
    const lookup = loadSshConfig({ file: join(dir, 'config'), ...LOCAL, userHome });
    const home = userInfo().homedir.replace(/\/*$/, '/');
    expect(lookup('h1').identityFiles).toEqual([`${home}.ssh/id_a`, `${home}.ssh/id_1`]);
    expect(lookup('h2').hostKeys?.userFiles).toEqual([`${home}.ssh/kh`, `${home}.ssh/kh2`]);
    expect(asked).toEqual([me]);
  });
});

describe('loadSshConfig: ~user where getent cannot run (macOS has none; review 12)', () => {
  it("takes the own user's home without getent, and says getent is missing for another user", async () => {
    const { passwdHome } = await import('../../src/remote/ssh-config.js');
    const me = userInfo().username;
    const empty = files({ 'bin/.keep': '' });
    const path = process.env.PATH;
    process.env.PATH = join(empty, 'bin');
    try {
      expect(passwdHome(me)).toBe(userInfo().homedir);
      const dir = files({
        config: `Host h\n  UserKnownHostsFile ~${me}/kh\nHost other\n  UserKnownHostsFile ~nobody/kh\n`,
        inc: 'Host inc\n  Include ~nobody/inc.conf\n',
      });
      const lookup = loadSshConfig({ file: join(dir, 'config'), ...LOCAL });
      expect(lookup('h').hostKeys?.userFiles).toEqual([
        `${userInfo().homedir.replace(/\/*$/, '/')}kh`,
      ]);
      // Not "no such user": the passwd database was never asked.
      expect(() => lookup('other')).toThrow(
        /config:4: UserKnownHostsFile ~nobody\/kh \(for other\): ~nobody: cannot ask the passwd database \(getent: ENOENT\)/,
      );
      // An Include svc cannot expand is refused, not read as matching no file.
      const included = loadSshConfig({ file: join(dir, 'inc'), ...LOCAL });
      expect(() => included('inc')).toThrow(
        /~nobody: cannot ask the passwd database \(getent: ENOENT\)/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});
