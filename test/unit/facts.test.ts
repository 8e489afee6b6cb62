// The fact script, run by a real sh against a scratch tree, and its strict parser.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIGESTED_FACTS_FILTER,
  digestedFacts,
  factsDigest,
  FACTS_VERSION,
  factScript,
  type FactRequest,
} from '../../src/core/facts.js';
import { FactsError, parseFacts } from '../../src/core/facts-parse.js';
import { shellQuote as q } from '../../src/core/quote.js';
import { sha256Hex } from '../../src/core/release.js';

// Everything is made in beforeAll: a failure there fails the tests rather than skipping them.
let root: string;
let request: FactRequest;
let output: string;
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/**
 * The fact script with its init detection (PID 1, /run/systemd, initctl) replaced by a fixed
 * answer, so what these tests see does not depend on the machine they run on (with systemd the
 * script would also ask systemctl about the service).
 */
const INIT_DETECTION = /^comm=\n[\s\S]*?^else init=none; fi\n/m;
function script(request: FactRequest, init = 'none'): string {
  const text = factScript(request);
  if (!INIT_DETECTION.test(text))
    throw new Error('the fact script no longer detects init as expected');
  return text.replace(INIT_DETECTION, `init=${init}\n`);
}

const run = (text: string) => execFileSync('sh', ['-s'], { input: text, encoding: 'utf8' });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-facts-'));
  mkdirSync(join(root, 'dir with space'), { mode: 0o750 });
  writeFileSync(join(root, 'file'), 'old content\n', { mode: 0o640 });
  writeFileSync(join(root, "it's $(secret)"), 'SECRET=1\n', { mode: 0o600 });
  symlinkSync('/etc/shadow\nx', join(root, 'link'));
  symlinkSync('releases/abc123', join(root, 'plain-link'));
  symlinkSync('ends-with-newline\n', join(root, 'newline-link'));
  request = {
    service: 'api-orders',
    loginUser: login,
    paths: [
      { path: join(root, 'dir with space') },
      { path: join(root, 'file'), compareWith: sha256Hex('new content\n') },
      { path: join(root, "it's $(secret)") },
      { path: join(root, 'link') },
      { path: join(root, 'absent') },
      { path: join(root, 'plain-link') },
      { path: join(root, 'newline-link') },
    ],
    users: [login, 'svc-no-such-user'],
    groups: ['svc-no-such-group'],
    recordsFile: join(root, 'svc', 'api-orders', 'installed.json'),
    recordsRoot: join(root, 'svc'),
    releasesDir: join(root, 'releases'),
    pidfile: join(root, 'pid'),
    salt: '',
  };
  output = run(script(request));
});

const login = userInfo().username;

describe('the fact script and parseFacts', () => {
  it('reports type, mode, owner, hash and link target of every path', () => {
    const facts = parseFacts(output, request, 'local');
    const fact = (name: string) => facts.paths.get(join(root, name))!;
    expect(fact('dir with space')).toMatchObject({ type: 'dir', mode: 0o750 });
    expect(fact('file')).toMatchObject({
      type: 'file',
      mode: 0o640,
      sha256: sha256Hex('old content\n'),
    });
    expect(new TextDecoder().decode(fact('file').content)).toBe('old content\n');
    expect(fact('link')).toMatchObject({ type: 'link', target: '/etc/shadow\nx' });
    expect(fact('plain-link')).toMatchObject({ type: 'link', target: 'releases/abc123' });
    expect(fact('newline-link')).toMatchObject({ type: 'link', target: 'ends-with-newline\n' });
    expect(fact('absent')).toEqual({ path: join(root, 'absent'), type: 'absent' });
    expect(facts.users.get('svc-no-such-user')).toBeUndefined();
    expect(facts.users.get(login)?.name).toBe(login);
    expect(facts.groups.get('svc-no-such-group')).toBeUndefined();
    expect(facts.installed).toBeUndefined();
  });

  it.each(['none', 'openrc', 'upstart'])('reads the init system the host reports (%s)', (init) => {
    expect(output).toMatch(/^I\tnone$/m);
    expect(parseFacts(run(script(request, init)), request, 'local').init).toBe(init);
  });

  it('sends content only for a file that differs and was asked for', () => {
    const facts = parseFacts(output, request, 'local');
    expect(facts.paths.get(join(root, "it's $(secret)"))!.content).toBeUndefined();
  });

  it("reads svc records, other services' claims and the release directories", () => {
    const history = [{ id: 'aaaaaaaaaaaa', status: 'good', at: '2026-01-01T00:00:00Z' }];
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    mkdirSync(join(root, 'svc', 'api-other'), { recursive: true });
    mkdirSync(join(root, 'releases', 'aaaaaaaaaaaa'), { recursive: true });
    mkdirSync(join(root, 'releases', 'bbbbbbbbbbbb'), { recursive: true });
    writeFileSync(request.recordsFile, JSON.stringify({ version: 1, files: ['/etc/x'], history }));
    // Another service claims two of the paths this plan writes (one needs JSON escaping) and
    // others it does not: only the first two are any part of this plan.
    const quoted = join(root, 'q"uo\\te');
    const ours = { ...request, paths: [...request.paths, { path: quoted }] };
    writeFileSync(
      join(root, 'svc', 'api-other', 'installed.json'),
      JSON.stringify({
        version: 1,
        files: ['/etc/y', join(root, "it's $(secret)"), `${join(root, 'file')}.bak`, quoted],
        sha256: ['a', 'b', 'c', 'd'].map((c) => c.repeat(64)),
      }),
    );
    try {
      const facts = parseFacts(run(script(ours)), ours, 'local');
      expect(facts.installed).toEqual(['/etc/x']);
      expect(facts.history).toEqual(history);
      expect(facts.claimed).toEqual(
        new Map([
          [join(root, "it's $(secret)"), 'api-other'],
          [quoted, 'api-other'],
        ]),
      );
      expect(facts.releases).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    } finally {
      rmSync(join(root, 'svc'), { recursive: true });
      rmSync(join(root, 'releases'), { recursive: true });
    }
  });

  it('reports what each file in installed.list is now, for deletions', () => {
    const own = join(root, 'svc', 'api-orders');
    mkdirSync(own, { recursive: true });
    const files = [
      join(root, 'file'),
      join(root, 'link'),
      join(root, 'gone'),
      join(root, 'dir with space'),
    ];
    const sums = files.map(() => 'e'.repeat(64));
    writeFileSync(
      request.recordsFile,
      JSON.stringify({ version: 1, files, sha256: sums, adopted: [files[0]] }),
    );
    writeFileSync(join(own, 'installed.list'), files.map((path) => `${path}\n`).join(''));
    try {
      const facts = parseFacts(run(script(request)), request, 'local');
      expect(facts.installedSha256.get(files[0]!)).toBe('e'.repeat(64));
      expect(facts.adopted).toEqual(new Set([files[0]]));
      expect(facts.recordedNow).toEqual(
        new Map([
          [files[0], { type: 'file', sha256: sha256Hex('old content\n') }],
          [files[1], { type: 'link' }],
          [files[2], { type: 'absent' }],
          [files[3], { type: 'other' }],
        ]),
      );
    } finally {
      rmSync(join(root, 'svc'), { recursive: true });
    }
  });

  it("digests what the plan reads, not the service's running state", () => {
    const withState = (text: string, state: string) => text.replace(/^S\t.*$/m, `S\t${state}`);
    expect(digestedFacts(withState(output, '1\t4242'))).toBe(
      digestedFacts(withState(output, '0\t-')),
    );
    expect(digestedFacts(output)).not.toBe(digestedFacts(output.replace('P\t0\t', 'P\t0\t ')));
    // The host's filter gives the same text as svc's.
    const filtered = execFileSync('sh', ['-c', DIGESTED_FACTS_FILTER], {
      input: output,
      encoding: 'utf8',
    });
    expect(filtered).toBe(digestedFacts(output));
    expect(filtered).not.toMatch(/^S\t/m);
    // svc's state directory, which the apply makes before its stale check, is not part of it.
    const withStateDir = output.replace(
      'E\tsvc-facts',
      'D\t=/var/lib/svc\t700\t0\t0\troot\troot\nE\tsvc-facts',
    );
    expect(digestedFacts(withStateDir)).toBe(digestedFacts(output));
    expect(
      execFileSync('sh', ['-c', DIGESTED_FACTS_FILTER], { input: withStateDir, encoding: 'utf8' }),
    ).toBe(digestedFacts(output));
    expect(digestedFacts(withStateDir.replace('=/var/lib/svc\t', '=/var/lib/svcx\t'))).not.toBe(
      digestedFacts(output),
    );
  });

  it("salts the digest with the run's random value: no offline oracle for a secret, same on the host", () => {
    const plain = sha256Hex(digestedFacts(output));
    const envChanged = output.replace(
      /^(P\t2\t.*\t)([0-9a-f]{64})(\t)/m,
      (_, a, _sum, b) => a + '0'.repeat(64) + b,
    );
    expect(envChanged).not.toBe(output);
    const cases: [string, string, string, boolean][] = [
      // [what, digest a, digest b, equal]
      ['same facts, same salt', factsDigest(output, 's1'), factsDigest(output, 's1'), true],
      ['same facts, another salt', factsDigest(output, 's1'), factsDigest(output, 's2'), false],
      ['not the unsalted digest', factsDigest(output, 's1'), plain, false],
      ['not the unsalted digest, even unsalted', factsDigest(output, ''), plain, false],
      ['a secret file changed', factsDigest(envChanged, 's1'), factsDigest(output, 's1'), false],
    ];
    for (const [what, a, b, equal] of cases) expect(a === b, what).toBe(equal);
    // What the apply script's stale check computes on the host from the same output.
    const onHost = execFileSync(
      'sh',
      ['-c', `{ printf '%s\\n' "$1"; ${DIGESTED_FACTS_FILTER}; } | sha256sum`, 'sh', 'a1b2c3'],
      { input: output, encoding: 'utf8' },
    ).split(' ')[0];
    expect(onHost).toBe(factsDigest(output, 'a1b2c3'));
  });

  it('reports where each path resolves and every directory on the way, each once', () => {
    const tree = join(root, 'chain');
    mkdirSync(join(tree, 'etc', 'init.d'), { recursive: true });
    mkdirSync(join(tree, 'opt'), { mode: 0o777 });
    mkdirSync(join(tree, 'srv', 'app'), { recursive: true });
    symlinkSync('.', join(tree, 'etc', 'rc.d'));
    symlinkSync('../srv/app', join(tree, 'opt', 'app'));
    const chained: FactRequest = {
      ...request,
      paths: [
        { path: join(tree, 'etc', 'rc.d', 'init.d', 'x') },
        { path: join(tree, 'opt', 'app', 'new', 'deeper', 'f') },
        { path: join(tree, 'etc', 'init.d') },
      ],
    };
    const text = run(script(chained));
    const facts = parseFacts(text, chained, 'local');
    expect([...facts.resolved.values()]).toEqual([
      join(tree, 'etc', 'init.d', 'x'),
      join(tree, 'srv', 'app', 'new', 'deeper', 'f'),
      join(tree, 'etc', 'init.d'),
    ]);
    const dirs = [...facts.dirs.keys()];
    for (const expected of [
      '/',
      tree,
      join(tree, 'etc'),
      join(tree, 'srv', 'app'),
      join(tree, 'opt'),
    ])
      expect(dirs).toContain(expected);
    // /opt holds the link on the way; its mode is what the planner judges.
    expect(facts.dirs.get(join(tree, 'opt'))!.mode & 0o777).toBe(0o777 & ~process.umask());
    expect(text.match(/^D\t/gm)!.length).toBe(new Set(dirs).size);
  });

  it('reports, per path, the directory holding each link on its way, hop by hop (review 2, points 2-3)', () => {
    const tree = join(root, 'holders');
    mkdirSync(join(tree, 'opt'), { recursive: true });
    mkdirSync(join(tree, 'srv', 'app', 'sub'), { recursive: true });
    mkdirSync(join(tree, 'real', 'sub'), { recursive: true });
    mkdirSync(join(tree, 'userdir'));
    symlinkSync(join(tree, 'srv', 'app'), join(tree, 'opt', 'app'));
    writeFileSync(join(tree, 'opt', 'other.conf'), 'same\n');
    // A link inside another link's target: srv/a -> userdir/x -> real.
    symlinkSync(join(tree, 'real'), join(tree, 'userdir', 'x'));
    symlinkSync('../userdir/x', join(tree, 'srv', 'a'));
    const held: FactRequest = {
      ...request,
      paths: [
        { path: join(tree, 'opt', 'app', 'sub', 'app.conf') },
        { path: join(tree, 'opt', 'other.conf') },
        { path: join(tree, 'srv', 'a', 'sub', 'app.conf') },
      ],
    };
    const facts = parseFacts(run(script(held)), held, 'local');
    expect(facts.linkHolders.get(join(tree, 'opt', 'app', 'sub', 'app.conf'))).toEqual([
      join(tree, 'opt'),
    ]);
    expect(facts.linkHolders.get(join(tree, 'opt', 'other.conf'))).toBeUndefined();
    expect(facts.linkHolders.get(join(tree, 'srv', 'a', 'sub', 'app.conf'))).toEqual([
      join(tree, 'srv'),
      join(tree, 'userdir'),
    ]);
    expect(facts.resolved.get(join(tree, 'srv', 'a', 'sub', 'app.conf'))).toBe(
      join(tree, 'real', 'sub', 'app.conf'),
    );
    for (const dir of [join(tree, 'opt'), join(tree, 'userdir'), join(tree, 'real', 'sub')])
      expect(facts.dirs.has(dir)).toBe(true);
  });

  describe('a file swapped between its test and its read (review 2, point 4)', () => {
    // The hostile user's move, made deterministic: a stat first on PATH that, once it has
    // reported on the file, replaces it (with a link to a secret, or a FIFO).
    let realStat: string;
    beforeAll(() => {
      realStat = execFileSync('sh', ['-c', 'command -v stat'], { encoding: 'utf8' }).trim();
    });
    const swapped = (swap: string) => {
      const tree = join(root, `swap-${swap.split(' ')[0]}`);
      const bin = join(tree, 'bin');
      mkdirSync(bin, { recursive: true });
      const target = join(tree, 'app.conf');
      writeFileSync(target, 'old\n');
      writeFileSync(join(tree, 'secret'), 'root:$6$secret-hash:19000::::::\n');
      writeFileSync(
        join(bin, 'stat'),
        `#!/bin/sh\n${q(realStat)} "$@"; rc=$?\nfor a; do last=$a; done\n` +
          `if [ "$last" = ${q(target)} ] && [ ! -e ${q(`${target}.done`)} ]; then : > ${q(`${target}.done`)}; rm -f ${q(target)}; ${swap}; fi\nexit $rc\n`,
        { mode: 0o755 },
      );
      const swapRequest: FactRequest = {
        ...request,
        paths: [{ path: target, compareWith: sha256Hex('new\n') }],
      };
      const text = execFileSync('sh', ['-s'], {
        input: script(swapRequest),
        encoding: 'utf8',
        timeout: 15_000,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      return { text, target, secret: join(tree, 'secret') };
    };

    it('a link to a secret planted after the test: its content is never read', () => {
      const tree = join(root, 'swap-ln');
      const { text } = swapped(`ln -s ${q(join(tree, 'secret'))} ${q(join(tree, 'app.conf'))}`);
      expect(text).not.toContain(
        Buffer.from('root:$6$secret-hash').toString('base64').slice(0, 16),
      );
      expect(text).not.toContain(sha256Hex('root:$6$secret-hash:19000::::::\n'));
    });

    it('a FIFO planted after the test: the fact script does not hang', () => {
      const tree = join(root, 'swap-mkfifo');
      const { text } = swapped(`mkfifo ${q(join(tree, 'app.conf'))}`);
      expect(text).toMatch(/\nE\tsvc-facts\n$/);
    });
  });

  it('marks a directory whose ls -ld shows a POSIX ACL (review 2, point 6)', () => {
    const tree = join(root, 'acl');
    mkdirSync(join(tree, 'granted'), { recursive: true });
    // setfacl -m u:4242:rwx, written as the kernel's xattr (no acl package needed): header 2, then
    // user::rwx, user:4242:rwx, group::r-x, mask::rwx, other::r-x.
    execFileSync('python3', [
      '-c',
      `import os,struct
e=lambda t,p,i=0xffffffff: struct.pack('<HHI',t,p,i)
os.setxattr(${JSON.stringify(join(tree, 'granted'))},'system.posix_acl_access',struct.pack('<I',2)+e(1,7)+e(2,7,4242)+e(4,5)+e(0x10,7)+e(0x20,5))`,
    ]);
    expect(execFileSync('ls', ['-ld', join(tree, 'granted')], { encoding: 'utf8' })).toMatch(
      /^.{10}\+/,
    );
    const acl: FactRequest = { ...request, paths: [{ path: join(tree, 'granted', 'f') }] };
    const facts = parseFacts(run(script(acl)), acl, 'local');
    expect(facts.dirs.get(join(tree, 'granted'))!.acl).toBe(true);
    expect(facts.dirs.get(tree)!.acl).toBeUndefined();
  });

  it('a link loop resolves to nothing (bounded), not a hang', () => {
    const tree = join(root, 'loop');
    mkdirSync(tree);
    symlinkSync(join(tree, 'b'), join(tree, 'a'));
    symlinkSync(join(tree, 'a'), join(tree, 'b'));
    const looped: FactRequest = { ...request, paths: [{ path: join(tree, 'a', 'f') }] };
    const facts = parseFacts(run(script(looped)), looped, 'local');
    expect(facts.resolved.get(join(tree, 'a', 'f'))).toBeUndefined();
  });

  it('refuses malformed svc records', () => {
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    writeFileSync(request.recordsFile, '{"files": "not a list"}');
    try {
      expect(() => parseFacts(run(script(request)), request, 'web1')).toThrow(
        'svc records on the host are malformed',
      );
    } finally {
      rmSync(join(root, 'svc'), { recursive: true });
    }
  });

  it.each([
    ['truncated output', (text: string) => text.slice(0, text.lastIndexOf('E\t'))],
    ['trailing garbage', (text: string) => `${text}P\t9\tabsent\n`],
    ['a path record out of order', (text: string) => text.replace('P\t0\t', 'P\t7\t')],
    ['a bad mode', (text: string) => text.replace(/(P\t1\tfile\t)640/, '$1rwx')],
    ['an unknown init', (text: string) => text.replace(/^I\t\w+$/m, 'I\tsysv')],
    [
      'a wrong version',
      (text: string) => text.replace(`svc-facts\t${FACTS_VERSION}`, 'svc-facts\t9'),
    ],
    ['a plain value with a space', (text: string) => text.replace(/^H\t.*$/m, 'H\t=a b')],
    ['an odd-length hex value', (text: string) => text.replace(/^H\t.*$/m, 'H\tabc')],
    [
      'a link target that is neither',
      (text: string) => text.replace(/(P\t\d+\tlink(\t[^\t]*){5}\t)\S+$/m, '$1=bad\\x'),
    ],
    [
      'an empty link target (the link went away while it was read)',
      (text: string) => text.replace(/(P\t\d+\tlink(\t[^\t]*){5}\t)\S+$/m, '$1'),
    ],
    ['an empty output', () => ''],
    [
      'a claim that is no JSON string',
      (text: string) => text.replace('E\tsvc-facts', 'O\t=api-x\t=/etc/x\nE\tsvc-facts'),
    ],
    [
      'a directory record with a bad owner',
      (text: string) => text.replace(/^(D\t[^\t]+\t\d+\t\d+\t\d+\t)\S+/m, '$1a b'),
    ],
    [
      'a resolution that is not absolute',
      (text: string) => text.replace(/^A\t0\t.*$/m, 'A\t0\t=x'),
    ],
    ['a resolution for another path', (text: string) => text.replace(/^A\t0\t/m, 'A\t1\t')],
    // Review 2, point 7: a lying host's paths, decoded, must be canonical and printable.
    [
      'a resolution with a control character',
      (text: string) => text.replace(/^A\t0\t.*$/m, 'A\t0\t2f6574630a2f78'),
    ],
    [
      'a resolution that is not canonical',
      (text: string) => text.replace(/^A\t0\t.*$/m, 'A\t0\t=/etc/../tmp/x'),
    ],
    [
      'a directory record with a non-canonical path',
      (text: string) => text.replace(/^D\t=\/\t/m, 'D\t=/etc//\t'),
    ],
    [
      'a directory record without its ACL mark',
      (text: string) => text.replace(/^(D\t.*)\t[-+]$/m, '$1'),
    ],
    [
      'a link-holder record for another path',
      (text: string) => text.replace(/^A\t0\t/m, 'K\t1\t=/etc\nA\t0\t'),
    ],
    [
      'a link-holder record with a relative path',
      (text: string) => text.replace(/^A\t0\t/m, 'K\t0\t=etc\nA\t0\t'),
    ],
    ['a missing resolution', (text: string) => text.replace(/^A\t0\t.*\n/m, '')],
    [
      'an installed file with a bad hash',
      (text: string) => text.replace(/^(R\t.*)$/m, '$1\nW\t=/etc/x\tfile\t-'),
    ],
  ])('refuses %s', (_, corrupt) => {
    expect(() => parseFacts(corrupt(output), request, 'web1')).toThrow(FactsError);
    expect(() => parseFacts(corrupt(output), request, 'web1')).toThrow(/^web1: facts line \d+: /);
  });
});
