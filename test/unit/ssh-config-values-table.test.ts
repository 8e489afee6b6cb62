// A value ssh refuses on any ssh_config line, also in a Host or Match block that does not apply
// (readconf.c parses every value first), svc refuses naming the same line; a value ssh takes, svc
// takes. Each case is one `KEYWORD VALUE` line, asked of the real `ssh -G -F FILE somehost` and of
// resolveSshConfig, in one of four places in turn: a Host block that does not apply, the same with
// `KEYWORD=VALUE`, a Match block that does not apply, and a Host block that does. OpenSSH's answers
// are never written here: only the values to ask about.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSshConfigText, resolveSshConfig } from '../../src/core/ssh-config.js';
import { SSH_VALUE_KINDS } from '../../src/core/ssh-config-value-kinds.js';
import { tcpServicePort } from '../../src/remote/ssh-config.js';

const TIMES = ['10', 'none', 'None', '1h30m', '5M', '3w4d', '-1', '-0', '1x', '"+5"', '" 7"'];
const TIMES_MORE = [
  '"5 6"',
  '"5m 6"',
  '"1h 30m"',
  '"1h\t30"',
  '2147483647',
  '2147483648',
  '99999999999999999999',
  '""',
  '10 20',
  '5s5',
  '#c',
];
const INTS = ['3', '0', '-1', '-0', '+4', '" 4"', '2147483647', '2147483648', '4x', 'none', '""'];
const INTS_MORE = ['1 2', '0x10', '010', '#c'];
const KEY_TYPES = ['ssh-ed25519', '+ssh-rsa', 'ssh-ed25519*', '*cert*', '!ssh-rsa', '!nomatch'];
const KEY_TYPES_MORE = [
  'RSA',
  'ed25519-sk',
  'RSA-CERT',
  'ssh-xmss@openssh.com',
  'nope*',
  'ssh-rs?',
];

/** keyword -> values to ask, written as they stand after the keyword (quotes and all). */
const VALUES: Record<string, string[]> = {
  connecttimeout: [...TIMES, ...TIMES_MORE],
  setuptimeout: ['5', 'x', '1 #c'],
  forwardx11timeout: ['20m', '-5', '1d1'],
  serveraliveinterval: TIMES,
  protocolkeepalives: ['15', 'yes'],
  numberofpasswordprompts: [...INTS, ...INTS_MORE],
  connectionattempts: [...INTS, '0', '"+0"'],
  serveralivecountmax: ['3', '-3', 'x'],
  canonicalizemaxdots: ['1', '1.5'],
  requiredrsasize: ['2048', 'big', '1024 2048'],
  controlpersist: ['yes', 'Yes', 'no', 'false', '10m', '0', 'none', '-1', '5 6', '""', '1h 2'],
  rekeylimit: [
    'default',
    'Default',
    '1G',
    '1G 1h',
    '1G none',
    '500M 30m',
    '15',
    '16',
    '0',
    '-16',
    '1.5G',
    '1X',
    '1K!',
    '1Kb',
    'default 1h',
    '1G 1h 2',
    '""',
    '1G bad',
    '+1K',
    '.5K',
    'K',
    '1e3',
    '99999999999999999999',
  ],
  ciphers: [
    'aes128-ctr',
    '+aes128-cbc',
    '-aes*',
    '^chacha20-poly1305@openssh.com,aes256-gcm@openssh.com',
    'aes128-ctr,,junk',
    'aes128-ctr,',
    'aes128-ctr,#x',
    'aes*',
    'nope',
    '+',
    '-',
    '""',
    'AES128-CTR',
    'aes128-ctr aes256-ctr',
    'none',
  ],
  macs: ['hmac-sha2-256', '+hmac-md5', 'hmac-sha2-256,nope', '^umac-64@openssh.com', 'hmac-*'],
  kexalgorithms: [
    'curve25519-sha256',
    '+diffie-hellman-group1-sha1',
    'sntrup761x25519-sha512',
    'nope-kex',
    // OpenSSH 9.9's post-quantum default, unknown to this 9.2: svc leaves it to the user's ssh.
    'mlkem768x25519-sha256',
    '-nope',
    ',curve25519-sha256',
  ],
  hostkeyalgorithms: [...KEY_TYPES, ...KEY_TYPES_MORE, 'rsa-sha2-512,nope', 'none'],
  casignaturealgorithms: KEY_TYPES,
  hostbasedacceptedalgorithms: KEY_TYPES_MORE,
  hostbasedkeytypes: ['ssh-ed25519', 'nope'],
  pubkeyacceptedalgorithms: [...KEY_TYPES, '^rsa-sha2-256', '+nope'],
  pubkeyacceptedkeytypes: ['ecdsa*', 'ecdsa'],
  gssapikexalgorithms: [
    'gss-gex-sha1-',
    'gss-gex-sha1-foo',
    'gss-curve25519-sha256-,gss-group14-sha256-',
    'gss-nope-',
    'gss-gex-sha1-,,junk',
    ',x',
    '+gss-gex-sha1-',
  ],
  loglevel: ['INFO', 'debug3', 'Verbose', 'DEBUG4', 'none', '""', 'info info'],
  syslogfacility: ['AUTH', 'authpriv', 'local7', 'LOCAL8', 'kern'],
  fingerprinthash: ['sha256', 'MD5', 'sha224', 'sha-256'],
  logverbose: ['kex.c:*:1000', 'none', 'a,b c', 'a none', 'none a', '""', '#c'],
  userknownhostsfile: ['~/kh', 'a b', 'none', 'a none', 'none b', '""', '#c', 'NONE'],
  globalknownhostsfile: ['/etc/kh', 'NONE x', '#c', 'a ""'],
  escapechar: ['~', 'none', 'None', '^A', '^a', '^~', '^', '^^', 'ab', 'é', '""', '^é', '~ x'],
  streamlocalbindmask: ['0177', '177', '0777', '01000', '8', '0778', '-0', '-1', '7x', 'x7'],
  tunneldevice: ['any', 'ANY', '0', 'any:any', '1:2', '1:', ':1', 'x', '2147483645', '2147483646'],
  ipqos: [
    'lowdelay',
    'af21 cs1',
    'AF21',
    '0x10',
    '010',
    '255',
    '256',
    '-0',
    '-1',
    'af21 cs1 ef',
    'none',
    'nope',
    '0x',
    '09',
    '" 10"',
  ],
  addkeystoagent: [
    'yes',
    'confirm',
    'confirm 5m',
    'Confirm 1h',
    'yes 5m',
    '5m',
    'ask',
    '1h30m',
    'confirm x',
    'x',
    'confirm 5m 6',
    '""',
    'no',
  ],
  sendenv: ['LANG LC_*', '-LC_*', 'A=B', '""', '#c', 'LANG ""'],
  setenv: ['A=B', 'A=B C=D', 'A', '=x', '"A=B C"', '#c'],
  canonicaldomains: [
    'example.com',
    'a.com b.org',
    'none',
    'a none',
    '-a.com',
    'a..com',
    'a_b.com',
    'a.com.',
    '""',
    '.com',
    '#c',
  ],
  canonicalizepermittedcnames: ['*.a.com:*.b.com', '*', 'none', 'a none', 'a:', 'a', ':b', '""'],
  permitremoteopen: [
    'any',
    'none',
    'host:22',
    'host:*',
    '[::1]:22',
    'host',
    'host:0',
    'host:ssh',
    'host:nope',
    'a:1 b:2',
    'any b:2',
    'a/1',
    '[::1]x',
    '[::1',
    ':22',
    'host:',
    '""',
    '#c',
  ],
  forwardagent: ['yes', 'No', '/tmp/agent.sock', '$SSH_AUTH_SOCK', '$1x', '$', '""', 'a b'],
  identityagent: ['none', '${HOME}/agent', '$a-b', '#c', '${HOME', '${}/x', '/a/${HOME}/${HOME}'],
  localforward: [
    '8080 localhost:80',
    '8080 [::1]:80',
    '127.0.0.1:8080 host:80',
    '8080',
    '0 host:80',
    '8080 host:0',
    '8080 host:ssh',
    '/tmp/l.sock /tmp/r.sock',
    '/tmp/l.sock host:80',
    '8080 /tmp/r.sock',
    'x host:80',
    '8080 host',
    '8080 host:80 x',
    '"8080 host:80"',
    '[a:b]:8080 host:80',
    '8080 host\\\\:x:80',
    '70000 host:80',
    '8080 a:b:c:d',
    'ssh host:80',
    '8080 /tmp/$x.sock',
    '${HOME 80',
    '8080 ${}:80',
    '8080 ${HOME}:80',
  ],
  remoteforward: [
    '8080 localhost:80',
    '8080',
    '0 host:80',
    '0',
    '8080 ""',
    '8080 host',
    'x',
    '1.2.3.4:8080',
    '/tmp/s.sock host:22',
    '8080 host:80 x',
  ],
  dynamicforward: ['1080', 'localhost:1080', '[::1]:1080', '0', 'x', '1080 x', '/tmp/socks'],
  addressfamily: ['inet', 'INET6', 'any', 'ipv4'],
  compression: ['yes', 'No', 'delayed'],
  sessiontype: ['none', 'subsystem', 'Default', 'shell'],
  stricthostkeychecking: ['accept-new', 'yes no', '#c'],
  batchmode: ['yes yes', '#c', 'yes'],
  bindaddress: ['127.0.0.1', '""', 'a b', '#c', '"a b"'],
  xauthlocation: ['/usr/bin/xauth', '""'],
  preferredauthentications: ['publickey,password', 'a b'],
  controlpath: ['/tmp/cm-socket', '#c'],
  identityfile2: ['/tmp/id', 'a b'],
  cipher: ['whatever x y', '#c', '""'],
  protocol: ['2'],
  compressionlevel: ['9'],
  localcommand: ['echo hi', '""', '#c'],
  include: ['""', '/nonexistent-svc/x', '#c'],
  proxyjump: ['#c', 'none'],
};

/** Whole configs: a keyword with nothing after it, also one IgnoreUnknown skips. */
const CONFIGS = [
  'Host nomatch-xyz\n  ConnectTimeout\n',
  'Host nomatch-xyz\n  Cipher\n',
  'Host nomatch-xyz\n  LocalCommand\n',
  'Host nomatch-xyz\n  ConnectTimeout=\n',
  'IgnoreUnknown frob\nHost nomatch-xyz\n  frob\n',
  'IgnoreUnknown frob\nHost nomatch-xyz\n  frob x y\n',
  'Host somehost\n  UserKnownHostsFile #c\n  UserKnownHostsFile /tmp/kh\n',
  // `=` and comments: what is left of the value after them.
  'Host nomatch-xyz\n  ConnectTimeout = #c\n',
  'Host nomatch-xyz\n  ConnectTimeout =5 #c\n',
  'Host nomatch-xyz\n  ConnectTimeout 5#c\n',
  'Host nomatch-xyz\n  Cipher = #c\n',
  'Host nomatch-xyz\n  SendEnv = #x\n',
  'Host nomatch-xyz\n  SetEnv A=B#c\n',
  'Host nomatch-xyz\r\n  ConnectTimeout\r\n',
];

interface Case {
  name: string;
  config: string;
  keyword?: string;
  value?: string;
}

/** The four places a value is asked in, in turn. */
function place(keyword: string, value: string, index: number): string {
  const line = value === '' ? keyword : `${keyword} ${value}`;
  // svc refuses a command it would have to run, on purpose: commands only where they do not apply.
  // A HostKeyAlgorithms that leaves no algorithm ssh refuses only when it uses it (naming no line),
  // and svc when it connects (host-key-algorithms.ts): not a value check, so not where it applies.
  const notUsed = ['localcommand', 'proxyjump'].includes(keyword) || value.startsWith('!');
  const layout = notUsed ? index % 3 : index % 4;
  if (layout === 1) return `Host nomatch-xyz\n  ${keyword}=${value}\n`;
  if (layout === 2) return `Match host nomatch-xyz\n\t${line}\n`;
  if (layout === 3) return `Host somehost\n  ${line}\n`;
  return `Host nomatch-xyz\n  ${line}\n`;
}

const CASES: Case[] = [
  ...Object.entries(VALUES).flatMap(([keyword, values], k) =>
    values.map((value, v) => ({
      name: `${keyword} ${value}`,
      config: place(keyword, value, k + v),
      keyword,
      value,
    })),
  ),
  ...CONFIGS.map((config) => ({ name: JSON.stringify(config), config })),
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-ssh-values-'));
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const namesLeftToSsh: string[] = [];
/** A case whose keyword takes an algorithm list (svc checks its shape, not its names). */
const leftToSsh = (c: Case) =>
  c.keyword !== undefined && SSH_VALUE_KINDS.get(c.keyword)?.type === 'algorithms';

/** ssh -G's answer: undefined when it takes the config, else the line it names. */
function sshRefuses(config: string, index: number): string | undefined {
  const file = join(dir, `config-${index}`);
  writeFileSync(file, config);
  const run = spawnSync('ssh', ['-G', '-F', file, 'somehost'], { encoding: 'utf8' });
  if (run.status === 0) return undefined;
  return / line (\d+)/.exec(run.stderr)?.[1] ?? `no line: ${run.stderr}`;
}

/** svc's answer, the same way; the refusal is one line naming config:LINE. */
function svcRefuses(config: string): string | undefined {
  const request = {
    host: 'somehost',
    localUser: 'me',
    localHost: 'box',
    home: '/home/me',
    uid: '1000',
  };
  const effects = { include: () => [], exec: () => false, service: tcpServicePort };
  try {
    resolveSshConfig(parseSshConfigText(config, 'config'), request, effects);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return /^config:(\d+): /.exec(message)?.[1] ?? `no line: ${message}`;
  }
}

describe('ssh_config values ssh checks in every block: svc refuses exactly what ssh -G refuses', () => {
  it('has a case for many values of many keywords', () => {
    expect(CASES.length).toBeGreaterThan(400);
  });

  it.each(CASES.map((c, index) => [c.name, c, index] as const))('%s', (_name, c, index) => {
    const ssh = sshRefuses(c.config, index);
    const svc = svcRefuses(c.config);
    if (ssh !== undefined && svc === undefined && leftToSsh(c)) {
      // Algorithm names svc leaves to ssh (a newer one knows more than this 9.2): a list of one
      // word with a name in it, which this ssh refuses only for what it names.
      namesLeftToSsh.push(c.name);
      expect(c.value, c.config).toMatch(/^[+^]?[^\s#"+^-][^\s"]*$/);
      return;
    }
    // ssh refuses a value it uses (ConnectionAttempts 0) naming no line: svc refuses, naming it.
    if (ssh?.startsWith('no line') === true) expect(svc, c.config).toMatch(/^\d+$/);
    else expect(svc, c.config).toBe(ssh);
  });

  it('leaves to ssh only algorithm names this ssh does not know, a newer one among them', () => {
    expect(namesLeftToSsh).toEqual(expect.arrayContaining(['kexalgorithms mlkem768x25519-sha256']));
    expect(namesLeftToSsh.length).toBeLessThan(40);
  });
});
