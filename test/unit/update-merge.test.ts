// svc update's decisions per file (core/update-plan.ts), its text merge (core/text-merge.ts, on
// node-diff3) and its svc.yaml data merge (core/manifest-merge.ts), case by case.
import { describe, expect, it } from 'vitest';
import { mergeData, mergeManifestText } from '../../src/core/manifest-merge.js';
import { hasConflictMarkers, linesOf, mergeText } from '../../src/core/text-merge.js';
import { updateFile, type FileTexts } from '../../src/core/update-plan.js';
import {
  answerChanges,
  parseRecordAnswers,
  recordAnswersText,
} from '../../src/core/scaffold-record.js';

const options = {
  svcVersion: '9.9.9',
  conflictStyle: 'markers' as const,
  manifestPath: 'svc.yaml',
};
const B = 'one\ntwo\nthree\nfour\nfive\nsix\n';

describe('updateFile: one outcome per file', () => {
  const cases: Array<[string, Omit<FileTexts, 'path'>, object]> = [
    ['all three equal', { base: B, ours: B, theirs: B }, { outcome: 'unchanged' }],
    [
      'only the scaffold changed',
      { base: B, ours: B, theirs: B.replace('two', 'TWO') },
      { outcome: 'updated', write: B.replace('two', 'TWO') },
    ],
    ['only the user changed', { base: B, ours: B + 'seven\n', theirs: B }, { outcome: 'kept' }],
    [
      'both, the same change',
      { base: B, ours: B.replace('two', 'TWO'), theirs: B.replace('two', 'TWO') },
      { outcome: 'unchanged' },
    ],
    [
      'both, far apart',
      { base: B, ours: B.replace('six', 'SIX'), theirs: B.replace('one', 'ONE') },
      { outcome: 'merged', write: B.replace('six', 'SIX').replace('one', 'ONE') },
    ],
    [
      'both, the same line',
      { base: B, ours: B.replace('three', 'mine'), theirs: B.replace('three', 'svc') },
      {
        outcome: 'conflict',
        conflicts: 1,
        write:
          'one\ntwo\n<<<<<<< project\nmine\n=======\nsvc\n>>>>>>> svc 9.9.9\nfour\nfive\nsix\n',
      },
    ],
    ['new in the scaffold', { theirs: B }, { outcome: 'added', write: B }],
    [
      'gone from the scaffold, untouched',
      { base: B, ours: B },
      { outcome: 'removed', remove: true },
    ],
    [
      'gone from the scaffold, changed by the user',
      { base: B, ours: B + 'x\n' },
      { outcome: 'kept', note: 'gone from the scaffold; you changed it, so it stays' },
    ],
    [
      'deleted by the user, changed by the scaffold',
      { base: B, theirs: B + 'x\n' },
      { outcome: 'kept', note: 'you deleted it; it stays deleted' },
    ],
    ['deleted by both', { base: B }, { outcome: 'removed', note: 'already gone' }],
  ];
  it.each(cases)('%s', (_, texts, expected) => {
    expect(updateFile({ path: 'f', ...texts }, options)).toEqual({ path: 'f', ...expected });
  });

  it('--conflict rej: keeps the user side, and the .rej lists what svc wanted there', () => {
    const result = updateFile(
      { path: 'f', base: B, ours: B.replace('three', 'mine'), theirs: B.replace('three', 'svc') },
      { ...options, conflictStyle: 'rej' },
    );
    expect(result).toEqual({
      path: 'f',
      outcome: 'conflict',
      conflicts: 1,
      rej: '@@ at line 3 of your file: svc 9.9.9 changed these lines, and so did you @@\n-three\n+svc\n',
    });
  });
});

describe('updateFile: a file the user keeps with CRLF line ends', () => {
  const crlf = (text: string) => text.replaceAll('\n', '\r\n');
  const cases: Array<[string, Omit<FileTexts, 'path'>, object]> = [
    ['only the line ends changed', { base: B, ours: crlf(B), theirs: B }, { outcome: 'unchanged' }],
    [
      'the scaffold changed a line: updated, still CRLF',
      { base: B, ours: crlf(B), theirs: B.replace('two', 'TWO') },
      { outcome: 'updated', write: crlf(B.replace('two', 'TWO')) },
    ],
    [
      'both changed, far apart: merged, still CRLF',
      { base: B, ours: crlf(B.replace('six', 'SIX')), theirs: B.replace('one', 'ONE') },
      { outcome: 'merged', write: crlf(B.replace('six', 'SIX').replace('one', 'ONE')) },
    ],
    [
      'both changed the same line: one conflict, markers with CRLF too',
      { base: B, ours: crlf(B.replace('three', 'mine')), theirs: B.replace('three', 'svc') },
      {
        outcome: 'conflict',
        conflicts: 1,
        write: crlf(
          'one\ntwo\n<<<<<<< project\nmine\n=======\nsvc\n>>>>>>> svc 9.9.9\nfour\nfive\nsix\n',
        ),
      },
    ],
    [
      'svc.yaml: merged as data, still CRLF',
      {
        base: 'name: api-x\nport: 3000\n',
        ours: crlf('# mine\nname: api-x\nport: 3000\n'),
        theirs: 'name: api-x\nport: 4000\n',
      },
      { outcome: 'merged', write: crlf('# mine\nname: api-x\nport: 4000\n') },
    ],
    [
      'gone from the scaffold, untouched but for line ends',
      { base: B, ours: crlf(B) },
      { outcome: 'removed', remove: true },
    ],
    [
      "mixed line ends are the user's text as it is",
      { base: B, ours: `one\r\n${B.slice(4)}`, theirs: B.replace('six', 'SIX') },
      { outcome: 'merged', write: `one\r\n${B.slice(4).replace('six', 'SIX')}` },
    ],
  ];
  it.each(cases)('%s', (_, texts, expected) => {
    const path = texts.base?.startsWith('name:') ? 'svc.yaml' : 'f';
    expect(updateFile({ path, ...texts }, options)).toEqual({ path, ...expected });
  });
});

describe('mergeText', () => {
  it('keeps a missing final newline, and puts markers on lines of their own', () => {
    const result = mergeText('a\nb', 'a\nmine', 'a\nsvc', '1');
    expect(result.text).toBe('a\n<<<<<<< project\nmine\n=======\nsvc\n>>>>>>> svc 1\n');
    expect(mergeText('a\nb', 'A\nb', 'a\nb', '1')).toEqual({ text: 'A\nb', conflicts: 0 });
  });

  it('splits lines keeping their ends', () => {
    expect(linesOf('')).toEqual([]);
    expect(linesOf('a\n\nb')).toEqual(['a\n', '\n', 'b']);
  });

  it.each([
    ['x\n<<<<<<< project\n', true],
    ['>>>>>>> svc 0.1.0\n', true],
    ['<<<<<<< HEAD\n', false],
    ['  <<<<<<< project\n', false],
  ])('hasConflictMarkers(%j) = %s', (text, expected) => {
    expect(hasConflictMarkers(text)).toBe(expected);
  });
});

describe('mergeData: svc.yaml as data', () => {
  it.each([
    [
      'scaffold changed a key',
      { a: 1 },
      { a: 1 },
      { a: 2 },
      [{ keys: ['a'], kind: 'set', value: 2 }],
    ],
    ['user changed a key', { a: 1 }, { a: 5 }, { a: 1 }, []],
    ['user added a key', { a: 1 }, { a: 1, b: 2 }, { a: 1 }, []],
    [
      'scaffold added a key',
      { a: 1 },
      { a: 1 },
      { a: 1, c: 3 },
      [{ keys: ['c'], kind: 'set', value: 3 }],
    ],
    [
      'scaffold dropped a key',
      { a: 1, c: 3 },
      { a: 1, c: 3 },
      { a: 1 },
      [{ keys: ['c'], kind: 'delete' }],
    ],
    ['both changed it alike', { a: 1 }, { a: 2 }, { a: 2 }, []],
    [
      'both changed it differently',
      { a: 1 },
      { a: 5 },
      { a: 2 },
      [{ keys: ['a'], kind: 'conflict', ours: 5, theirs: 2 }],
    ],
    [
      'nested maps merge per key',
      { env: { A: '1' }, g: { v: 1 } },
      { env: { A: '1', B: '2' }, g: { v: 1 } },
      { env: {}, g: { v: 2 } },
      [
        { keys: ['env', 'A'], kind: 'delete' },
        { keys: ['g', 'v'], kind: 'set', value: 2 },
      ],
    ],
  ])('%s', (_, base, ours, theirs, expected) => {
    expect(mergeData(base, ours, theirs)).toEqual(expected);
  });
});

describe('mergeManifestText', () => {
  const base = 'name: api-x\nport: 3000\nmonit: true\ngenerator:\n  svc: 0.1.0\n';

  it('returns the user file byte for byte when nothing from the scaffold applies', () => {
    const ours =
      '# mine\nname: api-x\nport:   3000   # odd spacing\nmonit: true\ngenerator:\n  svc: 0.1.0\n';
    expect(mergeManifestText(base, ours, base, '0.2.0')).toEqual({
      text: ours,
      conflicts: [],
      changed: false,
    });
  });

  it("keeps the user's comments and keys, takes the scaffold's changes and new keys", () => {
    const ours =
      '# my service\nname: api-x\nport: 3000 # the port\nmonit: true\ngenerator:\n  svc: 0.1.0\nenv:\n  LOG: debug # chatty\n';
    const theirs =
      'name: api-x\nport: 4000\nmonit: true\ngenerator:\n  svc: 0.2.0\nstopTimeout: 30\n';
    const result = mergeManifestText(base, ours, theirs, '0.2.0');
    expect(result.conflicts).toEqual([]);
    expect(result.text).toBe(
      '# my service\nname: api-x\nport: 4000 # the port\nmonit: true\ngenerator:\n  svc: 0.2.0\nenv:\n  LOG: debug # chatty\nstopTimeout: 30\n',
    );
  });

  it('writes a key both changed as one block of markers around that key', () => {
    const ours = 'name: api-x\nport: 5000\nmonit: true\n# next\ngenerator:\n  svc: 0.1.0\n';
    const theirs = 'name: api-x\nport: 4000\nmonit: false\ngenerator:\n  svc: 0.1.0\n';
    const result = mergeManifestText(base, ours, theirs, '0.2.0');
    expect(result.conflicts).toEqual(['port']);
    expect(result.text).toBe(
      'name: api-x\n<<<<<<< project\nport: 5000\n=======\nport: 4000\n>>>>>>> svc 0.2.0\nmonit: false\n# next\ngenerator:\n  svc: 0.1.0\n',
    );
  });
});

describe('the record', () => {
  it('reads back what it writes, and names the field of a bad one', () => {
    const record = {
      svc: '0.1.0',
      answers: {
        name: 'api-x',
        description: 'x',
        runtime: 'node' as const,
        port: 3000,
        health: '/ok',
        init: 'systemd' as const,
        monit: true,
        user: 'api-x',
      },
    };
    const text = recordAnswersText(record);
    expect(text).toMatch(/^# What svc generated in this project/);
    expect(parseRecordAnswers(text)).toEqual(record);
    expect(() => parseRecordAnswers(text.replace('port: 3000', 'port: 70000'))).toThrow(
      '.svc/scaffold/answers.yaml: answers.port: must be an integer between 1 and 65535 (svc writes this file; restore it from git)',
    );
    expect(answerChanges(record.answers, { ...record.answers, port: 4000 })).toEqual([
      'port 3000 -> 4000',
    ]);
  });
});
