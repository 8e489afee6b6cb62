import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest, stringifyManifest } from '../../src/core/manifest-file.js';
import { validateManifest, type Manifest } from '../../src/core/manifest.js';

const GOOD = `
schema: 1
name: api-orders
description: Orders API
port: 3000
health: /ok
runtime: node
init: systemd
monit: true
user: api-orders
command: [/usr/bin/node, server.js]
stopTimeout: 30
env: { FOO: bar }
files:
  /etc/default/api-orders: { mode: "0600", owner: root, group: root, secret: true }
generator: { svc: 0.1.0 }
`;

const bytes = (text: string) => new TextEncoder().encode(text);

/** The error lines parseManifest reports for a text. */
function problems(text: string): string[] {
  try {
    parseManifest(bytes(text));
  } catch (error) {
    if (error instanceof ManifestError) return error.lines;
    throw error;
  }
  throw new Error('expected the manifest to be refused');
}

const withLine = (from: RegExp, to: string) => GOOD.replace(from, to);

describe('parseManifest', () => {
  it('reads a good manifest', () => {
    const manifest = parseManifest(bytes(GOOD));
    expect(manifest.name).toBe('api-orders');
    expect(manifest.port).toBe(3000);
    expect(manifest.env).toEqual({ FOO: 'bar' });
  });

  it('round-trips through stringifyManifest', () => {
    const manifest = parseManifest(bytes(GOOD));
    expect(parseManifest(bytes(stringifyManifest(manifest)))).toEqual(manifest);
  });

  it.each([
    [/port: 3000/, 'port: 70000', 'svc.yaml: port: must be an integer between 1 and 65535'],
    [/port: 3000/, 'port: "3000"', 'svc.yaml: port: must be an integer between 1 and 65535'],
    [/port: 3000/, 'port: 30.5', 'svc.yaml: port: must be an integer between 1 and 65535'],
    [
      /init: systemd/,
      'init: runit',
      'svc.yaml: init: must be one of systemd, openrc, upstart, monit',
    ],
    [
      /health: \/ok/,
      'health: ok',
      'svc.yaml: health: must be a URL path such as /ok (letters, digits, . _ ~ - /)',
    ],
    [
      /health: \/ok/,
      'health: "/ok$(reboot)"',
      'svc.yaml: health: must be a URL path such as /ok (letters, digits, . _ ~ - /)',
    ],
    [/monit: true/, 'monit: yes please', 'svc.yaml: monit: must be true or false'],
    [
      /stopTimeout: 30/,
      'stopTimeout: 0',
      'svc.yaml: stopTimeout: must be a whole number of seconds between 1 and 3600',
    ],
    [
      /user: api-orders/,
      'user: "root;reboot"',
      'svc.yaml: user: must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or -',
    ],
    [
      /env: \{ FOO: bar \}/,
      'env: { FOO: 1 }',
      'svc.yaml: env.FOO: must be a string (quote numbers and booleans)',
    ],
    [
      /env: \{ FOO: bar \}/,
      'env: { foo: bar }',
      'svc.yaml: env.foo: must be an upper-case variable name (A-Z, 0-9, _)',
    ],
    [
      /env: \{ FOO: bar \}/,
      'env: { IFS: x }',
      'svc.yaml: env.IFS: is reserved: the init script sets it',
    ],
    [
      /command: .*/,
      'command: [node, server.js]',
      'svc.yaml: command.0: must be an absolute path, e.g. /usr/bin/node',
    ],
    [
      /description: .*/,
      'description: "two\\nlines"',
      'svc.yaml: description: must be a single line without control characters',
    ],
    [
      /name: api-orders/,
      'name: orders',
      'svc.yaml: name: must be valid: a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters (did you mean api-orders?)',
    ],
    [
      /mode: "0600"/,
      'mode: 600',
      'svc.yaml: files./etc/default/api-orders.mode: must be an octal mode in quotes, e.g. "0644"',
    ],
  ])('%s -> %s is refused', (from, to, expected) => {
    expect(problems(withLine(from, to))).toEqual([expected]);
  });

  it('reports unknown keys with a did-you-mean hint, at any depth', () => {
    const text = withLine(/port: 3000/, 'prot: 3000').replace('secret: true', 'secert: true');
    expect(problems(text)).toEqual([
      'svc.yaml: prot: unknown key (did you mean port?)',
      'svc.yaml: files./etc/default/api-orders.secert: unknown key (did you mean secret?)',
    ]);
  });

  it('reports every problem at once, each with its path', () => {
    const text = withLine(/port: 3000/, 'port: 0')
      .replace('init: systemd', 'init: sysv')
      .replace(/monit: true/, 'monit: 1');
    expect(problems(text)).toEqual([
      'svc.yaml: port: must be an integer between 1 and 65535',
      'svc.yaml: init: must be one of systemd, openrc, upstart, monit',
      'svc.yaml: monit: must be true or false',
    ]);
  });

  it('takes an alert address monit can read as is, and only with monit', () => {
    const alerting = withLine(/^monit: true$/m, 'monit: true\nalert: ops+svc@example.com');
    expect(parseManifest(bytes(alerting)).alert).toBe('ops+svc@example.com');
    for (const bad of [`'"ops@example.com"'`, "'a b@example.com'", 'ops@localhost', "'x@y.z # c'"])
      expect(problems(withLine(/^monit: true$/m, `monit: true\nalert: ${bad}`)).join('\n')).toMatch(
        /alert: must be an email address/,
      );
    expect(
      problems(withLine(/^monit: true$/m, 'monit: false\nalert: ops@example.com')).join('\n'),
    ).toMatch(/alert: monit sends the alerts/);
  });

  it('takes appPort for a node www- site only, never equal to port', () => {
    const site = GOOD.replace('name: api-orders', 'name: www-shop').replace(
      '/etc/default/api-orders',
      '/etc/default/www-shop',
    );
    expect(
      parseManifest(bytes(site.replace('port: 3000', 'port: 80\nappPort: 10080'))).appPort,
    ).toBe(10080);
    expect(problems(site.replace('port: 3000', 'port: 80\nappPort: 80'))).toEqual([
      'svc.yaml: appPort: must differ from port: nginx listens on port and proxies to appPort',
    ]);
    expect(problems(site.replace('port: 3000', 'port: 80\nappPort: 70000'))).toEqual([
      'svc.yaml: appPort: must be an integer between 1 and 65535',
    ]);
    expect(problems(withLine(/^port: 3000$/m, 'port: 3000\nappPort: 13000'))).toEqual([
      'svc.yaml: appPort: only a node www- site has one: its process behind nginx',
    ]);
  });

  it('says which field is missing', () => {
    expect(problems(withLine(/user: api-orders\n/, ''))).toEqual(['svc.yaml: user: is required']);
  });

  it('applies the rules of the kind', () => {
    const worker = GOOD.replace('name: api-orders', 'name: service-mailer');
    expect(problems(worker)).toEqual([
      'svc.yaml: port: a service- worker has no port',
      'svc.yaml: health: a service- worker has no health URL; it is checked by pidfile',
    ]);
    expect(problems(withLine(/port: 3000\n/, ''))).toEqual([
      'svc.yaml: port: is required for a api- service',
    ]);
    expect(
      problems(withLine(/monit: true/, 'monit: false').replace('init: systemd', 'init: monit')),
    ).toEqual([
      'svc.yaml: monit: must be true when init is monit: the monit check is what starts the service',
    ]);
  });

  it('refuses YAML it cannot read unambiguously, naming the line', () => {
    expect(problems(`${GOOD}port: 4000\n`)).toEqual([
      'svc.yaml:17:1: port: duplicate key (first on line 5)',
    ]);
    expect(problems(`${GOOD}---\nport: 1\n`)).toEqual([
      'svc.yaml:17:1: more than one YAML document (a second ---?); svc.yaml is one mapping',
    ]);
    expect(problems(`deep: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)[0]).toMatch(
      /^svc\.yaml:1:\d+: nested too deeply$/,
    );
    expect(problems('name: [unclosed\n')[0]).toMatch(/^svc\.yaml:\d+:\d+: /);
    expect(problems('- a list\n')).toEqual(['svc.yaml: must be a mapping of keys to values']);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    expect(problems(`${levels.join('\n')}\n`)).toEqual([
      'svc.yaml:3:1: c: its YAML aliases expand too far (an alias bomb?)',
    ]);
    expect(problems(`- &a [x, x]\n- [${Array(60).fill('*a').join(',')}]\n`)).toEqual([
      'svc.yaml: its YAML aliases expand too far (an alias bomb?)',
    ]);
  });

  it('refuses bytes that are not UTF-8, naming the line', () => {
    const bad = new Uint8Array([...bytes('schema: 1\nname: api-'), 0xff, 0xfe, 0x0a]);
    expect(() => parseManifest(bad)).toThrow(
      new ManifestError(['svc.yaml:2: not valid UTF-8; save svc.yaml as UTF-8']),
    );
  });

  it('keeps each problem on one line, however hostile the key', () => {
    expect(problems(`${GOOD}"a\\nb\\u202e": 1\n${'k'.repeat(1000)}: 2\n`)).toEqual([
      'svc.yaml: "a\\nb\\u202e": unknown key',
      `svc.yaml: "${'k'.repeat(64)}"... (1000 characters): unknown key`,
    ]);
  });

  it('refuses a huge file before parsing it, naming the line that makes it huge', () => {
    expect(problems(`# ${'x'.repeat(300 * 1024)}\n`)).toEqual([
      'svc.yaml:1: a line of 307202 bytes; svc.yaml may be at most 256 KiB',
    ]);
    expect(problems(`${GOOD}description: "${'x'.repeat(300 * 1024)}"\n`)).toEqual([
      'svc.yaml:17: description: a line of 307215 bytes; svc.yaml may be at most 256 KiB',
    ]);
    expect(problems(`# x\n`.repeat(100_000))).toEqual([
      'svc.yaml: 400000 bytes; svc.yaml may be at most 256 KiB (is this the right file?)',
    ]);
  });
});

describe('validateManifest', () => {
  it('returns the typed manifest', () => {
    const result = validateManifest({
      schema: 1,
      name: 'www-shop',
      description: 'Shop',
      port: 8080,
      health: '/ok',
      runtime: 'static',
      monit: true,
      user: 'www-shop',
      stopTimeout: 30,
      env: {},
      files: {},
      generator: { svc: '0.1.0' },
    } satisfies Manifest);
    expect(result.ok).toBe(true);
  });

  it('refuses a static site with an init system', () => {
    const result = validateManifest({
      schema: 1,
      name: 'www-shop',
      description: 'Shop',
      port: 8080,
      health: '/ok',
      runtime: 'static',
      init: 'systemd',
      monit: true,
      user: 'www-shop',
      stopTimeout: 30,
      env: {},
      files: {},
      generator: { svc: '0.1.0' },
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: 'init',
          keys: ['init'],
          message: 'a static site runs no process of its own (nginx serves it)',
        },
      ],
    });
  });
});
