// OpenSSH's expansions of ssh_config values (issue 17): %-tokens, ${VAR} and ~, as tables. %C is
// compared with what the real `ssh -G` makes of it (the same SHA-1 over %l%h%p%r).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import { expandEnv, expandPath, expandTilde, expandTokens } from '../../src/core/ssh-tokens.js';
import { passwdHome } from '../../src/remote/ssh-config.js';

const ALL = {
  d: '/home/me',
  h: 'web1',
  i: '1000',
  k: 'alias',
  L: 'box',
  l: 'box.lan',
  n: 'w',
  p: '22',
  r: 'deploy',
  u: 'me',
};

describe('expandTokens', () => {
  it.each([
    ['%d/%h/%i/%k/%L/%l/%n/%p/%r/%u', '/home/me/web1/1000/alias/box/box.lan/w/22/deploy/me'],
    ['%%', '%'],
    ['100%%h', '100%h'],
    ['%%%h', '%web1'],
    ['no tokens', 'no tokens'],
    ['', ''],
    ['%h%h', 'web1web1'],
  ])('%j is %j', (text, expanded) => {
    expect(expandTokens(text, ALL, 'IdentityFile')).toBe(expanded);
  });

  it.each([
    ['%x', 'IdentityFile: unknown or unsupported token %x'],
    ['a%', 'IdentityFile: unknown or unsupported token %'],
    ['%what', 'IdentityFile: unknown or unsupported token %w'],
  ])('%j: %s', (text, message) => {
    const run = () => expandTokens(text, { ...ALL, what: 'x' }, 'IdentityFile');
    expect(run).toThrow(SvcError);
    expect(run).toThrow(message);
  });

  it('a token the caller does not have is an error naming the value', () => {
    expect(() => expandTokens('%h', {}, 'Match exec')).toThrow(
      'Match exec: unknown or unsupported token %h',
    );
  });

  it('%C needs %l and %h', () => {
    expect(() => expandTokens('%C', { h: 'x' }, 'w')).toThrow('w: unknown or unsupported token %C');
    expect(() => expandTokens('%C', { l: 'x' }, 'w')).toThrow('w: unknown or unsupported token %C');
  });

  it('%C is what ssh -G makes of it: SHA-1 of %l%h%p%r', () => {
    const run = spawnSync(
      'ssh',
      [
        '-G',
        '-F',
        '/dev/null',
        '-o',
        'ControlPath=/c/%C',
        '-l',
        'bob',
        '-p',
        '2200',
        'host.example',
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    const fromSsh = /^controlpath \/c\/([0-9a-f]{40})$/m.exec(run.stdout)?.[1];
    expect(fromSsh).toBeDefined();
    const tokens = { l: hostname(), h: 'host.example', p: '2200', r: 'bob' };
    expect(expandTokens('%C', tokens, 'ControlPath')).toBe(fromSsh);
    // without %p or %r the hash is over what there is
    const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
    expect(expandTokens('%C', { l: 'a', h: 'b' }, 'w')).toBe(sha1('ab'));
    expect(expandTokens('%C', { l: 'a', h: 'b', p: '1' }, 'w')).toBe(sha1('ab1'));
    expect(expandTokens('%C', { l: 'a', h: 'b', r: '2' }, 'w')).toBe(sha1('ab2'));
  });
});

describe('expandEnv', () => {
  const env = { HOME: '/home/me', A_1: 'x', _B: 'y', EMPTY: '' };
  it.each([
    ['${HOME}/.ssh', '/home/me/.ssh'],
    ['${A_1}${_B}', 'xy'],
    ['${EMPTY}z', 'z'],
    ['$HOME', '$HOME'],
    ['${1A}', '${1A}'],
    ['${A-1}', '${A-1}'],
    ['${}', '${}'],
    ['plain', 'plain'],
  ])('%j is %j', (text, expanded) => {
    expect(expandEnv(text, env, 'IdentityFile')).toBe(expanded);
  });

  it('an unset variable is an error naming it', () => {
    expect(() => expandEnv('${NOPE}/x', env, 'IdentityFile')).toThrow(
      new SvcError('IdentityFile: environment variable NOPE is not set'),
    );
  });
});

/**
 * What ssh makes of `path` as a UserKnownHostsFile (tilde_expand, as for every path keyword), or
 * its refusal. ssh takes ~ from passwd: svc is given that home, as it is given $HOME.
 */
function sshTilde(path: string): { path?: string; refused?: string } {
  const result = spawnSync(
    'ssh',
    ['-G', '-F', '/dev/null', '-o', `UserKnownHostsFile=${path}`, 'target.example'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) return { refused: result.stderr };
  return { path: /^userknownhostsfile (.*)$/m.exec(result.stdout)![1]! };
}

describe('expandTilde says what ssh -G says', () => {
  const me = userInfo();
  it.each([
    '~',
    '~/',
    '~//x',
    '~/.ssh/id',
    '~/x/',
    '~root',
    '~root/',
    '~root//x',
    '~root/.ssh/id',
    `~${me.username}/x`,
    '~nobody/kh',
    '~nosuchuser/x',
    '~nosuchuser',
    '~0/x',
    '~root:x/y',
    '/a/~/b',
    'x~',
  ])('%j', (path) => {
    const ssh = sshTilde(path);
    const expand = () => expandTilde(path, me.homedir, passwdHome, 'UserKnownHostsFile');
    if (ssh.path !== undefined) {
      expect(expand()).toBe(ssh.path);
      return;
    }
    // ssh refuses naming the user it cannot find; svc names the value and the user.
    const name = /^~([^/]*)/.exec(path)![1]!;
    expect(ssh.refused).toContain(`user ${name}`);
    expect(expand).toThrow(
      new SvcError(`UserKnownHostsFile: ~${name}: no such user in the passwd database`),
    );
  });
});

describe('expandPath', () => {
  it('expands ~, then ${VAR}, then %-tokens (a token in a variable is expanded too)', () => {
    const tokens = { h: 'web1', r: 'deploy' };
    const none = () => undefined;
    expect(expandPath('~/${D}/%h', tokens, '/home/me', none, { D: 'keys-%r' }, 'p')).toBe(
      '/home/me/keys-deploy/web1',
    );
    expect(() =>
      expandPath('~/${NOPE}', tokens, '/home/me', none, {}, 'UserKnownHostsFile'),
    ).toThrow('UserKnownHostsFile: environment variable NOPE is not set');
  });
});
