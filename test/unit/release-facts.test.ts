// The live release's part of the fact script, run by a real sh (and awk) against a scratch tree,
// read back by the strict parser; and the V/Z transport refused, one corruption at a time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factScript, type FactRequest, type HostFacts } from '../../src/core/facts.js';
import { FactsError, parseFacts } from '../../src/core/facts-parse.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';
import { releaseContents } from '../../src/core/release-contents.js';
import {
  liveReleaseRequest,
  MAX_DIFF_BYTES,
  RELEASE_DIFF_BUDGET,
} from '../../src/core/release-facts.js';
import { releaseFilesOf, releaseFilesText } from '../../src/core/release-files.js';

let root: string;
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-release-facts-'));
  mkdirSync(join(root, 'releases'));
  mkdirSync(join(root, 'lists'));
});

const local = (path: string, text: string | Uint8Array, mode = 0o644): LocalFile => {
  const content = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return { path, mode, content, sha256: sha256Hex(content) };
};

/** A release on the scratch host: its files in releases/ID, its list (unless `list: false`). */
function release(id: string, files: LocalFile[], list = true): void {
  for (const file of files) {
    const path = join(root, 'releases', id, file.path);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, file.content);
  }
  if (list) writeFileSync(join(root, 'lists', id), releaseFilesText(releaseFilesOf(files)));
}

function current(target: string | undefined): void {
  rmSync(join(root, 'current'), { force: true });
  if (target !== undefined) symlinkSync(target, join(root, 'current'));
}

const INIT_DETECTION = /^comm=\n[\s\S]*?^else init=none; fi\n/m;
function request(next: LocalFile[], diff: boolean): FactRequest {
  return {
    service: 'api-orders',
    loginUser: userInfo().username,
    paths: [],
    users: [],
    groups: [],
    recordsFile: join(root, 'records', 'installed.json'),
    recordsRoot: join(root, 'records'),
    releasesDir: join(root, 'releases'),
    pidfile: join(root, 'pid'),
    salt: '',
    liveRelease: liveReleaseRequest(
      {
        currentLink: join(root, 'current'),
        releasesDir: join(root, 'releases'),
        listsDir: join(root, 'lists'),
      },
      next,
      diff,
    ),
  };
}
function gather(ask: FactRequest): { output: string; facts: HostFacts } {
  const script = factScript(ask).replace(INIT_DETECTION, 'init=none\n');
  const output = execFileSync('sh', ['-s'], {
    input: script,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { output, facts: parseFacts(output, ask, 'local') };
}

const A = [local('a.txt', 'one\ntwo\n'), local('b.txt', 'same\n'), local('gone.txt', 'x\n')];
const B = [local('a.txt', 'one\nTWO\n'), local('b.txt', 'same\n'), local('new.txt', 'n\n')];

describe('which release is live', () => {
  it.each([
    ['releases/aaaaaaaaaaaa', 'aaaaaaaaaaaa'],
    ['ROOT/releases/aaaaaaaaaaaa', 'aaaaaaaaaaaa'],
    ['releases/aaaa.bbbb_c-d', 'aaaa.bbbb_c-d'],
    ['releases/../releases/aaaaaaaaaaaa', undefined],
    ['releases/x/aaaaaaaaaaaa', undefined],
    ['elsewhere/aaaaaaaaaaaa', undefined],
    ['releases/..', undefined],
    ['releases/.', undefined],
    ['releases/', undefined],
    ['releases/a b', undefined],
    ['releases/a$b', undefined],
    [undefined, undefined],
  ])('current -> %s: %s', (target, id) => {
    current(target?.replace('ROOT', root));
    const { facts } = gather(request(B, false));
    expect(facts.liveRelease?.id).toBe(id);
  });

  it('a current that is a directory, not a link, is no live release', () => {
    current(undefined);
    mkdirSync(join(root, 'current'));
    try {
      expect(gather(request(B, false)).facts.liveRelease).toEqual({
        content: new Map(),
        diff: false,
      });
    } finally {
      rmSync(join(root, 'current'), { recursive: true });
    }
  });
});

describe('the recorded list of the live release', () => {
  it('is read and compared: added, changed, removed', () => {
    release('aaaaaaaaaaaa', A);
    current('releases/aaaaaaaaaaaa');
    const { output, facts } = gather(request(B, false));
    expect(output).not.toMatch(/^Z\t/m);
    expect(facts.liveRelease!.files).toEqual(releaseFilesOf(A));
    const contents = releaseContents(facts.liveRelease!, 'aaaaaaaaaaaa', B);
    expect(contents).toEqual({
      live: 'aaaaaaaaaaaa',
      added: [{ path: 'new.txt', size: 2 }],
      removed: [{ path: 'gone.txt', size: 2 }],
      changed: [
        {
          path: 'a.txt',
          size: 8,
          sizeBefore: 8,
          sha256: sha256Hex('one\nTWO\n'),
          sha256Before: sha256Hex('one\ntwo\n'),
        },
      ],
    });
  });

  it('none recorded (a release an older svc made): unknown, and why', () => {
    release('cccccccccccc', A, false);
    current('releases/cccccccccccc');
    const { facts } = gather(request(B, true));
    expect(facts.liveRelease).toEqual({
      id: 'cccccccccccc',
      unknown: 'no file list is recorded for it (an older svc made it)',
      content: new Map(),
      diff: true,
    });
  });

  it('a link where the list should be is not followed', () => {
    symlinkSync(join(root, 'lists', 'aaaaaaaaaaaa'), join(root, 'lists', 'dddddddddddd'));
    release('dddddddddddd', A, false);
    current('releases/dddddddddddd');
    expect(gather(request(B, true)).facts.liveRelease?.unknown).toBe(
      'no file list is recorded for it (an older svc made it)',
    );
  });

  it('a list with a path twice, also with --diff (the host asks its content once): unknown, saying so', () => {
    release('abababababab', A);
    const text = releaseFilesText(releaseFilesOf(A)).split('\n');
    // a.txt's line twice, and in order: its recorded hash differs from B's a.txt.
    writeFileSync(
      join(root, 'lists', 'abababababab'),
      [text[0], text[1], ...text.slice(1)].join('\n'),
    );
    current('releases/abababababab');
    for (const diff of [false, true])
      expect(gather(request(B, diff)).facts.liveRelease?.unknown).toBe(
        'its recorded file list is unreadable: line 3: a.txt is out of order or listed twice',
      );
  });

  it('a list that does not parse: unknown, saying where', () => {
    release('eeeeeeeeeeee', A);
    writeFileSync(join(root, 'lists', 'eeeeeeeeeeee'), 'svc-release-files\t1\nfile\t0644\n');
    current('releases/eeeeeeeeeeee');
    expect(gather(request(B, false)).facts.liveRelease?.unknown).toBe(
      'its recorded file list is unreadable: line 2: 5 fields expected, got 2',
    );
  });
});

describe('--diff: the live content of changed text files, in the same round trip', () => {
  it('is sent only for text files whose hash differs, and shown as a unified diff', () => {
    const big = 'y'.repeat(MAX_DIFF_BYTES + 1);
    const liveFiles = [...A, local('big.txt', big), local('bin.dat', new Uint8Array([0, 1, 2]))];
    release('ffffffffffff', liveFiles);
    current('releases/ffffffffffff');
    const next = [
      ...B,
      local('big.txt', `${big}z`),
      local('bin.dat', new Uint8Array([0, 1, 3])),
      local('.env', 'TOKEN=new\n'),
    ];
    const ask = request(next, true);
    // Candidates: text files within the cap, no secret names.
    expect(ask.liveRelease!.candidates.map((candidate) => candidate.path)).toEqual([
      'a.txt',
      'b.txt',
      'new.txt',
    ]);
    const { output, facts } = gather(ask);
    expect(output.match(/^Z\t/gm)).toHaveLength(1);
    expect([...facts.liveRelease!.content.keys()]).toEqual(['a.txt']);
    const changed = releaseContents(facts.liveRelease!, 'ffffffffffff', next).changed;
    expect(changed.map((file) => [file.path, file.diff])).toEqual([
      ['a.txt', '--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO'],
      ['big.txt', '(larger than 256 KiB: compared by sha256 only)'],
      ['bin.dat', '(binary content differs)'],
    ]);
  });

  it('without --diff nothing is asked and no diff is given', () => {
    current('releases/ffffffffffff');
    const ask = request(B, false);
    expect(ask.liveRelease!.candidates).toEqual([]);
    const { output, facts } = gather(ask);
    expect(output).not.toContain('SVC_RELEASE_CANDIDATES');
    expect(releaseContents(facts.liveRelease!, 'x', B).changed[0]).not.toHaveProperty('diff');
  });

  it('a live copy changed since the deploy is sent, and not shown', () => {
    release('gggggggggggg', A);
    writeFileSync(join(root, 'releases', 'gggggggggggg', 'a.txt'), 'one\nSECRET\n');
    current('releases/gggggggggggg');
    const { facts } = gather(request(B, true));
    expect(releaseContents(facts.liveRelease!, 'g', B).changed[0]!.diff).toBe(
      '(the live copy is not what svc recorded: not shown)',
    );
  });

  it('a live copy that is a link is not read', () => {
    release('hhhhhhhhhhhh', A);
    const path = join(root, 'releases', 'hhhhhhhhhhhh', 'a.txt');
    unlinkSync(path);
    symlinkSync('/etc/passwd', path);
    current('releases/hhhhhhhhhhhh');
    const { output, facts } = gather(request(B, true));
    expect(output).not.toMatch(/^Z\t/m);
    expect(releaseContents(facts.liveRelease!, 'h', B).changed[0]!.diff).toBe(
      '(the live copy is missing or not a regular file: compared by sha256 only)',
    );
  });

  it('a live copy grown since it was recorded: at most its recorded size and a byte is read, and it is not shown', () => {
    release('jjjjjjjjjjjj', A);
    // a.txt was 8 bytes when recorded; now 200 KiB (within the cap).
    writeFileSync(join(root, 'releases', 'jjjjjjjjjjjj', 'a.txt'), 'g'.repeat(200 * 1024));
    current('releases/jjjjjjjjjjjj');
    const { facts } = gather(request(B, true));
    expect(facts.liveRelease!.content.get('a.txt')?.length).toBe(9);
    expect(releaseContents(facts.liveRelease!, 'j', B).changed[0]!.diff).toBe(
      '(the live copy is not what svc recorded: not shown)',
    );
  });

  it('the budget counts only the files the host was asked about (not binary or secret ones)', () => {
    const size = 250 * 1024;
    // Changed binaries and a secret, each within the cap, before the text file in path order:
    // over the budget together, but never asked for.
    const binary = (byte: number) => new Uint8Array(size).fill(0).map((_, i) => (i ? byte : 0));
    const before = [
      ...['a1.bin', 'a2.bin', 'a3.bin', 'a4.bin'].map((name) => local(name, binary(1))),
      local('a5.pem', 'k'.repeat(size)),
      local('z.txt', 'one\n'),
    ];
    release('kkkkkkkkkkkk', before);
    unlinkSync(join(root, 'releases', 'kkkkkkkkkkkk', 'z.txt'));
    current('releases/kkkkkkkkkkkk');
    const next = [
      ...['a1.bin', 'a2.bin', 'a3.bin', 'a4.bin'].map((name) => local(name, binary(2))),
      local('a5.pem', 'K'.repeat(size)),
      local('z.txt', 'two\n'),
    ];
    const { facts } = gather(request(next, true));
    const changed = releaseContents(facts.liveRelease!, 'k', next).changed;
    expect(changed.find((file) => file.path === 'z.txt')!.diff).toBe(
      '(the live copy is missing or not a regular file: compared by sha256 only)',
    );
  });

  it('stops at the byte budget, in the list order, as the plan expects', () => {
    const size = 250 * 1024;
    const names = ['f1', 'f2', 'f3', 'f4', 'f5'];
    release(
      'iiiiiiiiiiii',
      names.map((name) => local(name, 'a'.repeat(size))),
    );
    current('releases/iiiiiiiiiiii');
    const next = names.map((name) => local(name, 'b'.repeat(size)));
    const { facts } = gather(request(next, true));
    expect(Math.floor(RELEASE_DIFF_BUDGET / size)).toBe(4);
    expect([...facts.liveRelease!.content.keys()]).toEqual(['f1', 'f2', 'f3', 'f4']);
    const diffs = releaseContents(facts.liveRelease!, 'i', next).changed.map((file) =>
      file.diff!.startsWith('---') ? 'diff' : file.diff,
    );
    expect(diffs).toEqual([
      'diff',
      'diff',
      'diff',
      'diff',
      '(over the 1 MiB a plan reads per host: compared by sha256 only)',
    ]);
  });
});

describe('the V and Z records are refused when malformed, one at a time', () => {
  let output: string;
  let ask: FactRequest;
  beforeAll(() => {
    release('jjjjjjjjjjjj', A);
    current('releases/jjjjjjjjjjjj');
    ask = request(B, true);
    output = gather(ask).output;
  });
  const replaceRecords = (records: string) =>
    output.replace(/^V\t[^\n]*\n(?:Z\t[^\n]*\n)*/m, records);

  it('the real output has one V and one Z record', () => {
    expect(output).toMatch(/^V\t=jjjjjjjjjjjj\t[A-Za-z0-9+/=]+\nZ\t0\t[A-Za-z0-9+/=]+\nE\t/m);
  });

  it.each([
    ['no V record', '', 'expected a V record, got "E\\tsvc-facts"'],
    ['V with three fields', 'V\t=a\t-\t-\n', 'a V record has 2 fields, got 3'],
    ['V with one field not -', 'V\t=a\n', 'bad live release record'],
    ['a name without =', 'V\ta\t-\n', 'bad live release name'],
    ['an empty name', 'V\t=\t-\n', 'bad live release name'],
    ['the name ..', 'V\t=..\t-\n', 'bad live release name'],
    ['the name .', 'V\t=.\t-\n', 'bad live release name'],
    ['a name with a slash', 'V\t=a/b\t-\n', 'bad live release name'],
    ['a list not base64', 'V\t=a\tnot base64!\n', 'the live release file list is not base64'],
    ['Z without a live release', 'V\t-\nZ\t0\tYQ==\n', 'release content without a live release'],
    ['Z past the candidates', 'V\t=a\t-\nZ\t3\tYQ==\n', 'bad release content record'],
    ['Z out of order', 'V\t=a\t-\nZ\t1\tYQ==\nZ\t0\tYQ==\n', 'bad release content record'],
    ['Z twice', 'V\t=a\t-\nZ\t0\tYQ==\nZ\t0\tYQ==\n', 'bad release content record'],
    ['Z with a name for an index', 'V\t=a\t-\nZ\ta\tYQ==\n', 'bad release content record'],
    ['Z with a negative index', 'V\t=a\t-\nZ\t-1\tYQ==\n', 'bad release content record'],
    ['Z not base64', 'V\t=a\t-\nZ\t0\tY Q\n', 'bad release content record'],
    ['Z with one field', 'V\t=a\t-\nZ\t0\n', 'a Z record has 2 fields, got 1'],
  ])('%s', (_, records, reason) => {
    const broken = replaceRecords(records);
    expect(() => parseFacts(broken, ask, 'local')).toThrow(FactsError);
    expect(() => parseFacts(broken, ask, 'local')).toThrow(
      new RegExp(`^local: facts line \\d+: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('good records in each shape parse', () => {
    expect(parseFacts(replaceRecords('V\t-\n'), ask, 'local').liveRelease).toEqual({
      content: new Map(),
      diff: true,
    });
    const facts = parseFacts(replaceRecords('V\t=a\t-\nZ\t0\tYQ==\nZ\t2\t\n'), ask, 'local');
    expect(facts.liveRelease!.content).toEqual(
      new Map([
        ['a.txt', new TextEncoder().encode('a')],
        ['new.txt', new Uint8Array()],
      ]),
    );
  });

  it('a request without a live release part expects no V record', () => {
    const without = { ...ask };
    delete without.liveRelease;
    expect(() => parseFacts(output, without, 'local')).toThrow(/expected a E record/);
  });
});
