import { describe, expect, it } from 'vitest';
import { checkServiceName, quoted, shownText, suggestServiceName } from '../../src/core/naming.js';

describe('checkServiceName', () => {
  it.each([
    ['api-orders', 'api'],
    ['www-shop', 'www'],
    ['service-mailer', 'service'],
    ['api-orders-v2', 'api'],
    ['api-a1', 'api'],
  ])('accepts %s as kind %s', (name, kind) => {
    expect(checkServiceName(name)).toEqual({ ok: true, kind });
  });

  it('accepts exactly 32 characters and refuses 33', () => {
    const at32 = `api-${'a'.repeat(28)}`;
    expect(at32).toHaveLength(32);
    expect(checkServiceName(at32).ok).toBe(true);
    expect(checkServiceName(`${at32}b`).ok).toBe(false);
  });

  it.each([
    'orders',
    'api-',
    'api--orders',
    'api-orders-',
    'API-orders',
    'api_orders',
    'api-x;reboot',
    '../api-x',
    'api-x/y',
    'api-\u0430rders', // Cyrillic a, a look-alike
    'web-shop',
    '',
  ])('refuses %j', (name) => {
    expect(checkServiceName(name).ok).toBe(false);
  });

  it('names the rule and suggests a fix', () => {
    expect(checkServiceName('orders')).toEqual({
      ok: false,
      problem:
        'a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters (did you mean api-orders?)',
      message:
        'invalid service name "orders": a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters (did you mean api-orders?)',
    });
  });
});

describe('suggestServiceName', () => {
  it.each([
    ['orders', 'api-orders'],
    ['API_Orders', 'api-orders'],
    ['www--shop', 'www-shop'],
    ['service mailer', 'service-mailer'],
    ['api-x;reboot', 'api-x-reboot'],
  ])('%j -> %j', (input, expected) => {
    expect(suggestServiceName(input)).toBe(expected);
  });

  it('has nothing to suggest for punctuation alone', () => {
    expect(suggestServiceName('../;')).toBeUndefined();
  });

  it('folds fullwidth and accented letters, but guesses nothing around another script', () => {
    expect(suggestServiceName('\uff41\uff50\uff49-x')).toBe('api-x');
    expect(suggestServiceName('api-caf\u00e9')).toBe('api-cafe');
    expect(suggestServiceName('\u0430pi-x')).toBeUndefined();
  });
});

describe('what an invalid name says about itself', () => {
  const RULE =
    'a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters';

  it.each([
    ['\u0430pi-x', '"\\u0430pi-x" (U+0430 is not ASCII: a look-alike or invisible character?)', ''],
    [
      'api-x\u200b',
      '"api-x\\u200b" (U+200B is not ASCII: a look-alike or invisible character?)',
      ' (did you mean api-x?)',
    ],
    [
      'api-x\nreboot',
      '"api-x\\nreboot" (U+000A is a control character)',
      ' (did you mean api-x-reboot?)',
    ],
    [
      `api-${'a'.repeat(29)}`,
      `"api-${'a'.repeat(29)}" (33 characters)`,
      ` (did you mean api-${'a'.repeat(28)}?)`,
    ],
    ['', '"" (empty)', ''],
  ])('%j', (name, shown, hint) => {
    const check = checkServiceName(name);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toBe(`invalid service name ${shown}: ${RULE}${hint}`);
  });

  it('shows a very long name cut, with its length once', () => {
    const check = checkServiceName(`api-${'a'.repeat(10_000)}`);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.message).toMatch(
        /^invalid service name "api-a{60}"\.\.\. \(10004 characters\): a service/,
      );
      expect(check.problem).toMatch(/^10004 characters; a service name is/);
    }
  });
});

describe('quoted and shownText', () => {
  it('escapes everything but printable ASCII, so one value stays one line', () => {
    expect(quoted('a\nb\t\u001b[2J\u202e\u0430"\\')).toBe(
      '"a\\nb\\t\\u001b[2J\\u202e\\u0430\\"\\\\"',
    );
  });

  it('cuts a long value and says how long it was', () => {
    expect(quoted('x'.repeat(100), 3)).toBe('"xxx"... (100 characters)');
  });

  it('leaves a plain path alone and quotes anything else', () => {
    expect(shownText('/etc/default/api-x')).toBe('/etc/default/api-x');
    expect(shownText('config/my file')).toBe('"config/my file"');
  });
});
