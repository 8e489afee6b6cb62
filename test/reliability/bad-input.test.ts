// Bad input (issue 5, items 1-3), through the real bin/svc: every case exits 1 with exactly one
// line on stderr, `svc: error: ...`, naming the name, flag, file, field or line at fault, and
// nothing is written: `svc new` leaves its directory as it was, and plan/deploy/rollback never
// connect (a TCP listener on 127.0.0.1 stands in for the host and counts connections).
// Sensitive overlay paths become plan problems only with a host's facts: they are tested against
// planHost in test/unit/sensitive-paths.test.ts.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionCounter,
  makeWorld,
  snapshot,
  svc,
  UNCLEAR,
  type CliWorld,
  type SvcResult,
} from './helpers/bad-input-cli.js';

const NAME = 'api-x';
let world: CliWorld;
let listener: ConnectionCounter;
let base: string;
let cases = 0;

beforeAll(async () => {
  world = makeWorld('svc-bad-input-');
  listener = await ConnectionCounter.start();
  base = join(world.root, 'base');
  const made = await svc(world, [
    'new',
    NAME,
    '--yes',
    '--cutover',
    'restart',
    '--init',
    'monit',
    '--dir',
    base,
  ]);
  expect(made.code, made.stderr).toBe(0);
});

afterAll(async () => {
  await listener?.close();
  if (world) rmSync(world.root, { recursive: true, force: true });
});

/** One line, `svc: error: ...`, short and free of control or invisible characters. */
function expectOneLine(result: SvcResult, culprit: string | RegExp): void {
  expect(result.signal, `killed: ${result.stderr}`).toBeNull();
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n');
  expect(lines.at(-1), 'stderr ends with a newline').toBe('');
  expect(lines.slice(0, -1), 'exactly one line').toHaveLength(1);
  const line = lines[0]!;
  expect(line).toMatch(/^svc: error: /);
  expect(line.length, 'a line a person can read').toBeLessThanOrEqual(400);
  expect(line, 'no control or invisible characters').not.toMatch(UNCLEAR);
  if (typeof culprit === 'string') expect(line).toContain(culprit);
  else expect(line).toMatch(culprit);
}

/** A fresh copy of the project `svc new` made, changed by `mutate`. */
function project(mutate: (dir: string) => void = () => undefined): string {
  const dir = join(world.root, `project-${++cases}`);
  cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
  mutate(dir);
  return dir;
}

/** Runs svc against the listener (TARGET and PORT in args are replaced) and checks nothing happened. */
async function refusedWithoutConnecting(
  args: readonly string[],
  dir: string,
  culprit: string | RegExp,
): Promise<void> {
  const before = { project: snapshot(dir), home: snapshot(world.home) };
  const connections = listener.connections;
  const argv = args.map((arg) =>
    arg.replaceAll('TARGET', listener.target).replaceAll('PORT', String(listener.port)),
  );
  const [command, ...rest] = argv;
  const result = await svc(world, [command!, '--dir', dir, ...rest]);
  expectOneLine(result, culprit);
  expect(listener.connections - connections, 'connections to the host').toBe(0);
  expect(snapshot(dir), 'the project is unchanged').toEqual(before.project);
  expect(snapshot(world.home), 'nothing written to HOME').toEqual(before.home);
}

describe('the harness', () => {
  it('sees the connection a valid plan makes', async () => {
    const connections = listener.connections;
    const result = await svc(world, ['plan', listener.target, '--dir', base]);
    expect(result.code).toBe(1); // the listener is no SSH server
    expect(listener.connections - connections).toBeGreaterThan(0);
  });
});

describe('1. names and flags: svc new writes nothing', () => {
  /** svc new in a fresh directory; the directory around it must stay empty too (../ names). */
  async function refusedNew(args: readonly string[], culprit: string | RegExp): Promise<void> {
    const around = join(world.root, `new-${++cases}`);
    const cwd = join(around, 'work');
    mkdirSync(cwd, { recursive: true });
    const result = await svc(world, ['new', ...args], cwd);
    expectOneLine(result, culprit);
    expect(snapshot(around)).toEqual(['"work"/']);
  }

  it.each([
    ['a shell command', 'api-x;reboot', '"api-x;reboot"'],
    ['a parent directory', '../api-x', '"../api-x"'],
    ['a path escaping upwards', 'api-x/../../etc', '"api-x/../../etc"'],
    ['a space', 'api-x x', '"api-x x"'],
    ['a command substitution', 'api-$(reboot)', '"api-$(reboot)"'],
    ['a Cyrillic а that looks Latin', '\u0430pi-x', 'U+0430'],
    ['a Cyrillic х that looks Latin', 'api-\u0445', 'U+0445'],
    ['fullwidth letters', '\uff41\uff50\uff49-x', 'U+FF41'],
    ['a right-to-left override', 'api-x\u202e', 'U+202E'],
    ['a zero-width space', 'api-x\u200b', 'U+200B'],
    ['a newline', 'api-x\nreboot', '"api-x\\nreboot"'],
    ['33 characters', `api-${'a'.repeat(29)}`, `"api-${'a'.repeat(29)}"`],
    ['10004 characters', `api-${'a'.repeat(10_000)}`, '10004 characters'],
    ['nothing', '', 'invalid service name ""'],
    ['capitals', 'API-X', '"API-X"'],
  ])('refuses a name with %s', async (_what, name, culprit) => {
    await refusedNew([name, '--yes'], culprit);
  });

  it('refuses a name with a leading dash, as an option or after --', async () => {
    await refusedNew(['-api-x', '--yes'], "'-api-x'");
    await refusedNew(['--yes', '--', '-api-x'], '"-api-x"');
  });

  it.each(['0', '65536', '-1', '1e3', 'abc', '', '3000.5', '0x50'])(
    'refuses --port %j',
    async (port) => {
      await refusedNew(
        [NAME, '--yes', `--port=${port}`],
        `--port: must be an integer between 1 and 65535 (got ${JSON.stringify(port)})`,
      );
    },
  );

  it.each([
    ['--init', 'sysv'],
    ['--init', ''],
    ['--runtime', 'php'],
  ])('refuses %s %j', async (flag, value) => {
    await refusedNew(
      [flag === '--runtime' ? 'www-x' : NAME, '--yes', `${flag}=${value}`],
      new RegExp(`${flag}.*'${value}'`),
    );
  });

  it('refuses a non-empty --dir without --force, leaving it as it was', async () => {
    const around = join(world.root, `new-${++cases}`);
    mkdirSync(join(around, 'work'), { recursive: true });
    writeFileSync(join(around, 'work', 'mine.txt'), 'mine');
    const before = snapshot(around);
    const result = await svc(
      world,
      ['new', NAME, '--yes', '--cutover', 'restart', '--dir', 'work'],
      around,
    );
    expectOneLine(result, 'directory is not empty; pass --force');
    expect(snapshot(around)).toEqual(before);
  });
});

describe('1. flags of plan, deploy and rollback: refused before any connection', () => {
  it.each([
    [['plan', 'TARGET', '--parallel', '0'], '--parallel'],
    [['deploy', 'TARGET', '--parallel', '0'], '--parallel'],
    [['plan', 'TARGET', '--parallel', 'many'], '--parallel'],
    [['deploy', 'TARGET', '--health-timeout', '-1'], '--health-timeout'],
    [['deploy', 'TARGET', '--yes', '--health-timeout', '-1'], '--health-timeout'],
    [['deploy', 'TARGET', '--lock-wait', 'soon'], '--lock-wait'],
    [['deploy', 'TARGET', '--batch', '0'], '--batch'],
    [['deploy', 'TARGET', '--batch', '0%'], '--batch'],
    [['deploy', 'TARGET', '--batch', '150%'], '--batch'],
    [['deploy', 'TARGET', '--max-fail', 'abc'], '--max-fail'],
    [['deploy', 'TARGET', '--yes', '--max-fail', '-1'], '--max-fail'],
    [['deploy', 'TARGET', '--dry-run', '--batch', '0'], '--batch'],
    [['plan', 'TARGET', '--connect-timeout', '0'], '--connect-timeout'],
    [['plan', 'TARGET', '--command-timeout', 'abc'], '--command-timeout'],
    [['plan', 'root@127.0.0.1:99999'], '"root@127.0.0.1:99999": port must be'],
    [['plan', 'root@127.0.0.1:0'], '"root@127.0.0.1:0": port must be'],
    [['plan', 'TARGET;reboot'], ';reboot'],
    [['plan', 'TARGET,'], 'empty name between commas'],
    [['plan', 'ro;ot@127.0.0.1:PORT'], '"ro;ot" is not a user name'],
    [['plan', '--', '-oProxyCommand=touch /tmp/x'], '-oProxyCommand'],
    [['plan', 'TARGET', '--allow-path', 'etc/passwd'], '--allow-path: must be an absolute path'],
    [
      ['plan', 'TARGET', '--allow-path', '/etc/../etc/passwd'],
      /--allow-path: must be an absolute path.* \(got "\/etc\/\.\.\/etc\/passwd"\)$/,
    ],
    [
      ['deploy', 'TARGET', '--allow-path', '/etc/ssh/sshd_config\nx'],
      /--allow-path: must be an absolute path.* \(got "\/etc\/ssh\/sshd_config\\nx"\)$/,
    ],
    [['rollback', 'TARGET', '--health-timeout', '-1'], '--health-timeout'],
    [['rollback', 'TARGET', '--to', 'xyz'], '--to'],
    [['deploy', 'TARGET', '--bacth', '2'], "unknown option '--bacth'"],
  ])('svc %j', async (args, culprit) => {
    await refusedWithoutConnecting(args, project(), culprit);
  });

  it('documents --allow-path in plan, deploy and rollback --help', async () => {
    for (const command of ['plan', 'deploy', 'rollback']) {
      const help = await svc(world, [command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--allow-path <path>/);
    }
  });
});

describe('2. manifests: svc.yaml and the field or line at fault, before any connection', () => {
  const manifestOf = (dir: string) => join(dir, 'svc.yaml');
  const edit = (change: (text: string) => string) => (dir: string) =>
    writeFileSync(manifestOf(dir), change(readFileSync(manifestOf(dir), 'utf8')));
  const put = (content: string | Buffer) => (dir: string) =>
    writeFileSync(manifestOf(dir), content);
  /** 1-based line of the first line starting with `prefix` in the base manifest. */
  const lineOf = (prefix: string) =>
    readFileSync(manifestOf(base), 'utf8')
      .split('\n')
      .findIndex((line) => line.startsWith(prefix)) + 1;
  const lines = () => readFileSync(manifestOf(base), 'utf8').split('\n').length;
  const billionLaughs = [
    'x1: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'abcdefgh'
      .split('')
      .map(
        (anchor, index) =>
          `x${index + 2}: &${String.fromCharCode(anchor.charCodeAt(0) + 1)} [${Array(9).fill(`*${anchor}`).join(',')}]`,
      ),
  ].join('\n');

  it.each<[string, (dir: string) => void, () => string | RegExp]>([
    [
      'a wrong type',
      edit((t) => t.replace(/^port: .*$/m, 'port: "abc"')),
      () => 'svc.yaml: port: must be an integer between 1 and 65535',
    ],
    [
      'a wrong type (boolean)',
      edit((t) => t.replace(/^monit: .*$/m, 'monit: "yes"')),
      () => 'svc.yaml: monit: must be true or false',
    ],
    [
      'a wrong nested type',
      edit((t) => t.replace(/^files: \{\}$/m, 'files: { /etc/default/api-x: { mode: 600 } }')),
      () => 'svc.yaml: files./etc/default/api-x.mode: must be an octal mode',
    ],
    [
      'an unknown key',
      edit((t) => t.replace(/^port:/m, 'prot:')),
      () => 'svc.yaml: prot: unknown key (did you mean port?)',
    ],
    [
      'an unknown nested key',
      edit((t) =>
        t.replace(
          /^files: \{\}$/m,
          'files: { /etc/default/api-x: { mode: "0600", secert: true } }',
        ),
      ),
      () => 'svc.yaml: files./etc/default/api-x.secert: unknown key (did you mean secret?)',
    ],
    [
      'a missing field',
      edit((t) => t.replace(/^user: .*\n/m, '')),
      () => 'svc.yaml: user: is required',
    ],
    [
      'a missing name',
      edit((t) => t.replace(/^name: .*\n/m, '')),
      () => 'svc.yaml: name: is required',
    ],
    [
      'a 10 MB string',
      edit((t) =>
        t.replace(/^description: .*$/m, `description: "${'x'.repeat(10 * 1024 * 1024)}"`),
      ),
      () => `svc.yaml:${lineOf('description:')}: description:`,
    ],
    [
      'a 100 kB description',
      edit((t) => t.replace(/^description: .*$/m, `description: "${'x'.repeat(100_000)}"`)),
      () => 'svc.yaml: description: must be at most 200 characters',
    ],
    [
      'a name of 10k characters',
      edit((t) => t.replace(/^name: .*$/m, `name: api-${'a'.repeat(10_000)}`)),
      () => 'svc.yaml: name: ',
    ],
    [
      'an unknown key of 1000 characters',
      (dir) => appendFileSync(manifestOf(dir), `${'k'.repeat(1000)}: 1\n`),
      () => `svc.yaml: "${'k'.repeat(64)}"... (1000 characters): unknown key`,
    ],
    [
      'a key of 10k characters',
      (dir) => appendFileSync(manifestOf(dir), `${'k'.repeat(10_000)}: 1\n`),
      () => `svc.yaml:${lines()}:1: The : indicator must be at most 1024 chars`,
    ],
    [
      'a key with a newline',
      (dir) => appendFileSync(manifestOf(dir), '"a\\nb": 1\n'),
      () => 'svc.yaml: "a\\nb": unknown key',
    ],
    [
      'a key with an escape sequence',
      (dir) => appendFileSync(manifestOf(dir), '"\\e[2Jx": 1\n'),
      () => 'svc.yaml: "\\u001b[2Jx": unknown key',
    ],
    [
      'a YAML alias bomb (billion laughs)',
      (dir) => appendFileSync(manifestOf(dir), `${billionLaughs}\n`),
      () => new RegExp(`svc\\.yaml:${lines() + 2}:1: x3: .*alias`),
    ],
    [
      'a duplicate key',
      (dir) => appendFileSync(manifestOf(dir), 'port: 4000\n'),
      () => `svc.yaml:${lines()}:1: port: duplicate key (first on line ${lineOf('port:')})`,
    ],
    [
      'a list instead of a mapping',
      put('- a\n- b\n'),
      () => 'svc.yaml: must be a mapping of keys to values',
    ],
    [
      'a scalar instead of a mapping',
      put('hello\n'),
      () => 'svc.yaml: must be a mapping of keys to values',
    ],
    ['an empty file', put(''), () => /svc\.yaml: .*(empty|mapping)/],
    [
      'two YAML documents',
      (dir) => appendFileSync(manifestOf(dir), '---\nport: 1\n'),
      () => new RegExp(`svc\\.yaml:${lines()}:1: .*more than one YAML document`),
    ],
    [
      'nesting 100k levels deep',
      (dir) =>
        appendFileSync(manifestOf(dir), `deep: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
      () => /svc\.yaml:\d+:\d+: .*nested too deeply/,
    ],
    [
      'no svc.yaml',
      (dir) => rmSync(manifestOf(dir)),
      () => /no svc\.yaml in .*project-\d+: run svc in a project made by svc new/,
    ],
    [
      'svc.yaml a directory',
      (dir) => {
        rmSync(manifestOf(dir));
        mkdirSync(manifestOf(dir));
      },
      () => 'svc.yaml: a directory',
    ],
    [
      'svc.yaml a FIFO',
      (dir) => {
        rmSync(manifestOf(dir));
        execFileSync('mkfifo', [manifestOf(dir)]);
      },
      () => 'svc.yaml: not a regular file',
    ],
    [
      'svc.yaml a symbolic link',
      (dir) => {
        rmSync(manifestOf(dir));
        symlinkSync('/etc/passwd', manifestOf(dir));
      },
      () => 'svc.yaml: a symbolic link',
    ],
  ])('refuses %s', async (_what, mutate, culprit) => {
    await refusedWithoutConnecting(['plan', 'TARGET'], project(mutate), culprit());
  });

  it('refuses non-UTF-8 bytes, naming the line', async () => {
    const line = lineOf('description:');
    const dir = project((d) => {
      const text = readFileSync(manifestOf(d));
      const at = text.indexOf('description: ') + 'description: '.length;
      writeFileSync(
        manifestOf(d),
        Buffer.concat([text.subarray(0, at), Buffer.from([0xff, 0xfe]), text.subarray(at)]),
      );
    });
    await refusedWithoutConnecting(['plan', 'TARGET'], dir, `svc.yaml:${line}: not valid UTF-8`);
  });
});

describe('3. config overlays from a project you were handed: refused before any connection', () => {
  const config = (dir: string, ...path: string[]) => join(dir, 'config', ...path);

  it.each<[string, (dir: string) => void, string | RegExp]>([
    [
      'a symbolic link pointing outside config/',
      (d) => symlinkSync('../../../../etc/passwd', config(d, 'etc', 'pw')),
      'config/etc/pw: a symbolic link',
    ],
    [
      'a symbolic link to an absolute path',
      (d) => {
        mkdirSync(config(d, 'etc', 'default'), { recursive: true });
        symlinkSync('/etc/shadow', config(d, 'etc', 'default', NAME));
      },
      `config/etc/default/${NAME}: a symbolic link`,
    ],
    [
      'a symbolic link to a directory',
      (d) => symlinkSync('/etc/ssh', config(d, 'etc', 'ssh')),
      'config/etc/ssh: a symbolic link',
    ],
    [
      'a symbolic link inside config/',
      (d) => {
        mkdirSync(config(d, 'etc', 'default'), { recursive: true });
        symlinkSync(NAME, config(d, 'etc', 'default', 'other'));
      },
      'config/etc/default/other: a symbolic link',
    ],
    [
      'config/ itself a symbolic link',
      (d) => {
        rmSync(config(d), { recursive: true });
        symlinkSync('/etc', config(d));
      },
      'config: a symbolic link',
    ],
    [
      'a FIFO',
      (d) => execFileSync('mkfifo', [config(d, 'etc', 'fifo')]),
      'config/etc/fifo: not a regular file',
    ],
    [
      'a file name with a newline',
      (d) => writeFileSync(config(d, 'etc', 'a\nb'), 'x'),
      '"config/etc/a\\nb": ',
    ],
    [
      'a file name with a tab',
      (d) => writeFileSync(config(d, 'etc', 'a\tb'), 'x'),
      '"config/etc/a\\tb": ',
    ],
    [
      'a file name with an escape sequence',
      (d) => writeFileSync(config(d, 'etc', '\u001b[31mred'), 'x'),
      '"config/etc/\\u001b[31mred": ',
    ],
    [
      'a file name with DEL',
      (d) => writeFileSync(config(d, 'etc', 'a\u007f'), 'x'),
      '"config/etc/a\\u007f": ',
    ],
    [
      'a file name that is not UTF-8',
      (d) => writeFileSync(Buffer.from(`${config(d, 'etc')}/\xffbad`, 'latin1'), 'x'),
      /config\/etc\/.*not valid UTF-8/,
    ],
    [
      'a directory name with a newline',
      (d) => {
        mkdirSync(config(d, 'etc', 'x\ny'));
        writeFileSync(config(d, 'etc', 'x\ny', 'f'), 'x');
      },
      '"config/etc/x\\ny": ',
    ],
    [
      'a release file name with a newline',
      (d) => writeFileSync(join(d, 'a\nb.js'), 'x'),
      '"a\\nb.js": ',
    ],
    [
      'a FIFO as .svcignore',
      (d) => execFileSync('mkfifo', [join(d, '.svcignore')]),
      '.svcignore: not a regular file',
    ],
    [
      'a FIFO as .gitignore',
      (d) => {
        rmSync(join(d, '.gitignore'));
        execFileSync('mkfifo', [join(d, '.gitignore')]);
      },
      '.gitignore: not a regular file',
    ],
    [
      "a FIFO as the project's playbook, left out of the release",
      (d) => {
        appendFileSync(join(d, '.svcignore'), 'playbooks/\n');
        mkdirSync(join(d, 'playbooks'));
        execFileSync('mkfifo', [join(d, 'playbooks', 'deploy.yaml')]);
      },
      'playbooks/deploy.yaml: not a regular file',
    ],
  ])('refuses %s', async (_what, mutate, culprit) => {
    await refusedWithoutConnecting(['plan', 'TARGET'], project(mutate), culprit);
  });

  it('looks at nothing .svcignore leaves out, whatever its names', async () => {
    const dir = project((d) => {
      appendFileSync(join(d, '.svcignore'), 'junk/\n');
      mkdirSync(join(d, 'junk'));
      writeFileSync(join(d, 'junk', 'a\nb'), 'x');
      execFileSync('mkfifo', [join(d, 'junk', 'fifo')]);
    });
    const connections = listener.connections;
    const result = await svc(world, ['plan', listener.target, '--dir', dir]);
    expect(result.stderr).toBe('');
    expect(listener.connections - connections, 'it went on to the host').toBeGreaterThan(0);
  });

  // mknod needs root; a FIFO above covers the same rule without it.
  it.skipIf(process.getuid?.() !== 0)('refuses a device file', async () => {
    const dir = project((d) => execFileSync('mknod', [config(d, 'etc', 'null'), 'c', '1', '3']));
    await refusedWithoutConnecting(['plan', 'TARGET'], dir, 'config/etc/null: not a regular file');
  });

  it('refuses the same overlay in deploy and rollback', async () => {
    const dir = project((d) => symlinkSync('/etc/shadow', config(d, 'etc', 'shadow')));
    await refusedWithoutConnecting(
      ['deploy', 'TARGET', '--yes'],
      dir,
      'config/etc/shadow: a symbolic link',
    );
    await refusedWithoutConnecting(
      ['rollback', 'TARGET', '--yes'],
      dir,
      'config/etc/shadow: a symbolic link',
    );
  });
});
