// git's wildmatch and .gitignore reading (issue 17), case by case: every case is a .gitignore in
// its own directory and one path below it, and the expectation is what the real git says, asked
// once for the whole table (`git check-ignore --no-index -v -n -z --stdin`, about 20 ms): nothing
// git answers is written down here. svc's answer is the walk's: a path is excluded when one of
// its directories below the case directory is, or it is itself (verdictOf).
// The random-tree comparison with `git ls-files` is test/reliability/ignore-differential.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIgnoreFile, verdictOf, type IgnoreLevel } from '../../src/core/ignore-rules.js';
import { isolatedGitEnv } from '../reliability/helpers/ignore-trees.js';

/** [.gitignore text, path below the case directory, whether that path is a directory] */
type Case = [ignore: string, path: string, dir?: boolean];

const CASES: Case[] = [
  // * and ? stay within a component in a path pattern, not in a basename one
  ['/a*\n', 'abc'],
  ['/a*\n', 'x/abc'],
  ['/a*c\n', 'ab/c'],
  ['/a*/c\n', 'ab/c'],
  ['/a*/c\n', 'ab/d/c'],
  ['/a?c\n', 'abc'],
  ['/a?c\n', 'ac'],
  ['/a?c\n', 'abbc'],
  ['/a?c/d\n', 'a/c/d'],
  ['a?c\n', 'x/abc'],
  ['*.log\n', 'x/y/z.log'],
  ['*.log\n', 'z.logx'],
  ['x/*.log\n', 'x/y/z.log'],
  ['x/*.log\n', 'x/z.log'],
  ['*\n', 'anything'],
  ['/*\n', 'a/b'],
  ['a*b*c\n', 'aXbYc'],
  ['a*b*c\n', 'aXbY'],
  ['*a*\n', 'bab'],
  ['*a\n', 'ba'],
  ['*a\n', 'ab'],
  ['a*\n', 'a'],
  ['**\n', 'a/b/c'],
  // ** between slashes, at the start, at the end; and where it is just two stars
  ['/**/c\n', 'c'],
  ['/**/c\n', 'a/b/c'],
  ['a/**/c\n', 'a/c'],
  ['a/**/c\n', 'a/b/c'],
  ['a/**/c\n', 'a/b/d/c'],
  ['a/**/c\n', 'ab/c'],
  ['a/**\n', 'a/b/c'],
  ['a/**\n', 'a', true],
  ['/a**\n', 'ab/c'],
  ['/a**/c\n', 'ab/c'],
  ['/a**/c\n', 'ab/x/c'],
  ['/a**\n', 'ab/x/c'],
  ['/a*b**/c\n', 'aXb/y/c'],
  ['x/a**/c\n', 'x/ab/y/c'],
  ['/**a/c\n', 'xa/c'],
  ['/**a/c\n', 'x/a/c'],
  ['a/***/c\n', 'a/b/c'],
  ['a/**\\/c\n', 'a/b/c'],
  ['/**/*.log\n', 'a/b/c.log'],
  ['a/**/b/**/c\n', 'a/x/b/y/c'],
  ['a/**/b/**/c\n', 'a/b/c'],
  ['/x/**/y*/z\n', 'x/a/yb/z'],
  ['/x/**/y*/z\n', 'x/a/y/b/z'],
  // brackets: ranges, negation, classes, ] and - as members, malformed
  ['/[abc]\n', 'b'],
  ['/[abc]\n', 'd'],
  ['/[a-c]x\n', 'bx'],
  ['/[a-c]x\n', 'dx'],
  ['/[!a-c]x\n', 'dx'],
  ['/[!a-c]x\n', 'bx'],
  ['/[^a-c]x\n', 'dx'],
  ['/[]]\n', ']'],
  ['/[]a]\n', 'a'],
  ['/[!]]\n', 'a'],
  ['/[!]]\n', ']'],
  ['/[a-]\n', '-'],
  ['/[-a]\n', '-'],
  ['/[a-c-e]\n', 'd'],
  ['/[a-c-e]\n', '-'],
  ['/[\\]]\n', ']'],
  ['/[\\-]\n', '-'],
  ['/[a\\-c]\n', 'b'],
  ['/[a-\\c]\n', 'b'],
  ['/[abc\n', '[abc'],
  ['/[abc\n', 'a'],
  ['/a[/]b\n', 'a/b'],
  ['/a[!b]c\n', 'a/c'],
  ['[a/]b\n', 'xb'],
  ['/[[:alpha:]]x\n', 'qx'],
  ['/[[:alpha:]]x\n', '1x'],
  ['/[[:digit:]]\n', '7'],
  ['/[[:digit:]]\n', 'a'],
  ['/[[:alnum:]]\n', 'Z'],
  ['/[[:alnum:]]\n', '_'],
  ['/[[:upper:]]\n', 'A'],
  ['/[[:upper:]]\n', 'a'],
  ['/[[:lower:]]\n', 'a'],
  ['/[[:lower:]]\n', 'A'],
  ['/[[:xdigit:]]\n', 'f'],
  ['/[[:xdigit:]]\n', 'g'],
  ['/[[:punct:]]\n', '_'],
  ['/[[:punct:]]\n', 'a'],
  ['/[[:punct:]]\n', '~'],
  ['/[[:space:]]x\n', ' x'],
  ['/[[:space:]]x\n', 'ax'],
  ['/a[[:blank:]]\n', 'a\t'],
  ['/a[[:blank:]]\n', 'ab'],
  ['/a[[:print:]]\n', 'a '],
  ['/a[[:print:]]\n', 'a\x7f'],
  ['/a[[:graph:]]\n', 'a '],
  ['/a[[:graph:]]\n', 'a~'],
  ['/a[[:cntrl:]]\n', 'a\x01'],
  ['/a[[:cntrl:]]\n', 'a\x7f'],
  ['/a[[:cntrl:]]\n', 'ab'],
  ['/[[:alpha:][:digit:]]\n', '5'],
  ['/[[:nope:]]\n', 'a'],
  ['/[[:alpha]\n', 'a'],
  ['/[[:alpha]\n', '['],
  ['/[[:alpha:]\n', 'a'],
  ['/[[:alpha:]-z]\n', '-'],
  ['/[a-[:alpha:]]\n', 'b'],
  // escapes, trailing spaces, comments, negation, directories
  ['/\\*\n', '*'],
  ['/\\*\n', 'a'],
  ['/a\\?\n', 'a?'],
  ['/a\\?\n', 'ab'],
  ['\\#x\n', '#x'],
  ['#x\n', '#x'],
  ['\\!x\n', '!x'],
  ['a  \n', 'a'],
  ['a\\ \n', 'a '],
  ['a\\  \n', 'a '],
  ['a \\ \n', 'a  '],
  ['a\\\n', 'a'],
  ['a\r\n', 'a'],
  ['\uFEFFa\n', 'a'],
  ['*.log\n!keep.log\n', 'keep.log'],
  ['!keep.log\n*.log\n', 'keep.log'],
  ['x/\n', 'x', true],
  ['x/\n', 'x'],
  ['x/\n', 'y/x/z'],
  ['/x/\n', 'y/x', true],
  ['!\n', '!'],
  ['/\n', 'a'],
  ['  \n', '  '],
  ['a/b\n', 'x/a/b'],
  ['/a/b/\n', 'a/b', true],
  ['\u00e9\n', '\u00e9'],
  ['/?\n', '\u00e9'],
  ['/??\n', '\u00e9'],
];

let work: string;
/** git's verdict per case: excluded or not. */
let fromGit: boolean[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svc-wildmatch-'));
  const env = isolatedGitEnv(join(work, 'home'));
  const top = join(work, 'tree');
  execFileSync('git', ['init', '-q', top], { env });
  CASES.forEach(([ignore, path, isDir], index) => {
    const caseDir = join(top, `c${index}`);
    mkdirSync(join(caseDir, dirname(path)), { recursive: true });
    if (isDir) mkdirSync(join(caseDir, path), { recursive: true });
    else writeFileSync(join(caseDir, path), '');
    writeFileSync(join(caseDir, '.gitignore'), ignore);
  });
  const input = CASES.map((_, index) => `c${index}/${CASES[index]![1]}`).join('\0') + '\0';
  const out = execFileSync('git', ['check-ignore', '--no-index', '-v', '-n', '-z', '--stdin'], {
    cwd: top,
    env,
    input: Buffer.from(input, 'utf8'),
    encoding: 'utf8',
  });
  // -z -v: source, line, pattern, path, each ended by NUL; an unmatched path has empty fields.
  const fields = out.split('\0');
  fromGit = CASES.map((_, index) => {
    const pattern = fields[index * 4 + 2]!;
    return pattern !== '' && !pattern.startsWith('!');
  });
});

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** svc's answer: a directory on the way below the case directory excluded, or the path. */
function svcExcludes([ignore, path, isDir]: Case, index: number): boolean {
  const base = `c${index}`;
  const levels: IgnoreLevel[] = [{ base, patterns: parseIgnoreFile(ignore, 'git') }];
  const parts = path.split('/');
  for (let depth = 1; depth < parts.length; depth++) {
    const dir = `${base}/${parts.slice(0, depth).join('/')}`;
    if (verdictOf(levels, dir, true) !== 'included') return true;
  }
  return verdictOf(levels, `${base}/${path}`, isDir ?? false) !== 'included';
}

describe('a .gitignore pattern against a path: svc says what git says', () => {
  it('git answered for every case', () => {
    expect(fromGit).toHaveLength(CASES.length);
    // the table is not one-sided: both answers occur
    expect(fromGit.filter(Boolean).length).toBeGreaterThan(CASES.length / 4);
    expect(fromGit.filter((x) => !x).length).toBeGreaterThan(CASES.length / 4);
  });

  it.each(
    CASES.map(
      (c, index) => [index, JSON.stringify(c[0]), JSON.stringify(c[1]), c[2] ?? false] as const,
    ),
  )('case %i: %s against %s (directory: %s)', (index) => {
    expect(svcExcludes(CASES[index]!, index)).toBe(fromGit[index]);
  });
});
