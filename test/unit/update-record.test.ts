// The record's answers.yaml edited by hand or corrupted (issue 13 review): every refusal is one
// line naming the file and the field, never an internal error, and nothing from it reaches the
// terminal unchecked.
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import {
  parseRecordAnswers,
  recordAnswersText,
  recordIsNewer,
} from '../../src/core/scaffold-record.js';

const GOOD = recordAnswersText({
  svc: '0.1.0',
  answers: {
    name: 'api-x',
    description: 'x',
    runtime: 'node',
    port: 3000,
    health: '/ok',
    init: 'systemd',
    monit: true,
    user: 'api-x',
  },
});
const FILE = '.svc/scaffold/answers.yaml';
const RESTORE = '(svc writes this file; restore it from git)';

function refusal(text: string): string {
  try {
    parseRecordAnswers(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe("the record's answers.yaml, edited by hand", () => {
  it.each([
    [
      'a name that is not a service name',
      ['name: api-x', 'name: ../x'],
      'answers.name: must be a valid service name',
    ],
    [
      'a name without a kind',
      ['name: api-x', 'name: shop'],
      'answers.name: must be a valid service name',
    ],
    [
      'a version with a terminal escape',
      ['svc: 0.1.0', 'svc: "\\e[2Jx"'],
      'svc: must be a version (digits, letters, . + -)',
    ],
    [
      'a version with a space',
      ['svc: 0.1.0', 'svc: "0.1 beta"'],
      'svc: must be a version (digits, letters, . + -)',
    ],
  ])('%s: refused naming the field', (_, [from, to], message) => {
    expect(refusal(GOOD.replace(from!, to!))).toBe(`${FILE}: ${message} ${RESTORE}`);
  });

  it('an alias to no anchor: refused in one line, not an internal error', () => {
    const message = refusal('svc: 0.1.0\nanswers: *x\n');
    expect(message).toMatch(
      new RegExp(`^${FILE.replaceAll('.', '\\.')}: .*alias.* ${RESTORE.replace(/[()]/g, '\\$&')}$`),
    );
    expect(message).not.toContain('\n');
  });

  it('still reads a version svc writes', () => {
    for (const svc of ['0.1.0', '1.2.3-rc.1', '2.0.0+build.5'])
      expect(parseRecordAnswers(GOOD.replace('svc: 0.1.0', `svc: ${svc}`)).svc).toBe(svc);
  });

  it('a key given twice: refused naming its line and the key', () => {
    const text = `${GOOD}  port: 4000\n`;
    const line = text.split('\n').length - 1;
    const first = text.split('\n').indexOf('  port: 3000') + 1;
    expect(refusal(text)).toBe(
      `${FILE}:${line}:3: port: duplicate key (first on line ${first}) ${RESTORE}`,
    );
  });
});

describe('recordIsNewer: a record from a later svc than this one', () => {
  it.each([
    ['0.2.0', '0.1.0', true],
    ['1.0.0', '0.9.9', true],
    ['0.1.10', '0.1.9', true],
    ['0.1.0', '0.1.0', false],
    ['0.1.0', '0.2.0', false],
    ['0.9.9', '1.0.0', false],
    ['0.1.0-rc.1', '0.1.0', false],
    ['dev', '0.1.0', false],
    ['0.1.0', 'dev', false],
  ])('%s recorded, %s running: %s', (recorded, current, newer) => {
    expect(recordIsNewer(recorded, current)).toBe(newer);
  });
});
