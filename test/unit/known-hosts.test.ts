// Host-key verification, checked against OpenSSH's own tools: keys from ssh-keygen, hashed entries
// made by `ssh-keygen -H`, fingerprints compared with `ssh-keygen -lf`, and the lines svc appends
// found by `ssh-keygen -F`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fingerprintSha256,
  hostKeyMessage,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
  parseRevokedKeys,
  scanKnownHosts,
  verifyHostKey,
  type KnownHostEntry,
} from '../../src/core/known-hosts.js';
import {
  appendKnownHost,
  defaultKnownHostsFiles,
  loadKnownHosts,
  readKnownHostsFiles,
} from '../../src/remote/known-hosts-store.js';

// Made in beforeAll, so a failure there fails every test instead of skipping the file's tests.
let dir: string;
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface Key {
  pubFile: string;
  /** `type base64` as in a .pub file, without the comment. */
  text: string;
  blob: Buffer;
}

function makeKey(name: string, type: string, bits?: number): Key {
  const file = join(dir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    name,
    '-f',
    file,
  ]);
  const [keyType, base64] = readFileSync(`${file}.pub`, 'utf8').split(' ');
  return {
    pubFile: `${file}.pub`,
    text: `${keyType} ${base64}`,
    blob: Buffer.from(base64!, 'base64'),
  };
}

let ed1: Key, ed2: Key, ed3: Key, ecdsa: Key, rsa: Key, revoked: Key;
let entries: KnownHostEntry[];
let fixtureText: string;
let hashedLines: string[];
const FILE = '/home/me/.ssh/known_hosts';

/** Line numbers of the fixture below, by name. */
const L = {
  plain: 3,
  wild: 4,
  port: 5,
  multiEd1: 6,
  multiEcdsa: 7,
  multiEd2: 8,
  rsaOnly: 9,
  revoked: 10,
  ca: 11,
  garbage: 12,
  badMarker: 13,
  typeMismatch: 14,
  question: 15,
  hashed22: 16,
  hashed2200: 17,
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-known-hosts-'));
  ed1 = makeKey('ed1', 'ed25519');
  ed2 = makeKey('ed2', 'ed25519');
  ed3 = makeKey('ed3', 'ed25519');
  ecdsa = makeKey('ecdsa', 'ecdsa', 256);
  rsa = makeKey('rsa', 'rsa', 2048);
  revoked = makeKey('revoked', 'ed25519');

  // Hashed entries made by OpenSSH itself.
  const toHash = join(dir, 'to-hash');
  writeFileSync(toHash, `hashed.example.com ${ed1.text}\n[hashed.example.com]:2200 ${ed2.text}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', toHash], { stdio: 'ignore' });
  hashedLines = readFileSync(toHash, 'utf8').trim().split('\n');

  const text = [
    '# known hosts',
    '',
    `plain.example.com,10.0.0.5 ${ed1.text} a comment`,
    `*.wild.example.com,!bad.wild.example.com ${ed1.text}`,
    `[port.example.com]:2222 ${ed1.text}`,
    `multi.example.com ${ed1.text}`,
    `multi.example.com ${ecdsa.text}`,
    `multi.example.com ${ed2.text}`,
    `rsaonly.example.com ${rsa.text}`,
    `@revoked * ${revoked.text}`,
    `@cert-authority *.ca.example.com ${ed1.text}`,
    'garbage',
    `@nonsense host.example.com ${ed1.text}`,
    `mismatch.example.com ssh-rsa ${ed1.text.split(' ')[1]}`,
    `q?.example.com ${ed1.text}`,
    ...hashedLines,
  ].join('\n');
  fixtureText = `${text}\n`;
});

// Parsed in each test, not in beforeAll: what runs outside a test counts for every test (a mutation
// run then runs the whole suite for each such mutant), and a parse error fails the test it breaks.
beforeEach(() => {
  entries = parseKnownHosts(fixtureText, FILE);
});

describe('parseKnownHosts', () => {
  it('keeps file and line of every key entry, and skips comments, blanks and malformed lines', () => {
    expect(entries.map((entry) => entry.line)).toEqual([
      L.plain,
      L.wild,
      L.port,
      L.multiEd1,
      L.multiEcdsa,
      L.multiEd2,
      L.rsaOnly,
      L.revoked,
      L.ca,
      L.question,
      L.hashed22,
      L.hashed2200,
    ]);
    expect(entries.every((entry) => entry.file === FILE)).toBe(true);
    expect(entries.find((e) => e.line === L.revoked)?.marker).toBe('revoked');
    expect(entries.find((e) => e.line === L.ca)?.marker).toBe('cert-authority');
    expect(entries.find((e) => e.line === L.hashed22)?.hosts.kind).toBe('hashed');
  });

  it('reports malformed lines with file, line and why', () => {
    const text = [
      'garbage',
      `@nonsense h ${ed1.text}`,
      `h ssh-rsa ${ed1.text.split(' ')[1]}`,
      'h ssh-ed25519 not*base64',
      `|1|bad|hash ${ed1.text}`,
      `a,,b ${ed1.text}`,
      `ok.example.com ${ed1.text}`,
      `@revoked\th ${ed1.text}`,
      `|1|${Buffer.alloc(16).toString('base64')}|${Buffer.alloc(20).toString('base64')} ${ed1.text}`,
    ].join('\r\n');
    const { entries: good, malformed } = scanKnownHosts(text, 'kh');
    expect(good.map((e) => e.line)).toEqual([6, 7]);
    const twenty = 'hashed host is not |1|salt|hash (20-byte salt and hash)';
    expect(malformed).toEqual([
      { file: 'kh', line: 1, reason: 'expected hosts, key type and key' },
      { file: 'kh', line: 2, reason: 'unknown marker "@nonsense"' },
      { file: 'kh', line: 3, reason: 'key is not of type ssh-rsa' },
      { file: 'kh', line: 4, reason: 'key is not base64' },
      { file: 'kh', line: 5, reason: twenty },
      // The marker runs to the first space, as in hostfile.c: "@revoked<TAB>h" is no marker.
      { file: 'kh', line: 8, reason: 'unknown marker "@revoked\\th"' },
      { file: 'kh', line: 9, reason: twenty },
    ]);
  });

  it('skips an empty host pattern but keeps the line: a pinned key stays pinned', () => {
    for (const hosts of ['a,,b', 'b,', ',b', '!,b']) {
      const pinned = parseKnownHosts(`${hosts} ${ed1.text}\n`, 'kh');
      expect(verifyHostKey(pinned, 'b', 22, ed2.blob).kind, hosts).toBe('changed');
      expect(verifyHostKey(pinned, 'b', 22, ed1.blob).kind, hosts).toBe('known');
    }
  });

  it('reads RevokedHostKeys lines that are not keys as malformed (the caller refuses)', () => {
    const { entries: keys, malformed } = parseRevokedKeys(
      `# revoked\n${ed1.text} old\nnot a key\n`,
      'rk',
    );
    expect(keys.map((e) => [e.line, e.marker])).toEqual([[2, 'revoked']]);
    expect(malformed.map((m) => m.line)).toEqual([3]);
  });
});

describe('verifyHostKey', () => {
  const verdict = (host: string, port: number, key: Key) =>
    verifyHostKey(entries, host, port, key.blob);
  const knownAt = (host: string, port: number, key: Key) => {
    const result = verdict(host, port, key);
    return result.kind === 'known' ? result.entry.line : result.kind;
  };

  it('finds plain entries, by any name on the line, case-insensitively', () => {
    expect(knownAt('plain.example.com', 22, ed1)).toBe(L.plain);
    expect(knownAt('10.0.0.5', 22, ed1)).toBe(L.plain);
    expect(knownAt('PLAIN.Example.COM', 22, ed1)).toBe(L.plain);
  });

  it('looks up [host]:port for any port but 22, then the port-less name for that very key', () => {
    expect(knownAt('port.example.com', 2222, ed1)).toBe(L.port);
    expect(knownAt('port.example.com', 22, ed1)).toBe('unknown');
    // Nothing under [plain.example.com]:2222: ssh 9.2 checks "without port identifier".
    expect(knownAt('plain.example.com', 2222, ed1)).toBe(L.plain);
    expect(knownAt('plain.example.com', 2222, ed2)).toBe('unknown');
    expect(verifyHostKey(entries, 'plain.example.com', 2222, ed1.blob, { alias: 'x' }).kind).toBe(
      'unknown',
    );
  });

  it('honours * and ? wildcards and ! negation', () => {
    expect(knownAt('a.wild.example.com', 22, ed1)).toBe(L.wild);
    expect(knownAt('x.y.wild.example.com', 22, ed1)).toBe(L.wild);
    expect(knownAt('bad.wild.example.com', 22, ed1)).toBe('unknown');
    expect(knownAt('wild.example.com', 22, ed1)).toBe('unknown');
    expect(knownAt('q1.example.com', 22, ed1)).toBe(L.question);
    expect(knownAt('q.example.com', 22, ed1)).toBe('unknown');
    expect(knownAt('q12.example.com', 22, ed1)).toBe('unknown');
  });

  it('checks hashed entries made by ssh-keygen -H (HMAC-SHA1 of host or [host]:port)', () => {
    expect(hashedLines.every((line) => line.startsWith('|1|'))).toBe(true);
    expect(knownAt('hashed.example.com', 22, ed1)).toBe(L.hashed22);
    expect(knownAt('hashed.example.com', 2200, ed2)).toBe(L.hashed2200);
    expect(knownAt('other.example.com', 22, ed1)).toBe('unknown');
    expect(verdict('hashed.example.com', 22, ed3)).toEqual({
      kind: 'changed',
      fingerprint: fingerprintSha256(ed3.blob),
      keyType: 'ssh-ed25519',
      conflicts: [{ file: FILE, line: L.hashed22, keyType: 'ssh-ed25519' }],
    });
  });

  it('accepts any of several keys for a host, and calls any other key a change', () => {
    expect(knownAt('multi.example.com', 22, ed1)).toBe(L.multiEd1);
    expect(knownAt('multi.example.com', 22, ed2)).toBe(L.multiEd2);
    expect(knownAt('multi.example.com', 22, ecdsa)).toBe(L.multiEcdsa);
    expect(verdict('multi.example.com', 22, ed3)).toEqual({
      kind: 'changed',
      fingerprint: fingerprintSha256(ed3.blob),
      keyType: 'ssh-ed25519',
      conflicts: expect.arrayContaining([
        { file: FILE, line: L.multiEd1, keyType: 'ssh-ed25519' },
        { file: FILE, line: L.multiEd2, keyType: 'ssh-ed25519' },
        { file: FILE, line: L.multiEcdsa, keyType: 'ecdsa-sha2-nistp256' },
      ]),
    });
  });

  it('refuses a changed key, naming the line', () => {
    expect(verdict('plain.example.com', 22, ed2)).toEqual({
      kind: 'changed',
      fingerprint: fingerprintSha256(ed2.blob),
      keyType: 'ssh-ed25519',
      conflicts: [{ file: FILE, line: L.plain, keyType: 'ssh-ed25519' }],
    });
  });

  it('calls a key of a type the host has no entry for a change, as OpenSSH does (never new)', () => {
    expect(verdict('rsaonly.example.com', 22, ed1)).toEqual({
      kind: 'changed',
      fingerprint: fingerprintSha256(ed1.blob),
      keyType: 'ssh-ed25519',
      conflicts: [{ file: FILE, line: L.rsaOnly, keyType: 'ssh-rsa' }],
    });
    expect(verdict('plain.example.com', 22, ecdsa).kind).toBe('changed');
    expect(knownAt('rsaonly.example.com', 22, rsa)).toBe(L.rsaOnly);
  });

  it('refuses a @revoked key whatever else says', () => {
    const result = verdict('anything.example.com', 22, revoked);
    expect(result.kind).toBe('revoked');
    expect(result.kind === 'revoked' && result.entry.line).toBe(L.revoked);
  });

  it('does not take a @cert-authority key as the host key', () => {
    expect(knownAt('host.ca.example.com', 22, ed1)).toBe('unknown');
  });

  it('knows nothing with no entries', () => {
    expect(verifyHostKey([], 'plain.example.com', 22, ed1.blob)).toEqual({
      kind: 'unknown',
      fingerprint: fingerprintSha256(ed1.blob),
      keyType: 'ssh-ed25519',
    });
  });
});

describe('knownKeyTypes', () => {
  it('lists the key types recorded for a host, once each, in file order', () => {
    expect(knownKeyTypes(entries, 'multi.example.com', 22)).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
    ]);
    expect(knownKeyTypes(entries, 'rsaonly.example.com', 22)).toEqual(['ssh-rsa']);
    expect(knownKeyTypes(entries, 'host.ca.example.com', 22)).toEqual([]);
    expect(knownKeyTypes(entries, 'hashed.example.com', 2200)).toEqual(['ssh-ed25519']);
  });
});

describe('fingerprintSha256', () => {
  it.each(['ed1', 'ecdsa', 'rsa'])('equals ssh-keygen -lf for %s', (name) => {
    const key = { ed1, ecdsa, rsa }[name]!;
    const fromOpenSsh = execFileSync('ssh-keygen', ['-lf', key.pubFile], { encoding: 'utf8' });
    expect(fromOpenSsh.split(' ')[1]).toBe(fingerprintSha256(key.blob));
  });
});

describe('knownHostsLine', () => {
  it('writes host or [host]:port lines that ssh-keygen -F finds and parseKnownHosts verifies', () => {
    const file = join(dir, 'appended');
    const lines = [
      knownHostsLine('New.Example.com', 22, ed1.blob),
      knownHostsLine('10.1.2.3', 2222, ecdsa.blob),
      knownHostsLine('::1', 2222, rsa.blob),
    ];
    expect(lines[0]).toBe(`new.example.com ${ed1.text}`);
    expect(lines[1]).toBe(`[10.1.2.3]:2222 ${ecdsa.text}`);
    expect(lines[2]).toBe(`[::1]:2222 ${rsa.text}`);
    writeFileSync(file, lines.join('\n') + '\n');
    for (const [name, line] of [
      ['new.example.com', 1],
      ['[10.1.2.3]:2222', 2],
      ['[::1]:2222', 3],
    ] as const) {
      const found = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
      expect(found.status, name).toBe(0);
      expect(found.stdout).toContain(`found: line ${line}`);
    }
    const parsed = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(verifyHostKey(parsed, '10.1.2.3', 2222, ecdsa.blob).kind).toBe('known');
    expect(verifyHostKey(parsed, '::1', 2222, rsa.blob).kind).toBe('known');
  });

  it('refuses what is not a host name or a key', () => {
    expect(() => knownHostsLine('*.example.com', 22, ed1.blob)).toThrow(/not a host name/);
    expect(() => knownHostsLine('a b', 22, ed1.blob)).toThrow(/not a host name/);
    expect(() => knownHostsLine('h', 22, Buffer.from('junk'))).toThrow(/not an SSH public key/);
  });
});

describe('hostKeyMessage', () => {
  it('says what to do about an unknown key', () => {
    const fp = fingerprintSha256(ed1.blob);
    expect(hostKeyMessage(verifyHostKey([], '10.0.0.5', 22, ed1.blob), '10.0.0.5', 22)).toBe(
      `host key of 10.0.0.5 is unknown (ED25519 ${fp}): check it, then run svc trust 10.0.0.5 or pass --accept-new`,
    );
  });

  it('shouts about a changed key and names the line', () => {
    const fp = fingerprintSha256(ed2.blob);
    const changed = verifyHostKey(entries, 'plain.example.com', 22, ed2.blob);
    expect(hostKeyMessage(changed, 'plain.example.com', 22, { home: '/home/me' })).toBe(
      `HOST KEY OF plain.example.com HAS CHANGED (now ED25519 ${fp}; ~/.ssh/known_hosts:${L.plain} has another): possible man-in-the-middle; refusing to connect. If the change is expected, remove that line and run svc trust plain.example.com`,
    );
    const rsaOnly = verifyHostKey(entries, 'rsaonly.example.com', 22, ed1.blob);
    expect(hostKeyMessage(rsaOnly, 'rsaonly.example.com', 22, { home: '/home/me' })).toContain(
      `~/.ssh/known_hosts:${L.rsaOnly} (RSA) has another`,
    );
    const two = verifyHostKey(entries, 'multi.example.com', 2222, ed3.blob);
    expect(two.kind).toBe('unknown');
    const both = verifyHostKey(entries, 'multi.example.com', 22, ed3.blob);
    expect(hostKeyMessage(both, 'multi.example.com', 22)).toContain(
      ` have another): possible man-in-the-middle; refusing to connect. If the change is expected, remove those lines and run svc trust multi.example.com`,
    );
  });

  it('refuses a revoked key and writes [host]:port targets', () => {
    const result = verifyHostKey(entries, '::1', 2222, revoked.blob);
    expect(hostKeyMessage(result, '::1', 2222)).toBe(
      `host key of [::1]:2222 (ED25519 ${fingerprintSha256(revoked.blob)}) is REVOKED (${FILE}:${L.revoked}): refusing to connect`,
    );
  });
});

describe('known_hosts files on disk', () => {
  it('reads the files that exist, in order, and reports malformed lines', () => {
    const a = join(dir, 'a');
    writeFileSync(a, `one.example.com ${ed1.text}\nbroken\n`);
    const b = join(dir, 'b');
    writeFileSync(b, `two.example.com ${ed2.text}\n`);
    const read = readKnownHostsFiles([join(dir, 'missing'), a, b]);
    expect(read.entries.map((e) => [e.file, e.line])).toEqual([
      [a, 1],
      [b, 1],
    ]);
    expect(read.malformed).toEqual([
      { file: a, line: 2, reason: 'expected hosts, key type and key' },
    ]);
    expect(loadKnownHosts([join(dir, 'missing')])).toEqual([]);
  });

  it('defaults to ~/.ssh/known_hosts and the sandbox known_hosts', () => {
    expect(defaultKnownHostsFiles({ SVC_SANDBOX_DIR: '/s' }, '/home/me')).toEqual([
      '/home/me/.ssh/known_hosts',
      '/s/known_hosts',
    ]);
  });

  it('creates ~/.ssh (0700) and known_hosts (0600), and appends whole lines', () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const file = join(home, '.ssh', 'known_hosts');
    appendKnownHost(file, knownHostsLine('one.example.com', 22, ed1.blob));
    expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, readFileSync(file, 'utf8') + '# no newline at the end', { flag: 'w' });
    appendKnownHost(file, knownHostsLine('two.example.com', 2222, ed2.blob));
    expect(readFileSync(file, 'utf8')).toBe(
      `one.example.com ${ed1.text}\n# no newline at the end\n[two.example.com]:2222 ${ed2.text}\n`,
    );
    const found = spawnSync('ssh-keygen', ['-F', '[two.example.com]:2222', '-f', file]);
    expect(found.status).toBe(0);
    expect(verifyHostKey(loadKnownHosts([file]), 'two.example.com', 2222, ed2.blob).kind).toBe(
      'known',
    );
  });
});
