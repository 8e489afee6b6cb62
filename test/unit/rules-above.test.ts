// rulesAbove: the ignore rules in force at a project below the top of its work tree, as git's
// prep_exclude builds them. The differential test (ignore-differential-checkouts) checks the
// outcome against git; these pin the steps.
import { describe, expect, it } from 'vitest';
import { parseIgnoreFile, rulesAbove, verdictOf } from '../../src/core/ignore-rules.js';

const patterns = (text: string) => parseIgnoreFile(text, 'git');

describe('rulesAbove', () => {
  it('stacks info/exclude and the .gitignore of each directory above, deepest first', () => {
    const asked: string[] = [];
    const files: Record<string, string> = { '': '*.log\n', services: '!keep.log\n' };
    const { levels, excluded } = rulesAbove('services/api/', patterns('*.tmp\n'), (dir) => {
      asked.push(dir);
      return files[dir] === undefined ? undefined : patterns(files[dir]);
    });
    expect(asked).toEqual(['', 'services']);
    expect(excluded).toBe(false);
    expect(levels.map((level) => level.base)).toEqual(['services', '', '']);
    expect(verdictOf(levels, 'services/api/x.log', false)).toBe('excluded by git');
    expect(verdictOf(levels, 'services/api/keep.log', false)).toBe('included');
    expect(verdictOf(levels, 'services/api/x.tmp', false)).toBe('excluded by git');
    expect(verdictOf(levels, 'services/api/x.js', false)).toBe('included');
  });

  it('stops at the first excluded directory and does not read the ones below it', () => {
    const asked: string[] = [];
    const { excluded } = rulesAbove('a/b/c/', [], (dir) => {
      asked.push(dir);
      return dir === 'a' ? patterns('b/\n') : undefined;
    });
    expect(excluded).toBe(true);
    expect(asked).toEqual(['', 'a']);
  });

  it('says so when the project directory itself is excluded, by info/exclude too', () => {
    expect(rulesAbove('a/api/', patterns('api/\n'), () => undefined).excluded).toBe(true);
    expect(rulesAbove('a/api/', [], () => patterns('/a/api\n')).excluded).toBe(true);
    expect(rulesAbove('a/api/', [], () => patterns('a/api\n!a/api\n')).excluded).toBe(false);
    expect(rulesAbove('', patterns('*\n'), () => undefined)).toEqual({
      levels: [{ base: '', patterns: patterns('*\n') }],
      excluded: false,
    });
  });
});
