// Keywords a newer ssh (or Apple's) knows and this OpenSSH 9.2 does not: svc skips them as 9.2
// skips what IgnoreUnknown names, so a config the user's own ssh takes is not refused. The oracle
// is this machine's `ssh -G`: with IgnoreUnknown naming them, it takes each config and resolves it
// as svc does; without, it refuses it (the keyword is indeed unknown to it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWER_SSH_KEYWORDS } from '../../src/core/ssh-config-keywords.js';
import { parseSshConfigText, resolveSshConfig } from '../../src/core/ssh-config.js';
import { tcpServicePort } from '../../src/remote/ssh-config.js';

const VALUES: Record<string, string[]> = {
  usekeychain: ['yes', 'no'],
  tag: ['work', ''],
  obscurekeystroketiming: ['yes', 'interval:20'],
  channeltimeout: ['session=5m', 'global=1h'],
  refuseconnection: ['yes'],
  warnweakcrypto: ['no', 'no-pq-kex'],
};

const CASES = Object.entries(VALUES).flatMap(([keyword, values]) =>
  values.flatMap((value) => {
    const line = `${keyword}${value === '' ? '' : ` ${value}`}`;
    return [
      `Host *\n  ${line}\n  User deploy\n`,
      `Host somehost\n  HostName 10.0.0.7\n  ${line}\n  Port 2222\n`,
      `Host nomatch-xyz\n  ${line}\nHost somehost\n  User ops\n`,
    ];
  }),
);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-ssh-newer-'));
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function sshG(config: string, index: number): { code: number | null; fields: Map<string, string> } {
  const file = join(dir, `config-${index}`);
  writeFileSync(file, config);
  const run = spawnSync('ssh', ['-G', '-F', file, 'somehost'], { encoding: 'utf8' });
  const fields = new Map(
    run.stdout.split('\n').map((line) => [line.split(' ')[0]!, line.slice(line.indexOf(' ') + 1)]),
  );
  return { code: run.status, fields };
}

function svc(config: string) {
  const request = {
    host: 'somehost',
    localUser: 'me',
    localHost: 'box',
    home: '/home/me',
    uid: '1',
  };
  const effects = { include: () => [], exec: () => false, service: tcpServicePort };
  return resolveSshConfig(parseSshConfigText(config, 'config'), request, effects);
}

describe('keywords of a newer ssh', () => {
  it('are the ones the table covers', () => {
    expect(Object.keys(VALUES).sort()).toEqual([...NEWER_SSH_KEYWORDS].sort());
  });

  it.each(CASES.map((config, index) => [JSON.stringify(config), config, index] as const))(
    '%s: skipped, resolved as ssh -G resolves it with IgnoreUnknown',
    (_name, config, index) => {
      expect(sshG(config, index).code, 'this ssh knows the keyword: check it instead').not.toBe(0);
      const ignore = `IgnoreUnknown ${[...NEWER_SSH_KEYWORDS].join(',')}\n${config}`;
      const ssh = sshG(ignore, index);
      if (ssh.code !== 0) {
        // A line ssh refuses even for a keyword IgnoreUnknown names (one with no value): so does svc.
        expect(() => svc(config)).toThrow(/^config:\d+: /);
        return;
      }
      const resolved = svc(config);
      expect(resolved.hostName).toBe(ssh.fields.get('hostname'));
      // ssh -G names the local user when the config names none; svc leaves it unset.
      const user = ssh.fields.get('user');
      expect(resolved.user).toBe(user === userInfo().username ? undefined : user);
      expect(String(resolved.port ?? 22)).toBe(ssh.fields.get('port'));
    },
  );

  it('a misspelt one is still refused, naming the line', () => {
    expect(() => svc('Host *\n  UseKeychian yes\n')).toThrow(
      /^config:2: Bad configuration option usekeychian/,
    );
  });
});

// Match tagged (OpenSSH 9.4) asks about the Tag set so far (first value wins); no Tag matches only
// an empty pattern (readconf.c match_cfg_line). This 9.2 refuses both, so there is no ssh -G to
// ask: the cases follow readconf.c's code.
describe('Match tagged', () => {
  const user = (config: string, host = 'somehost') => {
    const request = { host, localUser: 'me', localHost: 'box', home: '/home/me', uid: '1' };
    const effects = { include: () => [], exec: () => false, service: tcpServicePort };
    return resolveSshConfig(parseSshConfigText(config, 'config'), request, effects).user;
  };
  const TAGGED = 'Host somehost\n  Tag work\nMatch tagged work\n  User bob\n';

  it.each([
    ['the Tag set above, for the host that set it', TAGGED, 'somehost', 'bob'],
    ['no Tag for another host', TAGGED, 'other', undefined],
    ['a pattern', 'Tag work-eu\nMatch tagged work-*,!work-us\n  User bob\n', 'somehost', 'bob'],
    ['negated', 'Tag work\nMatch !tagged home\n  User bob\n', 'somehost', 'bob'],
    ['the first Tag wins', 'Tag a\nTag b\nMatch tagged b\n  User bob\n', 'somehost', undefined],
    ['no Tag and an empty pattern', 'Match tagged ""\n  User bob\n', 'somehost', 'bob'],
    ['a Tag and an empty pattern', 'Tag a\nMatch tagged ""\n  User bob\n', 'somehost', undefined],
    ['no Tag and a * pattern', 'Match tagged *\n  User bob\n', 'somehost', undefined],
  ])('%s', (_, config, host, expected) => {
    expect(user(config, host)).toBe(expected);
  });

  it.each(['localnetwork 10.0.0.0/8', 'version OpenSSH_9*', 'sessiontype shell', 'command ls'])(
    'Match %s: refused in one line, as one svc cannot evaluate',
    (match) => {
      expect(() => user(`Match ${match}\n  User bob\n`)).toThrow(
        /^config:1: Match \w+ \(a newer OpenSSH's\) is one svc cannot evaluate; name the hosts svc deploys to with Host or Match host$/,
      );
    },
  );
});
