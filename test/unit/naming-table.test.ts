// Service names, one case per hostile or near-miss input, with the exact line svc prints and the
// exact suggestion: each boundary (32 characters, 64 shown), each kind of odd character (control,
// DEL, look-alike, invisible), each bare kind, and each shape of stray dashes.
import { describe, expect, it } from 'vitest';
import { checkServiceName, quoted, shownText, suggestServiceName } from '../../src/core/naming.js';

const RULE =
  'a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters';
const a = (count: number) => 'a'.repeat(count);

describe('checkServiceName and suggestServiceName, exactly', () => {
  it.each([
    // [name, shown, aside, hint, suggestion]
    ['api', '"api"', '', ' (a name goes after api-: api-orders, say)', undefined],
    ['API_', '"API_"', '', ' (a name goes after api-: api-orders, say)', undefined],
    ['API__', '"API__"', '', ' (a name goes after api-: api-orders, say)', undefined],
    ['-api', '"-api"', '', ' (a name goes after api-: api-orders, say)', undefined],
    ['www-', '"www-"', '', ' (a name goes after www-: www-shop, say)', undefined],
    [
      '--service--',
      '"--service--"',
      '',
      ' (a name goes after service-: service-mailer, say)',
      undefined,
    ],
    ['a-pi', '"a-pi"', '', ' (did you mean api-a-pi?)', 'api-a-pi'],
    ['', '""', ' (empty)', '', undefined],
    ['x', '"x"', '', ' (did you mean api-x?)', 'api-x'],
    ['--orders', '"--orders"', '', ' (did you mean api-orders?)', 'api-orders'],
    ['orders-', '"orders-"', '', ' (did you mean api-orders?)', 'api-orders'],
    ['API__Orders', '"API__Orders"', '', ' (did you mean api-orders?)', 'api-orders'],
    ['www.shop', '"www.shop"', '', ' (did you mean www-shop?)', 'www-shop'],
    ['api--x', '"api--x"', '', ' (did you mean api-x?)', 'api-x'],
    [
      `api-${a(29)}`,
      `"api-${a(29)}"`,
      ' (33 characters)',
      ` (did you mean api-${a(28)}?)`,
      `api-${a(28)}`,
    ],
    // 32 characters but invalid: the length is not a problem of its own.
    [`Api-${a(28)}`, `"Api-${a(28)}"`, '', ` (did you mean api-${a(28)}?)`, `api-${a(28)}`],
    // Cut at 32 characters on a dash: the dash goes.
    [
      `api-${a(27)}-b`,
      `"api-${a(27)}-b"`,
      ' (33 characters)',
      ` (did you mean api-${a(27)}?)`,
      `api-${a(27)}`,
    ],
    // Shown whole up to 64 characters, with the length as an aside; beyond, cut with the length.
    [a(64), `"${a(64)}"`, ' (64 characters)', ` (did you mean api-${a(28)}?)`, `api-${a(28)}`],
    [a(65), `"${a(64)}"... (65 characters)`, '', ` (did you mean api-${a(28)}?)`, `api-${a(28)}`],
    [
      'api-x\x1f',
      '"api-x\\u001f"',
      ' (U+001F is a control character)',
      ' (did you mean api-x?)',
      'api-x',
    ],
    [
      'api-x\x7f',
      '"api-x\\u007f"',
      ' (U+007F is a control character)',
      ' (did you mean api-x?)',
      'api-x',
    ],
    [
      'api-x\u0430',
      '"api-x\\u0430"',
      ' (U+0430 is not ASCII: a look-alike or invisible character?)',
      '',
      undefined,
    ],
    [
      'api-x\u00a0',
      '"api-x\\u00a0"',
      ' (U+00A0 is not ASCII: a look-alike or invisible character?)',
      ' (did you mean api-x?)',
      'api-x',
    ],
  ])('%j', (name, shown, aside, hint, suggestion) => {
    const result = checkServiceName(name);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toBe(`invalid service name ${shown}${aside}: ${RULE}${hint}`);
    const why = aside === '' ? '' : `${aside.slice(2, -1)}; `;
    if (!shown.endsWith('characters)')) expect(result.problem).toBe(`${why}${RULE}${hint}`);
    expect(suggestServiceName(name)).toBe(suggestion);
  });

  it.each(['api-orders', 'www-shop', 'service-mailer', `api-${a(28)}`])(
    '%s is valid, and nothing is suggested for it',
    (name) => {
      expect(checkServiceName(name)).toEqual({ ok: true, kind: name.slice(0, name.indexOf('-')) });
      expect(suggestServiceName(name)).toBeUndefined();
    },
  );
});

describe('quoted and shownText at their limits', () => {
  it.each([
    ['abc', 3, '"abc"'],
    ['abcd', 3, '"abc"... (4 characters)'],
    [a(64), undefined, `"${a(64)}"`],
    [a(65), undefined, `"${a(64)}"... (65 characters)`],
  ])('quoted(%j, %s)', (text, max, expected) => {
    expect(quoted(text, max)).toBe(expected);
  });

  it.each([
    [a(200), undefined, a(200)],
    [a(201), undefined, `"${a(200)}"... (201 characters)`],
    ['abc', 3, 'abc'],
    ['abcd', 3, '"abc"... (4 characters)'],
  ])('shownText(%j, %s)', (text, max, expected) => {
    expect(shownText(text, max)).toBe(expected);
  });
});
