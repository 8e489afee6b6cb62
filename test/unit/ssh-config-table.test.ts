// ssh_config resolved by core/ssh-config.ts directly, case by case against the real `ssh -G -F`
// (issue 17): each case's file is asked of ssh in the test, and svc must print the same values
// ssh prints unexpanded (HostName, User, Port, ProxyJump, IdentityFile, HostKeyAlias,
// IdentitiesOnly, HashKnownHosts, HostKeyAlgorithms) or refuse a config ssh refuses, naming the
// same line. The wider differential through bin/svc is
// test/reliability/ssh-config-differential.test.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredHostKeyAlgorithms } from '../../src/core/host-key-algorithms.js';
import {
  parseSshConfigText,
  resolveSshConfig,
  type SshConfigEffects,
} from '../../src/core/ssh-config.js';

interface Case {
  name: string;
  host: string;
  config: string;
  user?: string;
  port?: number;
  /** Other files of the case directory, for Include ({dir} is that directory). */
  files?: Record<string, string>;
}

const CASES: Case[] = [
  { name: 'nothing', host: 'plain', config: '' },
  {
    name: 'comments and blank lines',
    host: 'h',
    config: '# c\n\n   \n  # x\nHost h\n  User u # not a comment\n',
  },
  { name: 'keyword=value', host: 'h', config: 'Host=h\n  User=deploy\n  Port = 2200\n' },
  { name: 'keyword in capitals', host: 'h', config: 'HOST h\n  USER deploy\n  pOrT 2201\n' },
  { name: 'CRLF lines', host: 'h', config: 'Host h\r\n  User crlf\r\n' },
  { name: 'tab-separated', host: 'h', config: 'Host\th\n\tUser\ttabbed\n' },
  { name: 'quoted value', host: 'h', config: 'Host h\n  IdentityFile "/keys/a b"\n' },
  { name: 'single quotes', host: 'h', config: "Host h\n  IdentityFile '/keys/c d'\n" },
  { name: 'escaped space', host: 'h', config: 'Host h\n  IdentityFile /keys/e\\ f\n' },
  { name: 'quoted in the middle', host: 'h', config: 'Host h\n  IdentityFile /k/"g h"i\n' },
  { name: 'escaped quote', host: 'h', config: 'Host h\n  IdentityFile /k/j\\"k\n' },
  { name: 'backslash kept', host: 'h', config: 'Host h\n  IdentityFile /k/l\\m\n' },
  { name: 'unterminated quote', host: 'h', config: 'Host h\n  User "deploy\n' },
  {
    name: 'first value wins',
    host: 'h',
    config: 'Host *\n  User first\n  Port 2001\nHost h\n  User second\n  Port 2002\n',
  },
  {
    name: 'given user and port win',
    host: 'h',
    user: 'given',
    port: 2999,
    config: 'Host h\n  User cfg\n  Port 2002\n',
  },
  {
    name: 'IdentityFile accumulates, once each',
    host: 'h',
    config:
      'Host h\n  IdentityFile /a\n  IdentityFile /b\nHost *\n  IdentityFile /a\n  IdentityFile /c\n',
  },
  { name: 'several Host patterns', host: 'db', config: 'Host web db\n  User multi\n' },
  { name: 'negated Host pattern, excluded', host: 'bad.x', config: 'Host *.x !bad.x\n  User ok\n' },
  { name: 'negated Host pattern first', host: 'bad.x', config: 'Host !bad.x *.x\n  User ok\n' },
  {
    name: 'negated Host pattern, another host',
    host: 'good.x',
    config: 'Host *.x !bad.x\n  User ok\n',
  },
  { name: 'only a negated pattern', host: 'good.x', config: 'Host !bad.x\n  User never\n' },
  {
    name: 'Host ? is one character',
    host: 'w1',
    config: 'Host w?\n  User q\nHost w1?\n  User qq\n',
  },
  {
    name: 'Host is case-sensitive',
    host: 'Web',
    config: 'Host web\n  User lower\nHost Web\n  User upper\n',
  },
  {
    name: 'regex characters are literal',
    host: 'a+b',
    config: 'Host a.b\n  User dot\nHost a+b\n  User plus\n',
  },
  { name: 'HostName %h and %%', host: 'db', config: 'Host db\n  HostName %h.example.com\n' },
  { name: 'HostName in capitals', host: 'h', config: 'Host h\n  HostName Real.EXAMPLE\n' },
  { name: 'Match all', host: 'h', config: 'Match all\n  User all\n' },
  { name: 'Match !all', host: 'h', config: 'Match !all\n  User notall\nHost *\n  User rest\n' },
  {
    name: 'Match host sees HostName',
    host: 'short',
    config: 'Host short\n  HostName long.example\nMatch host long.example\n  User viahost\n',
  },
  {
    name: 'Match originalhost',
    host: 'short',
    config: 'Host short\n  HostName long.example\nMatch originalhost short\n  Port 2203\n',
  },
  { name: 'Match host, case-insensitive', host: 'h', config: 'Match host H\n  User upper\n' },
  {
    name: 'Match !host',
    host: 'h',
    config: 'Match !host h\n  User not\nMatch !host x\n  Port 2204\n',
  },
  {
    name: 'Match user (as configured so far)',
    host: 'h',
    config: 'Host h\n  User deploy\nMatch user deploy\n  Port 2205\n',
  },
  {
    name: 'Match user, case-sensitive',
    host: 'h',
    config: 'Host h\n  User deploy\nMatch user DEPLOY\n  Port 2206\n',
  },
  {
    name: 'Match user list and negation',
    host: 'h',
    config:
      'Host h\n  User deploy\nMatch user *,!deploy\n  Port 2207\nMatch user d*,!root\n  Port 2208\n',
  },
  {
    name: 'Match localuser',
    host: 'h',
    config: `Match localuser ${userInfo().username}\n  User local\n`,
  },
  { name: 'Match localuser no', host: 'h', config: 'Match localuser nobody-here\n  User local\n' },
  {
    name: 'Match two criteria',
    host: 'h',
    config: 'Match host h originalhost x\n  User both\nMatch host h originalhost h\n  Port 2209\n',
  },
  {
    name: 'Match final: a second pass',
    host: 'h',
    config: 'Host h\n  HostName real.example\nMatch final host real.example\n  User final\n',
  },
  { name: 'Match canonical', host: 'h', config: 'Match canonical\n  User canon\n' },
  { name: 'Match !final', host: 'h', config: 'Match !final\n  User first-pass\n' },
  {
    name: 'CanonicalizeHostname yes: a second pass',
    host: 'h',
    config:
      'CanonicalizeHostname yes\nHost h\n  HostName r.example\nHost r.example\n  User second-pass\n',
  },
  {
    name: 'CanonicalizeHostname no',
    host: 'h',
    config:
      'CanonicalizeHostname no\nHost h\n  HostName r.example\nHost r.example\n  User second-pass\n',
  },
  { name: 'Match all with more', host: 'h', config: 'Match all host h\n  User x\n' },
  { name: 'Match host without value', host: 'h', config: 'Match host\n  User x\n' },
  { name: 'Match without attribute', host: 'h', config: 'Match\n  User x\n' },
  { name: 'Match unknown attribute', host: 'h', config: 'Match colour blue\n  User x\n' },
  { name: 'Port 0', host: 'h', config: 'Host h\n  Port 0\n' },
  { name: 'Port 65535', host: 'h', config: 'Host h\n  Port 65535\n' },
  { name: 'Port 65536', host: 'h', config: 'Host h\n  Port 65536\n' },
  { name: 'Port abc', host: 'h', config: 'Host h\n  Port abc\n' },
  { name: 'Port 1', host: 'h', config: 'Host h\n  Port 1\n' },
  { name: 'an unknown keyword', host: 'h', config: 'Host h\n  Frobnicate yes\n' },
  {
    name: 'an unknown keyword in a block that does not apply',
    host: 'h',
    config: 'Host x\n  Frobnicate yes\n',
  },
  {
    name: 'IgnoreUnknown',
    host: 'h',
    config: 'IgnoreUnknown frob*\nHost h\n  Frobnicate yes\n  User u\n',
  },
  {
    name: 'IgnoreUnknown after the line',
    host: 'h',
    config: 'Host h\n  Frobnicate yes\nIgnoreUnknown frob*\n',
  },
  { name: 'User without value', host: 'h', config: 'Host h\n  User\n' },
  {
    name: 'IdentitiesOnly yes, HashKnownHosts no',
    host: 'h',
    config: 'Host h\n  IdentitiesOnly yes\n  HashKnownHosts no\n',
  },
  {
    name: 'IdentitiesOnly true, HashKnownHosts TRUE',
    host: 'h',
    config: 'Host h\n  IdentitiesOnly true\n  HashKnownHosts TRUE\n',
  },
  {
    name: 'IdentitiesOnly false first',
    host: 'h',
    config: 'Host h\n  IdentitiesOnly false\n  IdentitiesOnly yes\n',
  },
  { name: 'IdentitiesOnly maybe', host: 'h', config: 'Host h\n  IdentitiesOnly maybe\n' },
  {
    name: 'HostKeyAlias, lower-cased',
    host: 'h',
    config: 'Host h\n  HostKeyAlias Web.Alias\n  HostKeyAlias other\n',
  },
  {
    name: 'HostKeyAlgorithms first wins',
    host: 'h',
    config: 'Host h\n  HostKeyAlgorithms ssh-ed25519\n  HostKeyAlgorithms +ssh-rsa\n',
  },
  {
    name: 'ProxyJump and none',
    host: 'h',
    config: 'Host h\n  ProxyJump none\nHost *\n  ProxyJump j.example\n',
  },
  { name: 'ProxyJump NONE', host: 'h', config: 'Host h\n  ProxyJump NONE\n' },
  {
    name: 'ProxyJump first wins',
    host: 'h',
    config: 'Host h\n  ProxyJump a.example\n  ProxyJump b.example\n',
  },
  {
    name: 'ProxyCommand none, then ProxyJump ignored',
    host: 'h',
    config: 'Host h\n  ProxyCommand none\n  ProxyJump j.example\n',
  },
  {
    name: 'Include a file',
    host: 'h',
    config: 'Include {dir}/inc.conf\n',
    files: { 'inc.conf': 'Host h\n  User inc\n' },
  },
  {
    name: 'Include in a matching block',
    host: 'h',
    config: 'Host h\n  Include {dir}/inc.conf\n  User after\n',
    files: { 'inc.conf': 'Port 2210\nHost other\n  User never\n' },
  },
  {
    name: 'Include in a block that does not apply',
    host: 'h',
    config: 'Host x\n  Include {dir}/inc.conf\nHost h\n  User main\n',
    files: { 'inc.conf': 'Port 2211\nHost h\n  User inc\n' },
  },
  {
    name: 'Include of a missing file',
    host: 'h',
    config: 'Include {dir}/missing.conf\nHost h\n  User u\n',
  },
  {
    name: 'Include with an unknown keyword, inactive',
    host: 'h',
    config: 'Host x\n  Include {dir}/inc.conf\n',
    files: { 'inc.conf': 'Frobnicate yes\n' },
  },
];

let root: string;
const fromSsh = new Map<string, { status: number; out: Map<string, string[]>; stderr: string }>();
const LOCAL_USER = userInfo().username;
const HOME = userInfo().homedir;

const caseDir = (index: number) => join(root, `c${index}`);

function askSsh(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

// Asked eight at a time: a mutation run repeats this for every mutant it tests here.
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'svc-ssh-config-table-'));
  const ask = async (c: Case, index: number) => {
    const dir = caseDir(index);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config'), c.config.replaceAll('{dir}', dir));
    for (const [name, text] of Object.entries(c.files ?? {}))
      writeFileSync(join(dir, name), text.replaceAll('{dir}', dir));
    const args = ['-G', '-F', join(dir, 'config')];
    if (c.user !== undefined) args.push('-l', c.user);
    if (c.port !== undefined) args.push('-p', String(c.port));
    const run = await askSsh([...args, c.host]);
    const out = new Map<string, string[]>();
    for (const line of run.stdout.split('\n')) {
      const [key, ...value] = line.split(' ');
      if (key) out.set(key, [...(out.get(key) ?? []), value.join(' ')]);
    }
    fromSsh.set(c.name, { status: run.status, out, stderr: run.stderr });
  };
  for (let start = 0; start < CASES.length; start += 8)
    await Promise.all(CASES.slice(start, start + 8).map((c, i) => ask(c, start + i)));
}, 120_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

function svcResolve(c: Case, index: number) {
  const dir = caseDir(index);
  const file = join(dir, 'config');
  const effects: SshConfigEffects = {
    include: (argument) => {
      try {
        return [{ file: argument, text: readFileSync(argument, 'utf8') }];
      } catch {
        return [];
      }
    },
    exec: () => false,
  };
  return resolveSshConfig(
    parseSshConfigText(readFileSync(file, 'utf8'), file),
    {
      host: c.host,
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      localUser: LOCAL_USER,
      localHost: hostname(),
      home: HOME,
      uid: String(process.getuid?.() ?? 0),
    },
    effects,
  );
}

describe('resolveSshConfig says what ssh -G says', () => {
  it.each(CASES.map((c, index) => [c.name, index] as const))('%s', (_, index) => {
    const c = CASES[index]!;
    const ssh = fromSsh.get(c.name)!;
    if (ssh.status !== 0) {
      // ssh refuses: svc too, naming the same line
      const where = /([^/\s:]+):? line (\d+)/.exec(ssh.stderr);
      expect(where, ssh.stderr).not.toBeNull();
      const [, file, line] = where!;
      expect(() => svcResolve(c, index)).toThrow(
        new RegExp(`/${file!.replace('.', '\\.')}:${line}: `),
      );
      return;
    }
    const got = svcResolve(c, index);
    const one = (key: string) => ssh.out.get(key)?.[0];
    expect({
      hostname: got.hostName,
      user: got.user ?? LOCAL_USER,
      port: String(got.port ?? 22),
      proxyjump: got.proxyJump,
      identityfile: got.identityFiles,
      hostkeyalias: got.hostKeyAlias,
      identitiesonly: got.identitiesOnly ? 'yes' : 'no',
      hashknownhosts: got.hashKnownHosts ? 'yes' : 'no',
      hostkeyalgorithms: configuredHostKeyAlgorithms(got.hostKeyAlgorithms).join(','),
    }).toEqual({
      hostname: one('hostname'),
      user: one('user'),
      port: one('port'),
      proxyjump: one('proxyjump'),
      identityfile: ssh.out.get('identityfile'),
      hostkeyalias: one('hostkeyalias'),
      identitiesonly: one('identitiesonly'),
      hashknownhosts: one('hashknownhosts'),
      hostkeyalgorithms: one('hostkeyalgorithms'),
    });
  });
});
