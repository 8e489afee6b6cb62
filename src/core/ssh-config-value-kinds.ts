// Which of readconf.c's parsers reads each ssh_config keyword's value (OpenSSH 9.2, Debian 12), and
// the names those parsers know: the algorithm lists are `ssh -Q cipher`, `mac`, `kex`, `key-sig`
// and `kex-gss` of that ssh, the rest readconf.c's, log.c's and digest-openssl.c's tables.
// test/unit/ssh-config-values-table.test.ts checks the lists against `ssh -Q` and every kind
// against `ssh -G`.
import { SSH_CONFIG_WORDS } from './ssh-config-keywords.js';

export const ALGORITHMS: Record<AlgorithmList | 'keyShortNames', readonly string[]> = {
  ciphers: [
    '3des-cbc',
    'aes128-cbc',
    'aes192-cbc',
    'aes256-cbc',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'chacha20-poly1305@openssh.com',
  ],
  macs: [
    'hmac-sha1',
    'hmac-sha1-96',
    'hmac-sha2-256',
    'hmac-sha2-512',
    'hmac-md5',
    'hmac-md5-96',
    'umac-64@openssh.com',
    'umac-128@openssh.com',
    'hmac-sha1-etm@openssh.com',
    'hmac-sha1-96-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512-etm@openssh.com',
    'hmac-md5-etm@openssh.com',
    'hmac-md5-96-etm@openssh.com',
    'umac-64-etm@openssh.com',
    'umac-128-etm@openssh.com',
  ],
  kex: [
    'diffie-hellman-group1-sha1',
    'diffie-hellman-group14-sha1',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group-exchange-sha1',
    'diffie-hellman-group-exchange-sha256',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'sntrup761x25519-sha512',
    'sntrup761x25519-sha512@openssh.com',
  ],
  /** Key and signature types (sshkey.c's keyimpls): also patterns match against these. */
  keyTypes: [
    'ssh-ed25519',
    'ssh-ed25519-cert-v01@openssh.com',
    'sk-ssh-ed25519@openssh.com',
    'sk-ssh-ed25519-cert-v01@openssh.com',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp256-cert-v01@openssh.com',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp384-cert-v01@openssh.com',
    'ecdsa-sha2-nistp521',
    'ecdsa-sha2-nistp521-cert-v01@openssh.com',
    'sk-ecdsa-sha2-nistp256@openssh.com',
    'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
    'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
    'ssh-dss',
    'ssh-dss-cert-v01@openssh.com',
    'ssh-rsa',
    'ssh-rsa-cert-v01@openssh.com',
    'rsa-sha2-256',
    'rsa-sha2-256-cert-v01@openssh.com',
    'rsa-sha2-512',
    'rsa-sha2-512-cert-v01@openssh.com',
  ],
  /** sshkey_type_from_name also takes the short names of plain key types, in any case. */
  keyShortNames: ['DSA', 'ECDSA-SK', 'ECDSA', 'ED25519-SK', 'ED25519', 'RSA'],
  /** Debian's GSSAPIKexAlgorithms: each name must start with one of these. */
  gssKex: [
    'gss-gex-sha1-',
    'gss-group1-sha1-',
    'gss-group14-sha1-',
    'gss-group14-sha256-',
    'gss-group16-sha512-',
    'gss-nistp256-sha256-',
    'gss-curve25519-sha256-',
  ],
};

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

export type AlgorithmList = 'ciphers' | 'macs' | 'kex' | 'keyTypes' | 'gssKex';

export type ValueKind =
  /** Anything (deprecated or unsupported options, commands). */
  | { type: 'any' }
  /** Some argument, even "" (ProxyJump, whose hops proxy-jump.ts checks). */
  | { type: 'present' }
  /** One non-empty argument. */
  | { type: 'string' | 'time' | 'int' }
  | { type: 'words'; words: readonly string[] }
  | { type: 'algorithms'; list: AlgorithmList; query: string }
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

const algorithms = (list: AlgorithmList, query: string, keywords: readonly string[]) =>
  keywords.map((keyword) => [keyword, { type: 'algorithms', list, query }] as [string, ValueKind]);

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
  ...algorithms('ciphers', 'cipher', ['ciphers']),
  ...algorithms('macs', 'mac', ['macs']),
  ...algorithms('kex', 'kex', ['kexalgorithms']),
  ...algorithms('keyTypes', 'key-sig', [
    'hostkeyalgorithms',
    'casignaturealgorithms',
    'hostbasedacceptedalgorithms',
    'hostbasedkeytypes',
    'pubkeyacceptedalgorithms',
    'pubkeyacceptedkeytypes',
  ]),
  ...algorithms('gssKex', 'kex-gss', ['gssapikexalgorithms']),
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
