import { describe, expect, it } from 'vitest';
import { checkServiceName, suggestServiceName } from '../../src/core/naming.js';

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
});
