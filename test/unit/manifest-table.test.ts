// svc.yaml's rules field by field (issue 17): each value alone with the exact line it gives, the
// cross-field rules one at a time, and the small helpers other modules read (app port, front,
// kind, one field's problem, how a problem line is written).
import { describe, expect, it } from 'vitest';
import {
  appPortFor,
  fieldProblem,
  formatProblems,
  hasFront,
  isHostAddress,
  kindOf,
  processPort,
  validateManifest,
} from '../../src/core/manifest.js';

const GOOD = {
  schema: 1,
  name: 'api-orders',
  description: 'Orders API',
  port: 3000,
  health: '/ok',
  runtime: 'node',
  init: 'systemd',
  monit: true,
  user: 'api-orders',
  command: ['/usr/bin/node', 'server.js'],
  stopTimeout: 30,
  env: { FOO: 'bar' },
  files: { '/etc/default/api-orders': { mode: '0600', owner: 'root', group: 'root' } },
  generator: { svc: '0.1.0' },
};
/** The problem lines of GOOD with `change` applied (undefined values delete the key). */
function lines(change: Record<string, unknown>): string[] {
  const data: Record<string, unknown> = { ...GOOD, ...change };
  for (const [key, value] of Object.entries(change)) if (value === undefined) delete data[key];
  const result = validateManifest(data);
  return result.ok ? [] : formatProblems('svc.yaml', result.problems);
}

describe('validateManifest: one field at a time', () => {
  const PORT = 'must be an integer between 1 and 65535';
  const TIMEOUT = 'must be a whole number of seconds between 1 and 3600';
  const USER =
    'must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or -';
  it.each<[string, Record<string, unknown>, string[]]>([
    ['the good manifest', {}, []],
    ['port 1', { port: 1 }, []],
    ['port 65535', { port: 65535 }, []],
    ['port 0', { port: 0 }, [`svc.yaml: port: ${PORT}`]],
    ['port 65536', { port: 65536 }, [`svc.yaml: port: ${PORT}`]],
    ['port 1.5', { port: 1.5 }, [`svc.yaml: port: ${PORT}`]],
    ['port as text', { port: '80' }, [`svc.yaml: port: ${PORT}`]],
    ['schema 2', { schema: 2 }, ['svc.yaml: schema: must be 1']],
    ['a name that is no string', { name: 5 }, ['svc.yaml: name: must be a string']],
    ['a description of 200 characters', { description: 'x'.repeat(200) }, []],
    [
      'a description of 201 characters',
      { description: 'x'.repeat(201) },
      ['svc.yaml: description: must be at most 200 characters'],
    ],
    [
      'a description with a tab',
      { description: 'a\tb' },
      ['svc.yaml: description: must be a single line without control characters'],
    ],
    [
      'a description with DEL',
      { description: 'a\u007fb' },
      ['svc.yaml: description: must be a single line without control characters'],
    ],
    [
      'a description with a C1 control',
      { description: 'a\u0085b' },
      ['svc.yaml: description: must be a single line without control characters'],
    ],
    [
      'a description with a line separator',
      { description: 'a\u2028b' },
      ['svc.yaml: description: must be a single line without control characters'],
    ],
    [
      'a description with a paragraph separator',
      { description: 'a\u2029b' },
      ['svc.yaml: description: must be a single line without control characters'],
    ],
    ['a description with ü', { description: 'Bestellungen für alle' }, []],
    ['a health path of every allowed character', { health: '/a-Z_0.9~/x' }, []],
    [
      'a health path with a query',
      { health: '/ok?x=1' },
      ['svc.yaml: health: must be a URL path such as /ok (letters, digits, . _ ~ - /)'],
    ],
    [
      'a health path of 201 characters',
      { health: `/${'x'.repeat(200)}` },
      ['svc.yaml: health: must be at most 200 characters'],
    ],
    [
      'a health path with a trailing newline',
      { health: '/ok\n' },
      ['svc.yaml: health: must be a URL path such as /ok (letters, digits, . _ ~ - /)'],
    ],
    ['an unknown runtime', { runtime: 'deno' }, ['svc.yaml: runtime: must be one of node, static']],
    [
      'a misspelt runtime',
      { runtime: 'nodee' },
      ['svc.yaml: runtime: must be one of node, static (did you mean node?)'],
    ],
    [
      'an init that is no string',
      { init: 1 },
      ['svc.yaml: init: must be one of systemd, openrc, upstart, monit'],
    ],
    ['monit as text', { monit: 'true' }, ['svc.yaml: monit: must be true or false']],
    ['an alert address', { alert: 'ops@example.com' }, []],
    [
      'an alert address without a domain dot',
      { alert: 'ops@localhost' },
      ['svc.yaml: alert: must be an email address such as ops@example.com'],
    ],
    [
      'an alert address with a space',
      { alert: 'ops team@example.com' },
      ['svc.yaml: alert: must be an email address such as ops@example.com'],
    ],
    [
      'an alert address with text after it',
      { alert: 'ops@example.com x' },
      ['svc.yaml: alert: must be an email address such as ops@example.com'],
    ],
    [
      'an alert address of 255 characters',
      { alert: `${'o'.repeat(243)}@example.com` },
      ['svc.yaml: alert: must be at most 254 characters'],
    ],
    ['a user name that is no string', { user: 1 }, ['svc.yaml: user: must be a string']],
    ['an upper-case user name', { user: 'Api' }, [`svc.yaml: user: ${USER}`]],
    ['an empty command', { command: [] }, ['svc.yaml: command: must name a program']],
    [
      'a command that is no list',
      { command: '/bin/x' },
      ['svc.yaml: command: must be a list of strings'],
    ],
    [
      'an empty command word',
      { command: ['/bin/x', ''] },
      ['svc.yaml: command.1: must not be empty'],
    ],
    [
      'a command word that is no string',
      { command: ['/bin/x', 1] },
      ['svc.yaml: command.1: must be a string'],
    ],
    [
      'a command word with a newline',
      { command: ['/bin/x', 'a\nb'] },
      ['svc.yaml: command.1: must not contain control characters'],
    ],
    ['an install step', { install: ['/usr/bin/npm', 'ci'] }, []],
    ['an empty install', { install: [] }, ['svc.yaml: install: must name a program']],
    [
      'an install that is no list',
      { install: 'npm ci' },
      ['svc.yaml: install: must be a list of strings, e.g. [npm, ci, --omit=dev]'],
    ],
    ['an empty install word', { install: [''] }, ['svc.yaml: install.0: must not be empty']],
    [
      'an install word that is no string',
      { install: [1] },
      ['svc.yaml: install.0: must be a string'],
    ],
    [
      'an install word with a control character',
      { install: ['a\u0001'] },
      ['svc.yaml: install.0: must not contain control characters'],
    ],
    ['stopTimeout 1', { stopTimeout: 1 }, []],
    ['stopTimeout 3600', { stopTimeout: 3600 }, []],
    ['stopTimeout 3601', { stopTimeout: 3601 }, [`svc.yaml: stopTimeout: ${TIMEOUT}`]],
    ['stopTimeout 0', { stopTimeout: 0 }, [`svc.yaml: stopTimeout: ${TIMEOUT}`]],
    ['stopTimeout 1.5', { stopTimeout: 1.5 }, [`svc.yaml: stopTimeout: ${TIMEOUT}`]],
    ['stopTimeout as text', { stopTimeout: '30' }, [`svc.yaml: stopTimeout: ${TIMEOUT}`]],
    [
      'a generator version that is no string',
      { generator: { svc: 1 } },
      ['svc.yaml: generator.svc: must be a string'],
    ],
    [
      'a file mode without quotes',
      { files: { '/etc/x': { mode: 644 } } },
      ['svc.yaml: files./etc/x.mode: must be an octal mode in quotes, e.g. "0644"'],
    ],
    ['a file mode of three digits', { files: { '/etc/x': { mode: '644' } } }, []],
    ['a file mode of five digits', { files: { '/etc/x': { mode: '01644' } } }, []],
    [
      'a file mode with an 8',
      { files: { '/etc/x': { mode: '0648' } } },
      ['svc.yaml: files./etc/x.mode: must be an octal mode in quotes, e.g. "0644"'],
    ],
    [
      'a file mode of six digits',
      { files: { '/etc/x': { mode: '001644' } } },
      ['svc.yaml: files./etc/x.mode: must be an octal mode in quotes, e.g. "0644"'],
    ],
    [
      'a file owner that is no user name',
      { files: { '/etc/x': { mode: '0644', owner: 'Root' } } },
      ['svc.yaml: files./etc/x.owner: must be a user name'],
    ],
    [
      'a file owner that is no string',
      { files: { '/etc/x': { mode: '0644', owner: 0 } } },
      ['svc.yaml: files./etc/x.owner: must be a user name'],
    ],
    [
      'a file group that is no group name',
      { files: { '/etc/x': { mode: '0644', group: 'a b' } } },
      ['svc.yaml: files./etc/x.group: must be a group name'],
    ],
    [
      'a file group that is no string',
      { files: { '/etc/x': { mode: '0644', group: 0 } } },
      ['svc.yaml: files./etc/x.group: must be a group name'],
    ],
    [
      'secret as text',
      { files: { '/etc/x': { mode: '0644', secret: 'yes' } } },
      ['svc.yaml: files./etc/x.secret: must be true or false'],
    ],
    [
      'a relative file path',
      { files: { 'etc/x': { mode: '0644' } } },
      ['svc.yaml: files.etc/x: must be an absolute host path without . or .. components'],
    ],
    [
      'a file path with ..',
      { files: { '/etc/../x': { mode: '0644' } } },
      ['svc.yaml: files./etc/../x: must be an absolute host path without . or .. components'],
    ],
    [
      'a file path with .',
      { files: { '/etc/./x': { mode: '0644' } } },
      ['svc.yaml: files./etc/./x: must be an absolute host path without . or .. components'],
    ],
    ['a file path with dots in a name', { files: { '/etc/..x/.y': { mode: '0644' } } }, []],
    ['a missing field', { stopTimeout: undefined }, ['svc.yaml: stopTimeout: is required']],
    [
      'a misspelt required field',
      { stopTimeout: undefined, stopTimout: 30 },
      ['svc.yaml: stopTimout: unknown key (did you mean stopTimeout? it is required)'],
    ],
    [
      'a misspelt optional field',
      { alrt: 'ops@example.com' },
      ['svc.yaml: alrt: unknown key (did you mean alert?)'],
    ],
    ['an unknown key like nothing', { zzzzzzzzzz: 1 }, ['svc.yaml: zzzzzzzzzz: unknown key']],
    [
      'an unknown key in a file entry',
      { files: { '/etc/x': { mode: '0644', mdoe: 1 } } },
      ['svc.yaml: files./etc/x.mdoe: unknown key (did you mean mode?)'],
    ],
  ])('%s', (_, change, expected) => {
    expect(lines(change)).toStrictEqual(expected);
  });
});

describe('validateManifest: the rules across fields, one at a time', () => {
  const worker = { name: 'service-orders', port: undefined, health: undefined };
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an api- service without a port',
      { port: undefined },
      ['svc.yaml: port: is required for a api- service'],
    ],
    [
      'an api- service without a health path',
      { health: undefined },
      ['svc.yaml: health: is required for a api- service'],
    ],
    [
      'a www- site without a port',
      { name: 'www-orders', port: undefined },
      ['svc.yaml: port: is required for a www- service'],
    ],
    ['a worker', worker, []],
    [
      'a worker with a port',
      { ...worker, port: 3000 },
      ['svc.yaml: port: a service- worker has no port'],
    ],
    [
      'a worker with a health path',
      { ...worker, health: '/ok' },
      ['svc.yaml: health: a service- worker has no health URL; it is checked by pidfile'],
    ],
    [
      'a static api- service',
      { runtime: 'static', init: undefined, command: undefined },
      ['svc.yaml: runtime: must be node for a api- service'],
    ],
    [
      'a static www- site',
      { name: 'www-orders', runtime: 'static', init: undefined, command: undefined },
      [],
    ],
    [
      'a static site with a command',
      { name: 'www-orders', runtime: 'static', init: undefined },
      [],
    ],
    [
      'a static site with an init',
      { name: 'www-orders', runtime: 'static', command: undefined },
      ['svc.yaml: init: a static site runs no process of its own (nginx serves it)'],
    ],
    [
      'a process without an init',
      { init: undefined },
      ['svc.yaml: init: is required for a service that runs a process'],
    ],
    [
      'a process without a command',
      { command: undefined },
      ['svc.yaml: command: is required for a service that runs a process'],
    ],
    [
      'a relative command',
      { command: ['node'] },
      ['svc.yaml: command.0: must be an absolute path, e.g. /usr/bin/node'],
    ],
    ['a node www- site with an app port', { name: 'www-orders', appPort: 13000 }, []],
    [
      'an app port equal to the port',
      { name: 'www-orders', appPort: 3000 },
      ['svc.yaml: appPort: must differ from port: nginx listens on port and proxies to appPort'],
    ],
    [
      'an app port on an api- service',
      { appPort: 13000 },
      ['svc.yaml: appPort: only a node www- site has one: its process behind nginx'],
    ],
    [
      'an app port on a static site',
      {
        name: 'www-orders',
        runtime: 'static',
        init: undefined,
        command: undefined,
        appPort: 13000,
      },
      ['svc.yaml: appPort: only a node www- site has one: its process behind nginx'],
    ],
    ['an alert with monit', { alert: 'ops@example.com' }, []],
    [
      'an alert without monit',
      { alert: 'ops@example.com', monit: false },
      ['svc.yaml: alert: monit sends the alerts: it needs monit: true'],
    ],
    [
      'init monit without monit',
      { init: 'monit', monit: false },
      [
        'svc.yaml: monit: must be true when init is monit: the monit check is what starts the service',
      ],
    ],
    ['init monit with monit', { init: 'monit' }, []],
    ['an env key starting with _', { env: { _X: 'a' } }, []],
    [
      'an env key LD_PRELOAD',
      { env: { LD_PRELOAD: 'a' } },
      ['svc.yaml: env.LD_PRELOAD: is reserved: the init script sets it'],
    ],
    ['an env key ending in LD_', { env: { OLD_X: 'a', XLD_: 'b' } }, []],
    [
      'an env key PATH',
      { env: { PATH: 'a' } },
      ['svc.yaml: env.PATH: is reserved: the init script sets it'],
    ],
    [
      'an env key with a lower-case letter',
      { env: { Foo: 'a' } },
      ['svc.yaml: env.Foo: must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
    [
      'an env key starting with a digit',
      { env: { '1X': 'a' } },
      ['svc.yaml: env.1X: must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
    [
      'an env key with a trailing dash',
      { env: { 'X-': 'a' } },
      ['svc.yaml: env.X-: must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
    [
      'an invalid name stops the other rules',
      { name: 'orders', port: undefined, command: ['node'] },
      [expect.stringMatching(/^svc\.yaml: name: must be valid: /) as unknown as string],
    ],
  ])('%s', (_, change, expected) => {
    expect(lines(change)).toStrictEqual(expected);
  });

  it('refuses what is no mapping', () => {
    for (const data of [null, [], 'x', 1])
      expect(validateManifest(data)).toStrictEqual({
        ok: false,
        problems: [{ path: '', keys: [], message: 'must be a mapping of keys to values' }],
      });
  });
});

describe('the helpers', () => {
  it.each([
    [1, 10001],
    [8080, 18080],
    [55535, 65535],
    [55536, 45536],
    [65535, 55535],
  ])('appPortFor(%i) -> %i', (port, appPort) => {
    expect(appPortFor(port)).toBe(appPort);
  });

  it.each<[{ port?: number; appPort?: number }, boolean, number | undefined]>([
    [{ port: 80, appPort: 10080 }, true, 10080],
    [{ port: 80 }, false, 80],
    [{}, false, undefined],
  ])('%j: front %s, process port %s', (manifest, front, port) => {
    expect(hasFront(manifest)).toBe(front);
    expect(processPort(manifest)).toBe(port);
  });

  it.each([
    ['www-shop', 'www'],
    ['api-orders-eu', 'api'],
    ['service-mail', 'service'],
  ])('kindOf(%s) -> %s', (name, kind) => {
    expect(kindOf({ name })).toBe(kind);
  });

  it.each([
    ['port', 80, undefined],
    ['port', 0, 'must be an integer between 1 and 65535'],
    ['user', 'Root', expect.stringMatching(/^must be a Linux user name/)],
    ['description', 'ok', undefined],
    ['monit', 'x', 'must be true or false'],
  ] as const)('fieldProblem(%s, %j) -> %s', (field, value, problem) => {
    expect(fieldProblem(field, value)).toEqual(problem);
  });

  it('formatProblems: one line per problem, hostile keys quoted, no key no colon', () => {
    expect(
      formatProblems('app/svc.yaml', [
        { path: 'port', keys: ['port'], message: 'bad' },
        { path: 'env.A\nB', keys: ['env', 'A\nB'], message: 'bad key' },
        { path: '', keys: [], message: 'must be a mapping' },
      ]),
    ).toStrictEqual([
      'app/svc.yaml: port: bad',
      'app/svc.yaml: env."A\\nB": bad key',
      'app/svc.yaml: must be a mapping',
    ]);
  });

  it.each([
    ['fe80::1%eth0', false],
    ['::1x', false],
    ['1.2.3.4', true],
    ['01.2.3.4', false],
    ['1.2.3.4.5', false],
    ['255.255.255.255', true],
    ['256.1.1.1', false],
    ['1.2.3', false],
    ['a.b-c.d_e', true],
    ['-a', false],
    ['a.-b', false],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false],
  ])('isHostAddress(%j) -> %s', (address, ok) => {
    expect(isHostAddress(address)).toBe(ok);
  });
});
