// The configs of ssh-config-unusual-differential.test.ts: what a real user's ~/.ssh could hold.
// `config` is ~/.ssh/config; `files` are other files under ~/.ssh (for Include).
import { userInfo } from 'node:os';

/** The user running the tests: `~ME` is the passwd home, where the test mounts the case's .ssh. */
const ME = userInfo().username;

export interface UnusualCase {
  name: string;
  host: string;
  user?: string;
  port?: number;
  config: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** svc refuses this config on purpose (ssh takes it): its one line must match. */
  svcRefuses?: RegExp;
}

export const UNUSUAL_CASES: UnusualCase[] = [
  // Port: a service name is a port to ssh (a2port: getservbyname), a leading zero is decimal.
  { name: 'Port as a service name (ssh)', host: 'h', config: 'Host h\n  Port ssh\n' },
  { name: 'Port as a service name (domain)', host: 'h', config: 'Host h\n  Port domain\n' },
  { name: 'Port with a leading zero', host: 'h', config: 'Host h\n  Port 02222\n' },
  { name: 'Port that is no service', host: 'h', config: 'Host h\n  Port no-such-service\n' },
  { name: 'Port in hex', host: 'h', config: 'Host h\n  Port 0x16\n' },
  { name: 'Port -1', host: 'h', config: 'Host h\n  Port -1\n' },
  { name: 'Port +22', host: 'h', config: 'Host h\n  Port +2222\n' },
  { name: 'Port with six digits', host: 'h', config: 'Host h\n  Port 002222\n' },
  {
    name: 'a bad Port in a block that does not match',
    host: 'h',
    config: 'Host other\n  Port nonsense\nHost h\n  User fine\n',
  },
  {
    name: 'a service-name Port in a block that does not match',
    host: 'h',
    config: 'Host other\n  Port https\nHost h\n  Port 2401\n',
  },

  // ~user in a path is that user's passwd home (tilde_expand, glob's GLOB_TILDE for Include); a
  // user passwd does not know is refused (UserKnownHostsFile at once, IdentityFile and
  // GlobalKnownHostsFile when ssh connects) or, in an Include, matches nothing.
  {
    name: 'IdentityFile, UserKnownHostsFile and GlobalKnownHostsFile with ~user and a bare ~',
    host: 'h',
    config: `Host h\n  IdentityFile ~${ME}/.ssh/id_me\n  IdentityFile ~nobody//id\n  UserKnownHostsFile ~${ME}/.ssh/kh ~nobody/kh ~\n  GlobalKnownHostsFile ~${ME}/g-%h ~root\n`,
  },
  {
    name: 'Include ~user/, and ~ of a user that does not exist',
    host: 'h',
    config: `Include ~${ME}/.ssh/inc.conf ~no-such-user-svc/.ssh/inc.conf\n`,
    files: { 'inc.conf': 'Host h\n  Port 2410\n' },
  },
  {
    name: 'UserKnownHostsFile with ~ of a user that does not exist',
    host: 'h',
    config: 'Host h\n  UserKnownHostsFile ~no-such-user-svc/kh\n',
  },
  {
    name: 'IdentityFile with ~ of a user that does not exist',
    host: 'h',
    config: 'Host h\n  IdentityFile ~no-such-user-svc/id\n',
  },
  {
    name: 'GlobalKnownHostsFile with ~ of a user that does not exist',
    host: 'h',
    config: 'Host h\n  GlobalKnownHostsFile ~no-such-user-svc/g\n',
  },
  {
    name: '~ of a user that does not exist, in a block that does not match',
    host: 'h',
    config:
      'Host other\n  UserKnownHostsFile ~no-such-user-svc/kh\n  IdentityFile ~no-such-user-svc/id\n',
  },

  // Include: relative paths are under ~/.ssh, also from an included file in a subdirectory.
  {
    name: 'relative Include with a glob, sorted',
    host: 'h',
    config: 'Include conf.d/*.conf\n',
    files: {
      'conf.d/20-b.conf': 'Host h\n  User fromb\n  Port 2402\n',
      'conf.d/10-a.conf': 'Host h\n  User froma\n',
      'conf.d/30-c.txt': 'Host h\n  Port 2403\n',
    },
  },
  {
    name: 'nested relative Include: relative to ~/.ssh, not to the including file',
    host: 'h',
    config: 'Include conf.d/outer.conf\n',
    files: {
      'conf.d/outer.conf': 'Include inner.conf\nHost h\n  Port 2404\n',
      'inner.conf': 'Host h\n  User fromtop\n',
      'conf.d/inner.conf': 'Host h\n  User fromsub\n',
    },
  },
  {
    name: 'Include ~/ and an absolute-looking relative path, several on one line',
    host: 'h',
    config: 'Include ~/.ssh/a.conf missing.conf b.conf\n',
    files: { 'a.conf': 'Host h\n  Port 2405\n', 'b.conf': 'Host h\n  User fromb\n' },
  },
  {
    name: 'Include * matching a directory and a dot file',
    host: 'h',
    config: 'Include inc/*\n',
    files: {
      'inc/sub/x': 'User fromsub\n',
      'inc/.hidden': 'User hidden\n',
      'inc/z': 'Port 2406\n',
    },
  },
  {
    name: 'Include ? and [] globs',
    host: 'h',
    config: 'Include inc/?.conf inc/[ab]x\n',
    files: {
      'inc/1.conf': 'Host h\n  Port 2407\n',
      'inc/12.conf': 'Host h\n  User twelve\n',
      'inc/bx': 'Host h\n  User bx\n',
    },
  },
  {
    name: 'a Host block in an included file does not outlive the file',
    host: 'h',
    config: 'Host h\n  Include other.conf\n  User after-include\n',
    files: { 'other.conf': 'Host nothere\n  Port 2408\n' },
  },
  {
    name: 'Include inside Match originalhost and Match user',
    host: 'h',
    user: 'alice',
    config: 'Match originalhost h user alice\n  Include m.conf\nMatch user bob\n  Include n.conf\n',
    files: { 'm.conf': 'Port 2409\n', 'n.conf': 'HostName never\n' },
  },
  {
    name: 'an included file that includes itself',
    host: 'h',
    config: 'Include loop.conf\n',
    files: { 'loop.conf': 'Include loop.conf\n' },
  },
  {
    name: 'an unknown keyword in a nested Include under a Host that does not match',
    host: 'h',
    config: 'Host other\n  Include x.conf\n',
    files: { 'x.conf': 'Include y.conf\n', 'y.conf': 'Frobnicate yes\n' },
  },

  // Patterns.
  { name: 'Host with ? wildcards', host: 'web-07', config: 'Host web-??\n  User two\n' },
  { name: 'Host with ? too short', host: 'web-7', config: 'Host web-??\n  User two\n' },
  { name: 'Host a,b is one pattern', host: 'a', config: 'Host a,b\n  User comma\n' },
  {
    name: 'Host * !*.prod, and the excluded host',
    host: 'db.prod',
    config: 'Host * !*.prod\n  User dev\nHost *.prod\n  User prod\n',
  },
  { name: 'Host in capitals, target in capitals', host: 'WEB', config: 'Host web\n  User low\n' },
  {
    name: 'Match host with ? and a negation, HostName %h in capitals',
    host: 'app7',
    config:
      'Host app?\n  HostName %h.EXAMPLE.net\nMatch host app?.example.net,!app9.*\n  Port 2410\n',
  },
  {
    name: 'Match originalhost is not the HostName',
    host: 'short',
    config: 'Host short\n  HostName long.example\nMatch originalhost long.example\n  Port 2411\n',
  },
  {
    name: 'Match user with the user@ of the target in a negated list',
    host: 'h',
    user: 'deploy',
    config: 'Match user !root,dep*\n  Port 2412\nMatch user root\n  Port 2413\n',
  },
  {
    name: 'Match final sees the user chosen in the first pass',
    host: 'h',
    config: 'Host h\n  User firstpass\nMatch final user firstpass\n  Port 2414\n',
  },

  // Values.
  {
    name: 'quoted IdentityFile with spaces, ~ and a token',
    host: 'h',
    config: 'Host h\n  IdentityFile "~/my keys/id_%h"\n  IdentityFile ~/.ssh/plain\n',
  },
  {
    name: 'IdentityFile with ${VAR}',
    host: 'h',
    config: 'Host h\n  IdentityFile ${KEYDIR}/id_${KEYNAME}\n',
    env: { KEYDIR: '/srv/keys', KEYNAME: 'deploy' },
  },
  {
    name: 'IdentityFile with an unset ${VAR}',
    host: 'h',
    config: 'Host h\n  IdentityFile ${SVC_NO_SUCH_VAR_XYZ}/id\n',
  },
  {
    name: 'IdentityFile %d %u %C and %%',
    host: 'h',
    user: 'u1',
    port: 2415,
    config: 'Host h\n  HostName h.example\n  IdentityFile %d/k/%u-%C-100%%\n',
  },
  {
    name: 'IdentityFile with an unknown token',
    host: 'h',
    config: 'Host h\n  IdentityFile ~/.ssh/id_%z\n',
  },
  {
    name: 'IdentityFile accumulates across Include, Match and Host *',
    host: 'h',
    config:
      'Host h\n  IdentityFile ~/.ssh/one\n  Include ids.conf\nMatch all\n  IdentityFile ~/.ssh/three\nHost *\n  IdentityFile ~/.ssh/one\n',
    files: { 'ids.conf': 'IdentityFile ~/.ssh/two\n' },
  },
  {
    name: 'IdentitiesOnly=yes without spaces, CertificateFile beside it',
    host: 'h',
    config:
      'Host h\n  IdentitiesOnly=yes\n  IdentityFile=~/.ssh/id_ed25519\n  CertificateFile ~/.ssh/id_ed25519-cert.pub\n',
  },
  {
    name: 'UserKnownHostsFile quoted, %k without HostKeyAlias',
    host: 'h',
    config: 'Host h\n  UserKnownHostsFile "~/.ssh/known_hosts.d/%h" ~/.ssh/kh-%k\n',
  },
  {
    name: 'UserKnownHostsFile %k with HostKeyAlias in capitals',
    host: 'h',
    config: 'Host h\n  HostKeyAlias Web-Alias\n  UserKnownHostsFile ~/.ssh/kh-%k ~/.ssh/kh-%C\n',
  },
  {
    name: 'GlobalKnownHostsFile none, UserKnownHostsFile with ${VAR}',
    host: 'h',
    config: 'Host h\n  GlobalKnownHostsFile none\n  UserKnownHostsFile ${KHDIR}/kh\n',
    env: { KHDIR: '/srv/kh' },
  },
  {
    name: 'GlobalKnownHostsFile with ~ and %h',
    host: 'h',
    config: 'Host h\n  HostName real.example\n  GlobalKnownHostsFile ~/.ssh/global-%h\n',
  },
  { name: 'HostName with %%', host: 'h', config: 'Host h\n  HostName 100%%.example\n' },
  { name: 'HostName with a trailing dot', host: 'h', config: 'Host h\n  HostName h.example.\n' },
  {
    name: 'User = with spaces around, a comment after',
    host: 'h',
    config: 'Host h\n  User   =   spaced   # who\n',
  },
  { name: 'a word ending in #', host: 'h', config: 'Host h\n  User deploy#1\n' },
  {
    name: 'StrictHostKeyChecking, CheckHostIP and HashKnownHosts do not change the resolution',
    host: 'h',
    config:
      'Host h\n  StrictHostKeyChecking no\n  CheckHostIP yes\n  UpdateHostKeys no\n  User strict\n',
  },
  {
    name: 'ProxyJump as an ssh:// URI',
    host: 'h',
    config: 'Host h\n  ProxyJump ssh://jumper@jump.example:2200\n',
  },
  {
    name: 'ProxyJump with IPv6 in brackets, then none',
    host: 'h',
    config: 'Host h\n  ProxyJump admin@[2001:db8::1]:2201\nHost *\n  ProxyJump none\n',
  },
  {
    name: 'ProxyCommand after ProxyJump is ignored',
    host: 'h',
    config: 'Host h\n  ProxyJump jump.example\n  ProxyCommand nc %h %p\n',
  },
  {
    name: 'ProxyCommand is refused on purpose, in one line',
    host: 'h',
    config: 'Host h\n  ProxyCommand nc %h %p\n',
    svcRefuses: /config:2: ProxyCommand is set for h, and svc does not support ProxyCommand/,
  },
  // A second word where ssh takes one, in a matching block or not: ssh refuses the line.
  { name: 'HostName with a second word', host: 'h', config: 'Host h\n  HostName a b\n' },
  { name: 'User with a second word', host: 'h', config: 'Host h\n  User deploy extra\n' },
  { name: 'Port with a second number', host: 'h', config: 'Host other\n  Port 22 33\n' },
  {
    name: 'IdentityFile with a second path (an unquoted space)',
    host: 'h',
    config: 'Host h\n  IdentityFile ~/my keys/id\n',
  },
  {
    name: 'HostKeyAlias with a second word, in a block that does not match',
    host: 'h',
    config: 'Host other\n  HostKeyAlias a b\n',
  },
  {
    name: 'UserKnownHostsFile with three files is fine',
    host: 'h',
    config: 'Host h\n  UserKnownHostsFile ~/.ssh/a ~/.ssh/b ~/.ssh/c\n',
  },
  {
    name: 'ProxyJump with a space after the comma',
    host: 'h',
    config: 'Host h\n  ProxyJump x, y\n',
  },
  { name: 'ProxyJump with a trailing comma', host: 'h', config: 'Host h\n  ProxyJump x,\n' },
  { name: 'ProxyJump with a second word', host: 'h', config: 'Host h\n  ProxyJump x y\n' },
  // Bytes an editor may leave: ssh's whitespace is space, tab, CR, LF (and a trailing form feed).
  { name: 'a UTF-8 byte order mark', host: 'h', config: '\ufeffHost h\n  User bom\n' },
  { name: 'a form feed at the end of a line', host: 'h', config: 'Host h\n  User ff\f\n' },
  { name: 'a form feed at the start of a line', host: 'h', config: '\fHost h\n  User ff\n' },
  { name: 'a no-break space before the value', host: 'h', config: 'Host h\n  User\u00a0nbsp\n' },
  { name: 'a Host line without a pattern', host: 'h', config: 'Host\n  User nopattern\n' },
  { name: 'Host ""', host: 'h', config: 'Host ""\n  User empty\n' },
  {
    name: 'IdentitiesOnly maybe in a block that does not match',
    host: 'h',
    config: 'Host other\n  IdentitiesOnly maybe\n',
  },
  {
    name: 'StrictHostKeyChecking with a bad value, in a block that does not match',
    host: 'h',
    config: 'Host other\n  StrictHostKeyChecking sometimes\n',
  },
  {
    name: 'a yes/no keyword svc does not use, with a bad value in a block that does not match',
    host: 'h',
    config: 'Host other\n  ForwardX11 maybe\nHost h\n  User fine\n',
  },
  {
    name: 'a keyword of a word list, in another case, in a block that does not match',
    host: 'h',
    config: 'Host other\n  ControlMaster AutoAsk\n  RequestTTY Force\nHost h\n  User fine\n',
  },
  {
    name: 'CanonicalizeHostname false, then Match canonical',
    host: 'h',
    config: 'Host h\n  CanonicalizeHostname false\nMatch canonical\n  User canon\n',
  },
  {
    name: 'ProxyJump chain ending in an ssh:// URI',
    host: 'h',
    config: 'Host h\n  ProxyJump first.example,ssh://last@[2001:db8::2]:2202/\n',
  },
  {
    name: 'ProxyJump with a path in its URI',
    host: 'h',
    config: 'Host h\n  ProxyJump ssh://x@y/path\n',
  },
  {
    name: 'ProxyJump hops with service-name ports',
    host: 'h',
    config: 'Host h\n  ProxyJump first.example:ssh,jumper@[2001:db8::3]:domain\n',
  },
  {
    // parse_jump cuts the value at its first `#` (a comment glued to the hop, found in review 12).
    name: 'ProxyJump with a comment glued to the hop',
    host: 'h',
    config: 'Host h\n  ProxyJump jump.example#old-bastion\n',
  },
  {
    name: 'ProxyJump hop with a port that is no service, in a block that does not match',
    host: 'h',
    config: 'Host other\n  ProxyJump jump.example:no-such-service\nHost h\n  User fine\n',
  },
  {
    name: 'a bad ProxyJump in a block that does not match',
    host: 'h',
    config: 'Host other\n  ProxyJump ssh://x@y/path\n',
  },
  { name: 'Match exec without a command', host: 'h', config: 'Match exec\n  User never\n' },
  // Values readconf.c checks in every block (ssh-config-values.ts), end to end through bin/svc.
  {
    name: 'a real-world block of timeouts, ciphers and forwardings that applies',
    host: 'h',
    config:
      'Host h\n  ConnectTimeout 10\n  ServerAliveInterval 1m\n  Ciphers +aes128-cbc\n  LocalForward 8080 localhost:80\n  ControlPersist 10m\n  IPQoS af21 cs1\n  SetEnv LANG=C\n  User fine\n',
  },
  {
    name: 'a bad ConnectTimeout in a block that does not match',
    host: 'h',
    config: 'Host other\n  ConnectTimeout 10x\nHost h\n  User fine\n',
  },
  {
    name: 'a cipher list with no name (`+` alone) in a file included from a block that does not match',
    host: 'h',
    config: 'Host other\n  Include other.conf\nHost h\n  User fine\n',
    files: { 'other.conf': 'Ciphers +\n' },
  },
  {
    name: 'a LocalForward without a target in a Match block that does not match',
    host: 'h',
    config: 'Match user nobody-at-all\n  LocalForward 8080\nHost h\n  User fine\n',
  },
  {
    name: 'UserKnownHostsFile with only a comment, then a file',
    host: 'h',
    config: 'Host h\n  UserKnownHostsFile # set below\n  UserKnownHostsFile ~/.ssh/kh2\n',
  },
  {
    name: 'a keyword with nothing after it in a block that does not match',
    host: 'h',
    config: 'Host other\n  ServerAliveCountMax\nHost h\n  User fine\n',
  },
];
