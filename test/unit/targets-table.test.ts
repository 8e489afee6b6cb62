// TARGET items, one case per hostile or edge input, with the exact parts or the exact error line.
import { describe, expect, it } from 'vitest';
import { parseTargetItem } from '../../src/core/targets.js';

/** The message parseTargetItem throws for an item. */
function refusal(item: string): string {
  try {
    parseTargetItem(item);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${item} to be refused`);
}

describe('parseTargetItem, exactly', () => {
  it.each([
    ['a@b@c', 'target "a@b@c": more than one @'],
    ['@web', 'target "@web": no user before the @'],
    ['root@', 'target "root@": no host after the @'],
    ['', 'target "": no host'],
    ['bad user@web', 'target "bad user@web": "bad user" is not a user name'],
    ['us$er@web', 'target "us$er@web": "us$er" is not a user name'],
    ['-u@web', 'target "-u@web": "-u" is not a user name'],
    ['[::1', 'target "[::1": [ without ]: write an IPv6 address as [::1] or [::1]:2222'],
    ['[::1]x', 'target "[::1]x": unexpected "x" after ]'],
    ['[::1]:', 'target "[::1]:": port must be an integer between 1 and 65535 (got "")'],
    ['web:', 'target "web:": port must be an integer between 1 and 65535 (got "")'],
    ['web:0', 'target "web:0": port must be an integer between 1 and 65535 (got "0")'],
    ['web:65536', 'target "web:65536": port must be an integer between 1 and 65535 (got "65536")'],
    [
      'web:123456',
      'target "web:123456": port must be an integer between 1 and 65535 (got "123456")',
    ],
    ['web:-1', 'target "web:-1": port must be an integer between 1 and 65535 (got "-1")'],
    ['web:1e3', 'target "web:1e3": port must be an integer between 1 and 65535 (got "1e3")'],
    [':22', 'target ":22": no host'],
    ['-web', 'target "-web": "-web" is not a host name or address'],
    ['web;reboot', 'target "web;reboot": "web;reboot" is not a host name or address'],
    ['web/x', 'target "web/x": "web/x" is not a host name or address'],
    ['[]:22', 'target "[]:22": no host'],
    ['web:22:33', 'target "web:22:33": port must be an integer between 1 and 65535 (got "22:33")'],
    ['::g', 'target "::g": no host'],
    ['a:b', 'target "a:b": port must be an integer between 1 and 65535 (got "b")'],
    ['web: 22', 'target "web: 22": port must be an integer between 1 and 65535 (got " 22")'],
    [
      '[::1]:99999',
      'target "[::1]:99999": port must be an integer between 1 and 65535 (got "99999")',
    ],
    // The URL parser alone would take these as IPv6 with a path: only hex digits, : and . are
    // ever handed to it, from the first character to the last.
    ['::1]/x', 'target "::1]/x": no host'],
    ['::1]/x[::1', 'target "::1]/x[::1": no host'],
    [
      'fe80::1]:22/x',
      'target "fe80::1]:22/x": port must be an integer between 1 and 65535 (got ":1]:22/x")',
    ],
  ])('%j is refused', (item, message) => {
    expect(refusal(item)).toBe(message);
  });

  it.each([
    ['svc$@web', { user: 'svc$', host: 'web', bracketed: false }],
    ['[::1]:2222', { host: '::1', port: 2222, bracketed: true }],
    ['[web]:22', { host: 'web', port: 22, bracketed: true }],
    ['::1', { host: '::1', bracketed: false }],
    ['fe80::1', { host: 'fe80::1', bracketed: false }],
    ['web:65535', { host: 'web', port: 65535, bracketed: false }],
    ['web:1', { host: 'web', port: 1, bracketed: false }],
    ['_web', { host: '_web', bracketed: false }],
    ['w.e-b_1', { host: 'w.e-b_1', bracketed: false }],
    ['u.s-e_r@web:22', { user: 'u.s-e_r', host: 'web', port: 22, bracketed: false }],
    ['1.2.3.4:22', { host: '1.2.3.4', port: 22, bracketed: false }],
    ['[1.2.3.4]', { host: '1.2.3.4', bracketed: true }],
  ])('%j is split', (item, parts) => {
    expect(parseTargetItem(item)).toStrictEqual(parts);
  });
});
