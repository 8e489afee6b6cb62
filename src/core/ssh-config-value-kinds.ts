// Which of readconf.c's parsers reads each ssh_config keyword's value (OpenSSH 9.2, Debian 12), and
// the words those parsers know (readconf.c's, log.c's and digest-openssl.c's tables). Algorithm
// names are not listed: svc leaves them to ssh (ssh-config-value-parsers.ts algorithmListShaped).
// test/unit/ssh-config-values-table.test.ts checks every kind against `ssh -G`.
import { SSH_CONFIG_WORDS } from './ssh-config-keywords.js';

/** Word lists compared ignoring case (log.c, digest-openssl.c, misc.c's ipqos table). */
export const VALUE_WORDS: Record<
  'loglevel' | 'syslogfacility' | 'fingerprinthash' | 'ipqos',
  readonly string[]
> = {
  loglevel: ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3'],
  syslogfacility: [
    'DAEMON',
    'USER',
    'AUTH',
    'AUTHPRIV',
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `LOCAL${n}`),
  ],
  fingerprinthash: ['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'],
  ipqos: [
    'none',
    ...['af11', 'af12', 'af13', 'af21', 'af22', 'af23', 'af31', 'af32', 'af33'],
    ...['af41', 'af42', 'af43', 'cs0', 'cs1', 'cs2', 'cs3', 'cs4', 'cs5', 'cs6', 'cs7'],
    ...['ef', 'le', 'lowdelay', 'throughput', 'reliability'],
  ],
};

export type ValueKind =
  /** Anything (deprecated or unsupported options, commands). */
  | { type: 'any' }
  /** Some argument, even "" (ProxyJump, whose hops proxy-jump.ts checks). */
  | { type: 'present' }
  /** One non-empty argument. */
  | { type: 'string' | 'time' | 'int' }
  | { type: 'words'; words: readonly string[] }
  /** An algorithm list (the names `ssh -Q QUERY` gives). */
  | { type: 'algorithms'; query: string }
  /** Any number of non-empty arguments, `none` only alone. */
  | { type: 'list' }
  /** Any number of non-empty arguments. */
  | { type: 'nonempty' }
  | { type: SpecialKind };

export type SpecialKind =
  | 'controlpersist'
  | 'rekeylimit'
  | 'loglevel'
  | 'syslogfacility'
  | 'fingerprinthash'
  | 'escapechar'
  | 'streamlocalbindmask'
  | 'tunneldevice'
  | 'ipqos'
  | 'addkeystoagent'
  | 'sendenv'
  | 'setenv'
  | 'canonicaldomains'
  | 'permittedcnames'
  | 'permitremoteopen'
  | 'agentpath'
  | 'localforward'
  | 'remoteforward'
  | 'dynamicforward';

const of = (type: ValueKind['type'], keywords: readonly string[]) =>
  keywords.map((keyword) => [keyword, { type }] as [string, ValueKind]);

const algorithms = (query: string, keywords: readonly string[]) =>
  keywords.map((keyword) => [keyword, { type: 'algorithms', query }] as [string, ValueKind]);

/** The kind of every keyword's value; Host, Match, Port and Include are checked in ssh-config.ts. */
export const SSH_VALUE_KINDS: ReadonlyMap<string, ValueKind> = new Map<string, ValueKind>([
  ...of('any', [
    'afstokenpassing',
    'cipher',
    'compressionlevel',
    'fallbacktorsh',
    'globalknownhostsfile2',
    'kerberosauthentication',
    'kerberostgtpassing',
    'protocol',
    'rhostsauthentication',
    'rhostsrsaauthentication',
    'rsaauthentication',
    'useblacklistedkeys',
    'userknownhostsfile2',
    'useroaming',
    'usersh',
    'useprivilegedport',
    'proxycommand',
    'localcommand',
    'remotecommand',
    'knownhostscommand',
  ]),
  ...of('present', ['proxyjump']),
  ...of('string', [
    'bindaddress',
    'bindinterface',
    'certificatefile',
    'controlpath',
    'gssapiclientidentity',
    'gssapiserveridentity',
    'hostkeyalias',
    'hostname',
    'identityfile',
    'identityfile2',
    'ignoreunknown',
    'kbdinteractivedevices',
    'pkcs11provider',
    'preferredauthentications',
    'revokedhostkeys',
    'securitykeyprovider',
    'smartcarddevice',
    'user',
    'xauthlocation',
  ]),
  ...of('time', [
    'connecttimeout',
    'setuptimeout',
    'forwardx11timeout',
    'serveraliveinterval',
    'protocolkeepalives',
  ]),
  ...of('int', [
    'numberofpasswordprompts',
    'connectionattempts',
    'serveralivecountmax',
    'canonicalizemaxdots',
    'requiredrsasize',
  ]),
  ...[...SSH_CONFIG_WORDS].map(
    ([keyword, words]) => [keyword, { type: 'words', words }] as [string, ValueKind],
  ),
  ...algorithms('cipher', ['ciphers']),
  ...algorithms('mac', ['macs']),
  ...algorithms('kex', ['kexalgorithms']),
  ...algorithms('key-sig', [
    'hostkeyalgorithms',
    'casignaturealgorithms',
    'hostbasedacceptedalgorithms',
    'hostbasedkeytypes',
    'pubkeyacceptedalgorithms',
    'pubkeyacceptedkeytypes',
  ]),
  ...algorithms('kex-gss', ['gssapikexalgorithms']),
  ...of('list', ['logverbose', 'userknownhostsfile', 'globalknownhostsfile']),
  ...of('nonempty', ['include']),
  ...of('controlpersist', ['controlpersist']),
  ...of('rekeylimit', ['rekeylimit']),
  ...of('loglevel', ['loglevel']),
  ...of('syslogfacility', ['syslogfacility']),
  ...of('fingerprinthash', ['fingerprinthash']),
  ...of('escapechar', ['escapechar']),
  ...of('streamlocalbindmask', ['streamlocalbindmask']),
  ...of('tunneldevice', ['tunneldevice']),
  ...of('ipqos', ['ipqos']),
  ...of('addkeystoagent', ['addkeystoagent']),
  ...of('sendenv', ['sendenv']),
  ...of('setenv', ['setenv']),
  ...of('canonicaldomains', ['canonicaldomains']),
  ...of('permittedcnames', ['canonicalizepermittedcnames']),
  ...of('permitremoteopen', ['permitremoteopen']),
  ...of('agentpath', ['forwardagent', 'identityagent']),
  ...of('localforward', ['localforward']),
  ...of('remoteforward', ['remoteforward']),
  ...of('dynamicforward', ['dynamicforward']),
]);
