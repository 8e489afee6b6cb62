// A release change's contents: the comparison with the live release's list, each reason a
// changed file has no diff, where the contents go in a plan, how they read, and that hosts with
// the same release diff still group (and hosts with different ones do not).
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/core/facts.js';
import type { Operation, ReleaseOperation } from '../../src/core/operations.js';
import { planDocument, formatPlans, type HostOutcome } from '../../src/core/plan-format.js';
import { groupOutcomes } from '../../src/core/plan-groups.js';
import { planHost, type Change } from '../../src/core/plan.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';
import {
  attachReleaseContents,
  releaseContents,
  type ReleaseContents,
} from '../../src/core/release-contents.js';
import {
  formatBytes,
  MAX_LISTED,
  releaseContentsLines,
} from '../../src/core/release-contents-text.js';
import { MAX_DIFF_BYTES, type LiveRelease } from '../../src/core/release-facts.js';
import { releaseFilesOf } from '../../src/core/release-files.js';
import { facts as hostFacts, operations as fixtureOperations } from '../helpers/plan-fixtures.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const local = (path: string, content: string | Uint8Array, mode = 0o644): LocalFile => {
  const data = typeof content === 'string' ? bytes(content) : content;
  return { path, mode, content: data, sha256: sha256Hex(data) };
};
const live = (
  files: LocalFile[] | undefined,
  content: Record<string, string | Uint8Array> = {},
  diff = true,
): LiveRelease => ({
  id: 'aaaaaaaaaaaa',
  ...(files ? { files: releaseFilesOf(files) } : { unknown: 'why' }),
  content: new Map(
    Object.entries(content).map(([path, data]) => [
      path,
      typeof data === 'string' ? bytes(data) : data,
    ]),
  ),
  diff,
});

describe('releaseContents', () => {
  it('unknown live files: the reason, empty lists', () => {
    expect(releaseContents(live(undefined), 'aaaaaaaaaaaa', [local('a', 'x')])).toEqual({
      live: 'aaaaaaaaaaaa',
      unknown: 'why',
      added: [],
      changed: [],
      removed: [],
    });
  });

  it('a mode change says both modes; a content change both hashes and sizes', () => {
    const before = [local('run', 'echo\n'), local('text', 'a\n')];
    const after = [local('run', 'echo\n', 0o755), local('text', 'ab\n')];
    expect(releaseContents(live(before, {}, false), 'x', after).changed).toEqual([
      {
        path: 'run',
        size: 5,
        sizeBefore: 5,
        sha256: sha256Hex('echo\n'),
        sha256Before: sha256Hex('echo\n'),
        mode: '0755',
        modeBefore: '0644',
      },
      {
        path: 'text',
        size: 3,
        sizeBefore: 2,
        sha256: sha256Hex('ab\n'),
        sha256Before: sha256Hex('a\n'),
      },
    ]);
  });

  it('with --diff a mode-only change has no diff, a secret name never has one', () => {
    const before = [local('run', 'echo\n'), local('.env', 'A=1\n')];
    const after = [local('run', 'echo\n', 0o755), local('.env', 'A=2\n')];
    const changed = releaseContents(live(before, { '.env': 'A=1\n' }), 'x', after).changed;
    expect(changed.map((file) => [file.path, file.diff, file.sensitive])).toEqual([
      ['.env', undefined, true],
      ['run', undefined, undefined],
    ]);
    // Not even a hash of a secret: a short one could be guessed back from it.
    expect(changed[0]).toEqual({ path: '.env', size: 4, sizeBefore: 4, sensitive: true });
  });

  const cap = MAX_DIFF_BYTES;
  const binary = new Uint8Array([0, 1]);
  it.each<[string, LocalFile, LocalFile, Record<string, string | Uint8Array>, string]>([
    [
      'the new content is binary',
      local('f', 'a\n'),
      local('f', binary),
      { f: 'a\n' },
      '(binary content differs)',
    ],
    [
      'the new content is not UTF-8',
      local('f', 'a\n'),
      local('f', new Uint8Array([0xff])),
      { f: 'a\n' },
      '(binary content differs)',
    ],
    [
      'the new file is over the cap',
      local('f', 'a\n'),
      local('f', 'b'.repeat(cap + 1)),
      {},
      '(larger than 256 KiB: compared by sha256 only)',
    ],
    [
      'the live file is over the cap',
      local('f', 'a'.repeat(cap + 1)),
      local('f', 'b\n'),
      {},
      '(larger than 256 KiB: compared by sha256 only)',
    ],
    [
      'nothing sent, within the budget',
      local('f', 'a\n'),
      local('f', 'b\n'),
      {},
      '(the live copy is missing or not a regular file: compared by sha256 only)',
    ],
    [
      'sent, but not what svc recorded',
      local('f', 'a\n'),
      local('f', 'b\n'),
      { f: 'other\n' },
      '(the live copy is not what svc recorded: not shown)',
    ],
    [
      'the live content is binary',
      local('f', binary),
      local('f', 'b\n'),
      { f: binary },
      '(binary content differs)',
    ],
    [
      'both text',
      local('f', 'a\nb\n'),
      local('f', 'a\nc\n'),
      { f: 'a\nb\n' },
      '--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n+c',
    ],
    [
      'at the cap exactly',
      local('f', 'a'.repeat(cap)),
      local('f', 'b'.repeat(cap)),
      { f: 'a'.repeat(cap) },
      `--- f\n+++ f\n@@ -1,1 +1,1 @@\n-${'a'.repeat(cap)}\n\\ No newline at end of file\n+${'b'.repeat(cap)}\n\\ No newline at end of file`,
    ],
  ])('%s', (_, before, after, sent, diff) => {
    expect(releaseContents(live([before], sent), 'x', [after]).changed[0]!.diff).toBe(diff);
  });

  it('files past the budget say so, in the list order', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const size = 250 * 1024;
    const before = names.map((name) => local(name, 'x'.repeat(size)));
    const after = names.map((name) => local(name, 'y'.repeat(size)));
    // Unchanged, oversized and missing files do not count towards the budget.
    before.push(local('0same', 's'), local('0big', 'z'.repeat(cap + 1)));
    after.push(local('0same', 's'), local('0big', 'w'.repeat(cap + 1)));
    const diffs = releaseContents(live(before), 'x', after).changed.map((file) => file.diff);
    const missing = '(the live copy is missing or not a regular file: compared by sha256 only)';
    const over = '(over the 1 MiB a plan reads per host: compared by sha256 only)';
    expect(diffs).toEqual([
      '(larger than 256 KiB: compared by sha256 only)',
      missing,
      missing,
      missing,
      missing,
      over,
    ]);
  });
});

const release = (localFiles?: LocalFile[]): ReleaseOperation => ({
  kind: 'release',
  path: '/var/www/api-orders/releases/bbbbbbbbbbbb',
  id: 'bbbbbbbbbbbb',
  files: 1,
  bytes: 1,
  keep: 5,
  ...(localFiles && { local: localFiles }),
});
const change = (kind: Change['kind'], action: Change['action'], target: string): Change => ({
  kind,
  action,
  target,
  reasons: [],
});

describe('attachReleaseContents', () => {
  const files = [local('a', 'a')];
  const liveA = live([local('a', 'b')], {}, false);
  it.each<[string, Operation[], Change[], LiveRelease | undefined, number | undefined]>([
    [
      'on the new release directory',
      [release(files)],
      [
        change('link', 'update', '/var/www/api-orders/current'),
        change('release', 'create', '/var/www/api-orders/releases/bbbbbbbbbbbb'),
      ],
      liveA,
      1,
    ],
    [
      'on current moving to a release already there',
      [release(files)],
      [
        change('release', 'delete', '/var/www/api-orders/releases/cccccccccccc'),
        change('link', 'update', '/var/www/other/current'),
        change('link', 'update', '/var/www/api-orders/current'),
      ],
      liveA,
      2,
    ],
    [
      'not on current being created',
      [release(files)],
      [change('link', 'create', '/var/www/api-orders/current')],
      liveA,
      undefined,
    ],
    [
      'nowhere without the files (a rollback)',
      [release()],
      [change('release', 'create', '/x')],
      liveA,
      undefined,
    ],
    ['nowhere without a release', [], [change('release', 'create', '/x')], liveA, undefined],
    [
      'nowhere when nothing is live',
      [release(files)],
      [change('release', 'create', '/x')],
      { content: new Map(), diff: false },
      undefined,
    ],
    [
      'nowhere when the host was not asked',
      [release(files)],
      [change('release', 'create', '/x')],
      undefined,
      undefined,
    ],
    [
      'nowhere when the new release is the live one',
      [release(files)],
      [change('release', 'create', '/x')],
      { ...liveA, id: 'bbbbbbbbbbbb' },
      undefined,
    ],
  ])('%s', (_, operations, changes, liveRelease, at) => {
    attachReleaseContents(changes, operations, liveRelease);
    const found = changes.findIndex((candidate) => candidate.contents !== undefined);
    expect(found === -1 ? undefined : found).toBe(at);
    if (at !== undefined) expect(changes[at]!.contents!.live).toBe('aaaaaaaaaaaa');
    expect(changes.filter((candidate) => candidate.contents).length).toBe(at === undefined ? 0 : 1);
  });
});

const mark = {
  green: (text: string) => `<g>${text}</g>`,
  yellow: (text: string) => `<y>${text}</y>`,
  red: (text: string) => `<r>${text}</r>`,
  dim: (text: string) => `<d>${text}</d>`,
  bold: (text: string) => text,
};
const contents = (over: Partial<ReleaseContents>): ReleaseContents => ({
  live: 'aaaaaaaaaaaa',
  added: [],
  changed: [],
  removed: [],
  ...over,
});
const changedFile = (path: string, over: Record<string, unknown> = {}) => ({
  path,
  size: 10,
  sizeBefore: 10,
  sha256: 'b'.repeat(64),
  sha256Before: 'a'.repeat(64),
  ...over,
});

describe('releaseContentsLines', () => {
  it.each<[string, ReleaseContents, string[]]>([
    [
      'unknown',
      contents({ unknown: 'no list' }),
      ['      <d>files: live release aaaaaaaaaaaa unknown: no list</d>'],
    ],
    ['the same files', contents({}), ['      <d>files: the same as live release aaaaaaaaaaaa</d>']],
    [
      'one of each',
      contents({
        added: [{ path: 'n', size: 2048 }],
        changed: [
          changedFile('c', { size: 11 }),
          changedFile('m', { mode: '0755', modeBefore: '0644' }),
          changedFile('s', { sensitive: true }),
          changedFile('d', { diff: '--- d\n+++ d\n@@ -1 +1 @@\n-a\n+b\n same' }),
        ],
        removed: [{ path: 'r', size: 0 }],
      }),
      [
        '      files against live release aaaaaaaaaaaa: <g>+ 1 added</g>, <y>~ 4 changed</y>, <r>- 1 removed</r>',
        '      <g>+ n</g>  <d>2.0 KiB</d>',
        '      <y>~ c</y>  <d>10 B -> 11 B</d>',
        '      <y>~ m</y>  <d>10 B, mode 0644 -> 0755</d>',
        '      <y>~ s</y>  <d>10 B</d>',
        '        <y>(sensitive: content not shown)</y>',
        '      <y>~ d</y>  <d>10 B</d>',
        '        <r>--- d</r>',
        '        <g>+++ d</g>',
        '        @@ -1 +1 @@',
        '        <r>-a</r>',
        '        <g>+b</g>',
        '         same',
        '      <r>- r</r>  <d>0 B</d>',
      ],
    ],
    [
      'what the host sent, shown with control and bidi characters escaped',
      contents({
        added: [{ path: 'a\u202eb', size: 1 }],
        changed: [changedFile('d', { diff: '--- d\n+++ d\n@@ -1 +1 @@\n-\u001b[2J\n+\tb\r' })],
        removed: [{ path: 'r\u009b31m', size: 0 }],
      }),
      [
        '      files against live release aaaaaaaaaaaa: <g>+ 1 added</g>, <y>~ 1 changed</y>, <r>- 1 removed</r>',
        '      <g>+ a\\u202eb</g>  <d>1 B</d>',
        '      <y>~ d</y>  <d>10 B</d>',
        '        <r>--- d</r>',
        '        <g>+++ d</g>',
        '        @@ -1 +1 @@',
        '        <r>-\\x1b[2J</r>',
        '        <g>+\tb\\x0d</g>',
        '      <r>- r\\x9b31m</r>  <d>0 B</d>',
      ],
    ],
    [
      'an unknown list whose reason holds a control character',
      contents({ unknown: 'line 2: \u001b]0;x' }),
      ['      <d>files: live release aaaaaaaaaaaa unknown: line 2: \\x1b]0;x</d>'],
    ],
  ])('%s', (_, given, lines) => {
    expect(releaseContentsLines(given, mark)).toEqual(lines);
  });

  it(`lists at most ${MAX_LISTED} paths, then how many more`, () => {
    const added = Array.from({ length: MAX_LISTED + 3 }, (_, index) => ({
      path: `f${String(index).padStart(2, '0')}`,
      size: 1,
    }));
    const lines = releaseContentsLines(contents({ added }), mark);
    expect(lines).toHaveLength(MAX_LISTED + 2);
    expect(lines[MAX_LISTED]).toBe(`      <g>+ f${MAX_LISTED - 1}</g>  <d>1 B</d>`);
    expect(lines.at(-1)).toBe('      <d>... and 3 more</d>');
    const exactly = releaseContentsLines(contents({ added: added.slice(0, MAX_LISTED) }), mark);
    expect(exactly).toHaveLength(MAX_LISTED + 1);
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
  ])('formatBytes(%d) is %s', (size, text) => {
    expect(formatBytes(size)).toBe(text);
  });
});

describe('in a plan: planHost, the text, the JSON and the groups', () => {
  const next = [local('server.js', 'v2\n'), local('new.txt', 'n\n')];
  const operationsWith = (files: LocalFile[]) =>
    fixtureOperations().map((op) => (op.kind === 'release' ? { ...op, local: files } : op));
  const hostWithLive = (liveFiles: LocalFile[]): HostFacts =>
    hostFacts([], { liveRelease: live(liveFiles, {}, false) });
  const outcome = (host: string, liveFiles: LocalFile[]): HostOutcome => ({
    host,
    address: host,
    port: 22,
    user: 'deploy',
    status: 'planned',
    plan: planHost(host, operationsWith(next), hostWithLive(liveFiles), 'digest'),
  });

  it('planHost puts the contents on the release change', () => {
    const plan = planHost(
      'web1',
      operationsWith(next),
      hostWithLive([local('server.js', 'v1\n')]),
      'digest',
    );
    const releaseChange = plan.changes.find((candidate) => candidate.kind === 'release')!;
    expect(releaseChange.contents).toMatchObject({
      live: 'aaaaaaaaaaaa',
      added: [{ path: 'new.txt', size: 2 }],
      changed: [{ path: 'server.js' }],
      removed: [],
    });
  });

  it('hosts with the same release diff group; a host with another one stands alone', () => {
    const same = [local('server.js', 'v1\n')];
    const outcomes = [
      outcome('web1', same),
      outcome('web2', same),
      outcome('web3', [local('server.js', 'v0\n')]),
    ];
    expect(groupOutcomes(outcomes).map((group) => group.outcomes.map((o) => o.host))).toEqual([
      ['web1', 'web2'],
      ['web3'],
    ]);
    const text = formatPlans(outcomes, mark);
    expect(text).toContain('web1, web2: identical (2 hosts)');
    expect(text.match(/files against live release/g)).toHaveLength(2);
  });

  it('the JSON carries the contents on the change', () => {
    const doc = planDocument('api-orders', [outcome('web1', [local('server.js', 'v1\n')])]) as {
      hosts: { changes: { kind: string; contents?: ReleaseContents }[] }[];
    };
    const releaseChange = doc.hosts[0]!.changes.find((candidate) => candidate.kind === 'release')!;
    expect(releaseChange.contents).toEqual({
      live: 'aaaaaaaaaaaa',
      added: [{ path: 'new.txt', size: 2 }],
      changed: [
        {
          path: 'server.js',
          size: 3,
          sizeBefore: 3,
          sha256: sha256Hex('v2\n'),
          sha256Before: sha256Hex('v1\n'),
        },
      ],
      removed: [],
    });
  });
});
