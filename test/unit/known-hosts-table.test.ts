// Host-key checks as tables (issue 17): the key type a server's blob names, each character
// `svc trust` refuses in a host name, the anchors of known_hosts host patterns, and each reason a
// line is malformed. The blobs are synthetic wire-format strings (uint32 length, then the type):
// known-hosts.ts only reads the type and compares bytes, and the ssh-keygen-made keys of
// known-hosts.test.ts hold the real formats to OpenSSH.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  blobKeyType,
  fingerprintSha256,
  hostKeyMessage,
  keyTypeLabel,
  knownHostsLine,
  knownHostsName,
  knownHostsRecord,
  knownKeyTypes,
  parseKnownHosts,
  parseRevokedKeys,
  scanKnownHosts,
  verifyHostKey,
} from '../../src/core/known-hosts.js';

/** A wire-format blob: the type as an SSH string, then `body` (what tells keys apart). */
function blob(type: string, body = 'key-body', declared = Buffer.byteLength(type, 'latin1')) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(declared, 0);
  return Buffer.concat([head, Buffer.from(type, 'latin1'), Buffer.from(body, 'latin1')]);
}
const b64 = (key: Buffer) => key.toString('base64');
const ED1 = blob('ssh-ed25519', 'one');
const ED2 = blob('ssh-ed25519', 'two');
const RSA = blob('ssh-rsa', 'rsa');
const line = (hosts: string, key = ED1, type = 'ssh-ed25519') => `${hosts} ${type} ${b64(key)}`;

describe('blobKeyType: the type a presented key names, anchored', () => {
  it.each([
    ['ssh-ed25519', blob('ssh-ed25519'), 'ssh-ed25519'],
    ['one printable character', blob('x', ''), 'x'],
    ['the printable bounds ! and ~', blob('!~', ''), '!~'],
    ['a type of exactly 64 characters', blob('a'.repeat(64), ''), 'a'.repeat(64)],
    ['a type that fills the blob exactly', blob('ssh-rsa', ''), 'ssh-rsa'],
  ])('reads %s', (_, key, type) => {
    expect(blobKeyType(key)).toBe(type);
  });

  it.each([
    ['a newline after the type', blob('ssh-ed25519\n@revoked * ssh-ed25519')],
    ['a newline before the type', blob('\nssh-ed25519')],
    ['a newline alone', blob('\n')],
    ['a space inside', blob('ssh ed25519')],
    ['a leading space', blob(' ssh-ed25519')],
    ['a trailing space', blob('ssh-ed25519 ')],
    ['a tab', blob('ssh-ed25519\t')],
    ['a NUL', blob('ssh-ed25519\0')],
    ['DEL', blob('ssh-ed25519\x7f')],
    ['a Latin-1 byte', blob('ssh-\xe9d25519')],
    ['65 characters', blob('a'.repeat(65), '')],
    ['a zero length', blob('', 'body', 0)],
    ['a length past the end', blob('ssh-rsa', '', 8)],
    ['three bytes', Buffer.from([0, 0, 0])],
    ['nothing', Buffer.alloc(0)],
  ])('refuses %s', (_, key) => {
    expect(blobKeyType(key)).toBeUndefined();
  });

  it('a blob whose type is no type is "unknown" to verifyHostKey and refused by knownHostsLine', () => {
    const hostile = blob('ssh-ed25519\nevil.example.com ssh-ed25519');
    expect(verifyHostKey([], 'h', 22, hostile)).toEqual({
      kind: 'unknown',
      keyType: 'unknown',
      fingerprint: fingerprintSha256(hostile),
    });
    expect(() => knownHostsLine('h', 22, hostile)).toThrow(
      'knownHostsLine: not an SSH public key blob',
    );
  });
});

describe('knownHostsLine: what svc trust writes for a host', () => {
  it.each([
    ['web1.example.com', 22, 'web1.example.com'],
    ['Web1.Example.COM', 22, 'web1.example.com'],
    ['10.0.0.5', 2222, '[10.0.0.5]:2222'],
    ['::1', 22, '::1'],
    ['fe80::1', 2200, '[fe80::1]:2200'],
    ['x', 1, '[x]:1'],
  ])('%s port %i is written as %s', (host, port, name) => {
    expect(knownHostsLine(host, port, ED1)).toBe(`${name} ssh-ed25519 ${b64(ED1)}`);
  });

  const refused = [' ', '\t', '\n', '\r', '\v', '\f', ',', '*', '?', '!', '|', '@', '[', ']', '#'];
  it.each(refused.flatMap((c) => [`${c}host`, `ho${c}st`, `host${c}`]))(
    'refuses the host name %j',
    (host) => {
      expect(() => knownHostsLine(host, 22, ED1)).toThrow(
        `knownHostsLine: "${host}" is not a host name or address`,
      );
    },
  );

  it('refuses an empty host name', () => {
    expect(() => knownHostsLine('', 22, ED1)).toThrow('knownHostsLine: "" is not a host name');
  });
});

describe('knownHostsName and knownHostsRecord', () => {
  it.each([
    ['Host.Example', 22, undefined, 'host.example'],
    ['Host.Example', 2222, undefined, '[host.example]:2222'],
    ['Host.Example', 2222, 'Alias.Example', 'alias.example'],
    ['h', 22, 'A', 'a'],
  ])('%s:%i (alias %s) is looked up as %s', (host, port, alias, name) => {
    expect(knownHostsName(host, port, alias)).toBe(name);
  });

  it('writes the alias on port 22 when there is one, else host and port', () => {
    expect(knownHostsRecord('10.0.0.5', 2222, ED1)).toBe(`[10.0.0.5]:2222 ssh-ed25519 ${b64(ED1)}`);
    expect(knownHostsRecord('10.0.0.5', 2222, ED1, { alias: 'Web1' })).toBe(
      `web1 ssh-ed25519 ${b64(ED1)}`,
    );
  });

  it('hashes the looked-up name with the salt given, as ssh-keygen -H does', () => {
    const salt = Buffer.alloc(20, 7);
    const hash = (name: string) => createHmac('sha1', salt).update(name).digest('base64');
    expect(knownHostsRecord('Web1', 2222, ED1, { hashSalt: salt })).toBe(
      `|1|${salt.toString('base64')}|${hash('[web1]:2222')} ssh-ed25519 ${b64(ED1)}`,
    );
    const aliased = knownHostsRecord('10.0.0.5', 2222, ED1, { hashSalt: salt, alias: 'Web1' });
    expect(aliased).toBe(`|1|${salt.toString('base64')}|${hash('web1')} ssh-ed25519 ${b64(ED1)}`);
    const entries = parseKnownHosts(aliased, 'kh');
    expect(verifyHostKey(entries, '10.0.0.5', 2222, ED1, { alias: 'web1' }).kind).toBe('known');
    expect(verifyHostKey(entries, '10.0.0.5', 2222, ED1).kind).toBe('unknown');
  });
});

describe('host patterns: whole names only, * and ? as OpenSSH reads them', () => {
  // [pattern, name looked up, matches]
  it.each([
    ['plain.example.com', 'plain.example.com', true],
    ['plain.example.com', 'plain.example.com.evil.net', false],
    ['plain.example.com', 'evil.plain.example.com', false],
    ['plain.example.com', 'plainxexample.com', false],
    ['PLAIN.example.com', 'plain.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.example.com.evil', false],
    ['web?', 'web1', true],
    ['web?', 'web', false],
    ['web?', 'web12', false],
    ['*', 'anything', true],
    ['a*', 'a\nb', true],
    ['a?b', 'a\nb', true],
    ['[10.0.0.5]:2222', '[10.0.0.5]:2222', true],
    ['[10.0.0.5]:2222', '1', false],
    ['[10.0.0.5]:2222', '[10.0.0.5]:22222', false],
    ['a+', 'aa', false],
    ['a+', 'a+', true],
    ['(a|b)', 'a', false],
    ['a{2}', 'aa', false],
    ['a$b', 'a$b', true],
    ['^a', '^a', true],
    ['a\\d', 'a\\d', true],
    ['a\\d', 'a1', false],
    ['a/b', 'a/b', true],
    ['a-b', 'a-b', true],
  ])('%j against %j: %s', (pattern, name, matches) => {
    const entries = parseKnownHosts(line(pattern), 'kh');
    expect(entries).toHaveLength(1);
    expect(verifyHostKey(entries, name, 22, ED1).kind).toBe(matches ? 'known' : 'unknown');
  });

  it.each([
    ['!bad.example.com,*.example.com', 'bad.example.com', 'unknown'],
    ['*.example.com,!bad.example.com', 'bad.example.com', 'unknown'],
    ['*.example.com,!bad.example.com', 'good.example.com', 'known'],
    ['!bad.example.com', 'good.example.com', 'unknown'],
    ['!bad.example.com', 'bad.example.com', 'unknown'],
    ['a,b,c', 'c', 'known'],
  ])('%s for %s: %s', (hosts, name, kind) => {
    expect(verifyHostKey(parseKnownHosts(line(hosts), 'kh'), name, 22, ED1).kind).toBe(kind);
  });
});

describe('scanKnownHosts: each malformed line alone', () => {
  const salt = Buffer.alloc(20, 1).toString('base64');
  const hash = Buffer.alloc(20, 2).toString('base64');
  const short = Buffer.alloc(19, 3).toString('base64');
  const twenty = 'hashed host is not |1|salt|hash (20-byte salt and hash)';
  it.each([
    ['one field', 'garbage', 'expected hosts, key type and key'],
    ['two fields', 'host ssh-ed25519', 'expected hosts, key type and key'],
    ['a marker alone', '@revoked', 'expected hosts, key type and key'],
    ['an unknown marker', `@nonsense ${line('h')}`, 'unknown marker "@nonsense"'],
    ['an unknown marker, tab-separated', `@other\t${line('h')}`, 'unknown marker "@other\\th'],
    ['a marker ending at a tab', `@revoked\t${line('h')}`, 'unknown marker "@revoked\\th"'],
    ['a key that is not base64', 'h ssh-ed25519 not*base64', 'key is not base64'],
    ['base64 of a wrong length', 'h ssh-ed25519 QUJD', 'key is not of type ssh-ed25519'],
    ['unpadded base64', 'h ssh-ed25519 QUJDRA', 'key is not base64'],
    ['base64 after a bad first character', 'h ssh-ed25519 *AAA', 'key is not base64'],
    ['base64 before a bad last character', 'h ssh-ed25519 AAA*', 'key is not base64'],
    ['padding inside', 'h ssh-ed25519 AA=A', 'key is not base64'],
    ['three padding characters', 'h ssh-ed25519 A===', 'key is not base64'],
    ['a key of another type', line('h', ED1, 'ssh-rsa'), 'key is not of type ssh-rsa'],
    ['a hashed host without hash', `|1|${salt} ssh-ed25519 ${b64(ED1)}`, twenty],
    ['a hashed host with a third part', `|1|${salt}|${hash}|x ssh-ed25519 ${b64(ED1)}`, twenty],
    ['a 19-byte salt', `|1|${short}|${hash} ssh-ed25519 ${b64(ED1)}`, twenty],
    ['a 19-byte hash', `|1|${salt}|${short} ssh-ed25519 ${b64(ED1)}`, twenty],
    ['a salt that is not base64', `|1|*|${hash} ssh-ed25519 ${b64(ED1)}`, twenty],
  ])('%s', (_, text, reason) => {
    const scanned = scanKnownHosts(`# c\n${text}\n`, 'kh');
    expect(scanned.entries).toEqual([]);
    expect(scanned.malformed).toHaveLength(1);
    expect(scanned.malformed[0]!.file).toBe('kh');
    expect(scanned.malformed[0]!.line).toBe(2);
    expect(scanned.malformed[0]!.reason.startsWith(reason)).toBe(true);
  });

  it.each([
    ['a comment', '# h ssh-ed25519 AAAA'],
    ['an indented comment', '   # x'],
    ['a blank line', '   '],
    ['a CR alone', '\r'],
  ])('skips %s', (_, text) => {
    expect(scanKnownHosts(text, 'kh')).toEqual({ entries: [], malformed: [] });
  });

  it('reads a whole entry: markers, comment field, CRLF, tabs and surrounding blanks', () => {
    const text = [
      `  ${line('a')} a comment here  `,
      `@revoked  b ssh-rsa ${b64(RSA)}\r`,
      `@cert-authority *.c\tssh-ed25519\t${b64(ED2)}`,
      `|1|${Buffer.alloc(20, 1).toString('base64')}|${Buffer.alloc(20, 2).toString('base64')} ssh-ed25519 ${b64(ED1)}`,
    ].join('\n');
    const { entries, malformed } = scanKnownHosts(text, 'kh');
    expect(malformed).toEqual([]);
    expect(entries).toEqual([
      {
        file: 'kh',
        line: 1,
        hosts: { kind: 'patterns', patterns: [{ pattern: 'a', negated: false }] },
        keyType: 'ssh-ed25519',
        key: ED1,
      },
      {
        file: 'kh',
        line: 2,
        marker: 'revoked',
        hosts: { kind: 'patterns', patterns: [{ pattern: 'b', negated: false }] },
        keyType: 'ssh-rsa',
        key: RSA,
      },
      {
        file: 'kh',
        line: 3,
        marker: 'cert-authority',
        hosts: { kind: 'patterns', patterns: [{ pattern: '*.c', negated: false }] },
        keyType: 'ssh-ed25519',
        key: ED2,
      },
      {
        file: 'kh',
        line: 4,
        hosts: { kind: 'hashed', salt: Buffer.alloc(20, 1), hash: Buffer.alloc(20, 2) },
        keyType: 'ssh-ed25519',
        key: ED1,
      },
    ]);
    expect(entries[0]).not.toHaveProperty('marker');
  });

  it('takes runs of blanks between fields as one', () => {
    const [entry] = parseKnownHosts(`h  \t ssh-ed25519 \t  ${b64(ED1)}   comment`, 'kh');
    expect(entry!.keyType).toBe('ssh-ed25519');
    expect(entry!.key).toEqual(ED1);
  });

  it('ends a marker at a tab only when the line has no space', () => {
    const [entry] = parseKnownHosts(`@revoked\th\tssh-ed25519\t${b64(ED1)}`, 'kh');
    expect(entry!.marker).toBe('revoked');
    expect(entry!.hosts).toEqual({
      kind: 'patterns',
      patterns: [{ pattern: 'h', negated: false }],
    });
  });

  it('reads negated patterns without their !', () => {
    const [entry] = parseKnownHosts(line('!a,b,!'), 'kh');
    expect(entry!.hosts).toEqual({
      kind: 'patterns',
      patterns: [
        { pattern: 'a', negated: true },
        { pattern: 'b', negated: false },
        { pattern: '', negated: true },
      ],
    });
  });
});

describe('parseRevokedKeys', () => {
  it('reads each key line as @revoked for every host, skipping comments and blanks', () => {
    const text = `# old keys\n\nssh-ed25519 ${b64(ED1)} lost laptop\r\n  \nssh-rsa ${b64(RSA)}\n`;
    const { entries, malformed } = parseRevokedKeys(text, 'revoked');
    expect(malformed).toEqual([]);
    expect(entries.map((e) => [e.line, e.marker, e.keyType, e.hosts])).toEqual([
      [
        3,
        'revoked',
        'ssh-ed25519',
        { kind: 'patterns', patterns: [{ pattern: '*', negated: false }] },
      ],
      [5, 'revoked', 'ssh-rsa', { kind: 'patterns', patterns: [{ pattern: '*', negated: false }] }],
    ]);
    expect(verifyHostKey(entries, 'any.example.com', 22, ED1).kind).toBe('revoked');
  });

  it('names a line that is not a key', () => {
    expect(parseRevokedKeys('ssh-ed25519\n', 'revoked').malformed).toEqual([
      { file: 'revoked', line: 1, reason: 'expected hosts, key type and key' },
    ]);
  });
});

describe('verifyHostKey: the verdicts', () => {
  const kh = (lines: string[]) => parseKnownHosts(lines.join('\n'), 'kh');

  it.each([
    ['the exact key', [line('h')], 'h', 22, ED1, 'known'],
    ['another key of the type', [line('h')], 'h', 22, ED2, 'changed'],
    ['a key of another type', [line('h')], 'h', 22, RSA, 'changed'],
    ['nothing for the host', [line('other')], 'h', 22, ED1, 'unknown'],
    [
      'a revoked key, also known',
      [line('h'), `@revoked * ssh-ed25519 ${b64(ED1)}`],
      'h',
      22,
      ED1,
      'revoked',
    ],
    [
      'another host revoked',
      [line('h'), `@revoked x ssh-ed25519 ${b64(ED1)}`],
      'h',
      22,
      ED1,
      'known',
    ],
    [
      'a revoked other key',
      [line('h'), `@revoked * ssh-ed25519 ${b64(ED2)}`],
      'h',
      22,
      ED1,
      'known',
    ],
    [
      'a cert-authority key only',
      [`@cert-authority h ssh-ed25519 ${b64(ED1)}`],
      'h',
      22,
      ED1,
      'unknown',
    ],
    [
      'a cert-authority key and another',
      [`@cert-authority h ssh-ed25519 ${b64(ED1)}`],
      'h',
      22,
      ED2,
      'unknown',
    ],
    ['same bytes, other type on the line', [line('h', ED1)], 'h', 22, ED1, 'known'],
    ['[h]:2222 entry', [line('[h]:2222')], 'h', 2222, ED1, 'known'],
    ['[h]:2222 entry, port 22', [line('[h]:2222')], 'h', 22, ED1, 'unknown'],
    ['port-less entry, port 2222, this key', [line('h')], 'h', 2222, ED1, 'known'],
    ['port-less entry, port 2222, another key', [line('h')], 'h', 2222, ED2, 'unknown'],
    [
      '[h]:2222 other key, port-less this key',
      [line('[h]:2222', ED2), line('h')],
      'h',
      2222,
      ED1,
      'changed',
    ],
  ] as const)('%s: %s', (_, lines, host, port, key, kind) => {
    expect(verifyHostKey(kh([...lines]), host, port, key).kind).toBe(kind);
  });

  it('names the known entry, and every conflicting line in file order', () => {
    const entries = kh([line('h', RSA, 'ssh-rsa'), line('x'), line('h', ED2), line('h')]);
    expect(verifyHostKey(entries, 'h', 22, ED1)).toEqual({ kind: 'known', entry: entries[3] });
    expect(verifyHostKey(entries, 'H', 22, blob('ssh-ed25519', 'three'))).toEqual({
      kind: 'changed',
      keyType: 'ssh-ed25519',
      fingerprint: fingerprintSha256(blob('ssh-ed25519', 'three')),
      conflicts: [
        { file: 'kh', line: 1, keyType: 'ssh-rsa' },
        { file: 'kh', line: 3, keyType: 'ssh-ed25519' },
        { file: 'kh', line: 4, keyType: 'ssh-ed25519' },
      ],
    });
  });

  it('an alias is looked up alone, never port-less', () => {
    const entries = kh([line('web1')]);
    expect(verifyHostKey(entries, '10.0.0.5', 2222, ED1, { alias: 'Web1' }).kind).toBe('known');
    expect(verifyHostKey(entries, 'web1', 2222, ED1, { alias: 'other' }).kind).toBe('unknown');
  });

  it('revoked names the entry, the fingerprint and the type', () => {
    const entries = kh([`@revoked * ssh-rsa ${b64(RSA)}`]);
    expect(verifyHostKey(entries, 'h', 22, RSA)).toEqual({
      kind: 'revoked',
      entry: entries[0],
      fingerprint: fingerprintSha256(RSA),
      keyType: 'ssh-rsa',
    });
  });
});

describe('knownKeyTypes', () => {
  const kh = (lines: string[]) => parseKnownHosts(lines.join('\n'), 'kh');
  it.each([
    ['none', [], []],
    ['one type', [line('h')], ['ssh-ed25519']],
    [
      'file order, once each',
      [line('h', RSA, 'ssh-rsa'), line('h'), line('h', ED2)],
      ['ssh-rsa', 'ssh-ed25519'],
    ],
    ['other hosts left out', [line('x', RSA, 'ssh-rsa'), line('h')], ['ssh-ed25519']],
    ['a revoked key left out', [line('h'), `@revoked * ssh-ed25519 ${b64(ED1)}`], []],
    ['another key revoked', [line('h'), `@revoked * ssh-ed25519 ${b64(ED2)}`], ['ssh-ed25519']],
    ['cert-authority left out', [`@cert-authority h ssh-rsa ${b64(RSA)}`], []],
  ] as const)('%s', (_, lines, types) => {
    expect(knownKeyTypes(kh([...lines]), 'h', 22)).toEqual(types);
  });

  it('looks up [host]:port, or the alias', () => {
    const entries = kh([line('[h]:2222'), line('alias', RSA, 'ssh-rsa')]);
    expect(knownKeyTypes(entries, 'h', 2222)).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, 'h', 22)).toEqual([]);
    expect(knownKeyTypes(entries, 'h', 2222, { alias: 'ALIAS' })).toEqual(['ssh-rsa']);
  });
});

describe('keyTypeLabel and fingerprintSha256', () => {
  it.each([
    ['ssh-ed25519', 'ED25519'],
    ['ssh-rsa', 'RSA'],
    ['ssh-dss', 'DSA'],
    ['ecdsa-sha2-nistp256', 'ECDSA'],
    ['ecdsa-sha2-nistp384', 'ECDSA'],
    ['ecdsa-sha2-nistp521', 'ECDSA'],
    ['sk-ssh-ed25519@openssh.com', 'ED25519-SK'],
    ['sk-ecdsa-sha2-nistp256@openssh.com', 'ECDSA-SK'],
    ['unknown', 'unknown'],
    ['toString', 'toString'],
    ['constructor', 'constructor'],
  ])('%s is shown as %s', (type, label) => {
    expect(keyTypeLabel(type)).toBe(label);
  });

  it('drops only the padding of the base64 SHA-256', () => {
    // sha256('') in base64: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
    expect(fingerprintSha256(Buffer.alloc(0))).toBe(
      'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    );
  });
});

describe('hostKeyMessage: each verdict in one line', () => {
  const kh = (lines: string[], file = '/home/me/.ssh/known_hosts') =>
    parseKnownHosts(lines.join('\n'), file);
  const fp = (key: Buffer) => fingerprintSha256(key);

  it('known (no words needed, but exact)', () => {
    const verdict = verifyHostKey(kh([line('h')]), 'h', 22, ED1);
    expect(hostKeyMessage(verdict, 'h', 22, { home: '/home/me' })).toBe(
      'host key of h is known (~/.ssh/known_hosts:1)',
    );
  });

  it.each([
    ['h', 22, undefined, 'h'],
    ['h', 2222, undefined, 'h:2222'],
    ['fe80::1', 2222, undefined, '[fe80::1]:2222'],
    ['fe80::1', 22, undefined, 'fe80::1'],
    ['h', 2222, 'web1', 'web1'],
  ])('unknown %s:%i names what to run (target %s)', (host, port, target, shownTarget) => {
    const verdict = verifyHostKey([], host, port, RSA);
    const shown = port === 22 ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    expect(hostKeyMessage(verdict, host, port, target === undefined ? {} : { target })).toBe(
      `host key of ${shown} is unknown (RSA ${fp(RSA)}): check it, then run svc trust ${shownTarget} or pass --accept-new`,
    );
  });

  it('shows a file outside the home as it is, and one only beginning like the home too', () => {
    const verdict = verifyHostKey(kh([line('h')], '/home/mex/known_hosts'), 'h', 22, ED2);
    expect(hostKeyMessage(verdict, 'h', 22, { home: '/home/me' })).toContain(
      '; /home/mex/known_hosts:1 has another)',
    );
    expect(hostKeyMessage(verdict, 'h', 22)).toContain('; /home/mex/known_hosts:1 has another)');
  });

  it('changed: one line, or several, with the other types named once', () => {
    const one = verifyHostKey(kh([line('h')]), 'h', 22, ED2);
    expect(hostKeyMessage(one, 'h', 22, { home: '/home/me' })).toBe(
      `HOST KEY OF h HAS CHANGED (now ED25519 ${fp(ED2)}; ~/.ssh/known_hosts:1 has another): possible man-in-the-middle; refusing to connect. If the change is expected, remove that line and run svc trust h`,
    );
    const several = verifyHostKey(
      kh([line('h', RSA, 'ssh-rsa'), line('h'), line('h', blob('ssh-rsa', 'r2'), 'ssh-rsa')]),
      'h',
      2222,
      ED2,
    );
    expect(several.kind).toBe('unknown');
    const three = verifyHostKey(
      kh([line('h', RSA, 'ssh-rsa'), line('h'), line('h', blob('ssh-rsa', 'r2'), 'ssh-rsa')]),
      'h',
      22,
      ED2,
    );
    expect(hostKeyMessage(three, 'h', 22, { home: '/home/me', target: 'web' })).toBe(
      `HOST KEY OF h HAS CHANGED (now ED25519 ${fp(ED2)}; ~/.ssh/known_hosts:1, ~/.ssh/known_hosts:2, ~/.ssh/known_hosts:3 (RSA) have another): possible man-in-the-middle; refusing to connect. If the change is expected, remove those lines and run svc trust web`,
    );
  });

  it('revoked', () => {
    const verdict = verifyHostKey(kh([`@revoked * ssh-rsa ${b64(RSA)}`]), 'h', 2222, RSA);
    expect(hostKeyMessage(verdict, 'h', 2222, { home: '/home/me' })).toBe(
      `host key of h:2222 (RSA ${fp(RSA)}) is REVOKED (~/.ssh/known_hosts:1): refusing to connect`,
    );
  });
});
