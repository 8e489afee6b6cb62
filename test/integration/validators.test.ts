// Every config file that `svc new` writes, checked by the program that will read it on a host:
// systemd-analyze, monit, nginx, logrotate and sh. Projects are made by the real CLI (bin/svc) so
// the test covers flag parsing, rendering and writing too. Upstart cannot run on Debian 12, so its
// job is parsed here with upstart's own quoting rules and its shell parts go through sh -n.
//
// Needs root and the Debian packages monit, nginx-light, logrotate and systemd (systemd-analyze),
// and a built dist/ (npm run build).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { systemdCommand } from '../../src/core/quote.js';
import { renderEnvFile } from '../../src/core/env-file.js';
import { parseManifest } from '../../src/core/manifest-file.js';
import { withLog } from '../../src/scaffold/log-wrapper.js';
import { parseUpstart, upstartUnquote } from '../helpers/upstart.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SVC = join(REPO, 'bin', 'svc');

type Init = 'systemd' | 'openrc' | 'upstart' | 'monit';

interface Case {
  name: string;
  init?: Init;
  runtime?: 'static' | 'node';
  /** An existing user: logrotate's `su` directive refuses one that does not exist. */
  user?: string;
  monit?: false;
  /** Generated with HOSTILE_DESCRIPTION and the HOSTILE env values. */
  hostile?: boolean;
  /** svc new --alert: the monit check mails this address. */
  alert?: string;
}

// Shell, systemd, upstart and printf metacharacters. `$(reboot)` and `id` also exist as trap
// commands on PATH (see beforeAll), so if any check ever executes them we find out, and nothing
// reboots.
const HOSTILE_DESCRIPTION = 'it\'s "quoted" $(reboot) `id` % $HOME \\ end';
const HOSTILE_GREETING = 'it\'s $(reboot) `id` "q" %h \\\\';
const HOSTILE_MULTI = 'a b';

const CASES: Case[] = [
  // The default user (the service name) does not exist here, so this one skips logrotate.
  { name: 'api-sd', init: 'systemd' },
  { name: 'api-orc', init: 'openrc', user: 'daemon' },
  { name: 'api-ups', init: 'upstart', user: 'daemon' },
  { name: 'api-mon', init: 'monit', user: 'daemon' },
  { name: 'service-sd', init: 'systemd', user: 'daemon' },
  { name: 'service-orc', init: 'openrc', user: 'daemon', monit: false },
  { name: 'www-static', runtime: 'static' },
  { name: 'www-node', runtime: 'node', init: 'systemd', user: 'daemon' },
  { name: 'api-alert', init: 'monit', user: 'daemon', alert: 'ops+svc@example.com' },
  { name: 'www-alert', runtime: 'static', alert: 'web.ops@mail.example.org' },
  // Each init system quotes the description in its own format, so the hostile values go
  // through all four.
  { name: 'api-hostile-sd', init: 'systemd', user: 'daemon', hostile: true },
  { name: 'api-hostile-orc', init: 'openrc', user: 'daemon', hostile: true },
  { name: 'api-hostile-ups', init: 'upstart', user: 'daemon', hostile: true },
  { name: 'api-hostile-mon', init: 'monit', user: 'daemon', hostile: true },
];

const isStatic = (c: Case) => c.runtime === 'static';
/** A www- site: nginx serves it (static) or stands in front of its node process. */
const hasNginxSite = (c: Case) => c.name.startsWith('www-');
const withInit = (init: Init) => CASES.filter((c) => c.init === init);

/** The files under config/ that project.ts writes for a case, each with its validator below. */
function configFiles(c: Case): Record<string, number> {
  const n = c.name;
  const files: Record<string, number> = {};
  if (hasNginxSite(c)) files[`config/etc/nginx/sites-enabled/${n}.conf`] = 0o644;
  if (c.init === 'systemd') files[`config/etc/systemd/system/${n}.service`] = 0o644;
  if (c.init === 'openrc') files[`config/etc/init.d/${n}`] = 0o755;
  if (c.init === 'upstart') files[`config/etc/init/${n}.conf`] = 0o644;
  if (c.init === 'monit') files[`config/usr/local/lib/svc/${n}/ctl`] = 0o755;
  if (c.monit !== false) files[`config/etc/monit/conf.d/${n}`] = 0o644;
  // A static site's logs are nginx's, rotated by the nginx package: no logrotate file of its own.
  if (!isStatic(c)) files[`config/etc/logrotate.d/${n}`] = 0o644;
  return files;
}

let root = '';
let trapBin = '';

const projectDir = (c: Case) => join(root, 'projects', c.name);
const file = (c: Case, path: string) => join(projectDir(c), path);
const pwnedMarker = () => join(root, 'pwned-marker');

function manifest(c: Case): {
  description: string;
  command?: string[];
  port?: number;
  appPort?: number;
} {
  return parseYaml(readFileSync(file(c, 'svc.yaml'), 'utf8')) as ReturnType<typeof manifest>;
}

/**
 * The env file svc renders at deploy time from this project's svc.yaml (default environment, no
 * secrets), written beside the projects for the parsers below.
 */
function envFile(c: Case): string {
  const data = parseManifest(readFileSync(file(c, 'svc.yaml')));
  const path = join(root, `${c.name}.env`);
  writeFileSync(path, renderEnvFile(data, { name: 'default', env: data.env, secrets: [] }));
  return path;
}

/** The description a case was generated with, as svc recorded it. */
function description(c: Case): string {
  return c.hostile ? HOSTILE_DESCRIPTION : manifest(c).description;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout as the bytes the program wrote. */
  bytes: Buffer;
}

/**
 * Runs a program directly (no shell in between) with the trap commands first on PATH. `env`
 * replaces the environment, so checks that read variables back see only what they set.
 */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: SpawnSyncOptions = {},
): Result {
  const result = spawnSync(command, args, {
    encoding: 'buffer',
    timeout: 20_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: { ...env, PATH: `${trapBin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
  });
  if (result.error) throw result.error;
  const stdout = Buffer.from(result.stdout);
  const stderr = Buffer.from(result.stderr).toString('utf8');
  return { status: result.status, stdout: stdout.toString('utf8'), stderr, bytes: stdout };
}

function generate(c: Case): void {
  const args = ['new', c.name, '--yes', '--cutover', 'restart', '--dir', projectDir(c)];
  if (c.runtime) args.push('--runtime', c.runtime);
  if (c.init) args.push('--init', c.init);
  if (c.user) args.push('--user', c.user);
  if (c.monit === false) args.push('--no-monit');
  if (c.alert) args.push('--alert', c.alert);
  if (c.hostile) {
    args.push('--description', HOSTILE_DESCRIPTION);
    args.push('--env', `GREETING=${HOSTILE_GREETING}`, '--env', `MULTI=${HOSTILE_MULTI}`);
    args.push('--env', `PWNED=$(touch ${pwnedMarker()}) \`touch ${pwnedMarker()}\``);
  }
  const result = run(process.execPath, [SVC, ...args], { ...process.env, NO_COLOR: '1' });
  if (result.status !== 0) {
    throw new Error(`svc ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** The service's log on a host: every unit has the service open it itself (log-wrapper.ts). */
const logFile = (c: Case) => `/var/log/${c.name}/${c.name}.log`;

/** The argv each unit must start: /bin/sh opening the log, then exec'ing the command. */
const loggedCommand = (c: Case) => withLog(logFile(c), manifest(c).command!);

/**
 * Runs a shell script whose last command is `exec /sbin/start-stop-daemon ...` with a stand-in
 * that prints its arguments instead, and returns them: what the real one would receive.
 */
function startStopDaemonArgs(script: string, args: string[] = []): string[] {
  const stub = join(root, 'start-stop-daemon-stub');
  if (!existsSync(stub)) {
    writeFileSync(stub, '#!/bin/sh\nprintf "%s\\0" "$@"\n');
    chmodSync(stub, 0o755);
  }
  const real = 'exec /sbin/start-stop-daemon ';
  expect(script).toContain(real);
  const result = run('sh', ['-e', '-c', script.replaceAll(real, `exec ${stub} `), 'sh', ...args]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.split('\0').slice(0, -1);
}

/**
 * start-stop-daemon --start as the launcher and the upstart job call it: it drops to the service
 * user, matches the running service by --exec, and starts /bin/sh with the wrapper's arguments.
 */
function expectStartThroughWrapper(c: Case, argv: string[]): void {
  const option = (name: string) => argv[argv.indexOf(name) + 1];
  expect(argv[0]).toBe('--start');
  expect(option('--chuid')).toBe(`${c.user ?? c.name}:${c.user ?? c.name}`);
  expect(option('--pidfile')).toBe(`/run/${c.name}.pid`);
  expect(option('--exec')).toBe(manifest(c).command![0]);
  expect(option('--startas')).toBe('/bin/sh');
  // Nothing opens the log as root: no --output, the wrapper's argv after --.
  expect(argv).not.toContain('--output');
  expect(['/bin/sh', ...argv.slice(argv.indexOf('--') + 1)]).toEqual(loggedCommand(c));
}

/** sh -n: parses without running; dash is /bin/sh on Debian, as on the hosts. */
function expectShellSyntax(label: string, script: string): void {
  const result = run('sh', ['-n', '-c', script]);
  expect(result.stderr, `${label}: sh -n`).toBe('');
  expect(result.status, `${label}: sh -n`).toBe(0);
}

/** What `set -a; . FILE` exports, read back NUL-separated so no value is reinterpreted. */
function sourceEnvFile(path: string): Map<string, string> {
  // A clean environment, so only what the file sets shows up.
  const result = run('sh', ['-c', 'set -a; . "$1"; env -0', 'sh', path], {});
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return parseNulEnv(result.stdout);
}

function parseNulEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of text.split('\0').filter(Boolean)) {
    const equals = entry.indexOf('=');
    env.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return env;
}

// systemd's environment.d generator parses its files with parse_env_file_internal(), the same
// parser EnvironmentFile= uses; it is the one way to run that parser without a running systemd.
// It also expands $NAME and ${NAME} afterwards, so only compare values without those.
const ENV_GENERATOR =
  '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator';
let probes = 0;

function systemdEnvFile(path: string): Map<string, string> {
  const config = join(root, `environment-d-${++probes}`);
  mkdirSync(join(config, 'environment.d'), { recursive: true });
  copyFileSync(path, join(config, 'environment.d', '50-probe.conf'));
  const result = run(ENV_GENERATOR, [], { XDG_CONFIG_HOME: config });
  expect(result.status).toBe(0);
  const env = new Map<string, string>();
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const equals = line.indexOf('=');
    const raw = line.slice(equals + 1);
    // The generator prints values that need it in double quotes, escaping " \ ` $ with \.
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    env.set(line.slice(0, equals), value);
  }
  return env;
}

function nginxConf(dir: string, site: string): string {
  return [
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')};`,
    'events {}',
    `http { include ${site}; }`,
    '',
  ].join('\n');
}

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'bundle', 'svc.mjs'))) {
    throw new Error('dist/ is missing: run npm run build first');
  }
  root = mkdtempSync(join(tmpdir(), 'svc-validators-'));
  trapBin = join(root, 'trap-bin');
  mkdirSync(trapBin);
  for (const command of ['reboot', 'id']) {
    writeFileSync(join(trapBin, command), `#!/bin/sh\n: > '${root}/executed-${command}'\n`);
    chmodSync(join(trapBin, command), 0o755);
  }
  for (const c of CASES) generate(c);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('svc new writes the expected config files', () => {
  it.each(CASES)('$name', (c) => {
    const expected = configFiles(c);
    const written = listFiles(join(projectDir(c), 'config')).map((path) => `config/${path}`);
    // A file this list does not know has no validator below: add one when adding a template.
    expect(written.sort()).toEqual(Object.keys(expected).sort());
    for (const [path, wanted] of Object.entries(expected)) {
      expect(mode(file(c, path)).toString(8), path).toBe(wanted.toString(8));
    }
    // The hostile values reach svc.yaml unchanged: what the checks below compare against.
    if (c.hostile) expect(manifest(c).description).toBe(HOSTILE_DESCRIPTION);
  });
});

describe('systemd-analyze verify', () => {
  it.each(withInit('systemd'))('$name', (c) => {
    const unit = file(c, `config/etc/systemd/system/${c.name}.service`);
    const result = run('systemd-analyze', ['verify', unit]);
    // verify exits 0 on many warnings (unknown keys, bad specifiers): any output is a failure.
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  // systemd would open a StandardOutput=append: file as root, following links: the unit starts
  // the command through /bin/sh, which opens the log as User=, and sets no output of its own.
  it.each(withInit('systemd'))('$name: the service opens its own log', (c) => {
    const unit = readFileSync(file(c, `config/etc/systemd/system/${c.name}.service`), 'utf8');
    expect(unit).not.toMatch(/^Standard(?:Output|Error)=/m);
    expect(unit.split('\n').filter((line) => line.startsWith('ExecStart='))).toEqual([
      `ExecStart=${systemdCommand(loggedCommand(c))}`,
    ]);
    expect(unit).toMatch(new RegExp(`^ReadWritePaths=/var/log/${c.name} `, 'm'));
  });

  // systemd's own rating of the sandbox (0 safest, 10 exposed); the README states it.
  it.each(withInit('systemd'))('$name: systemd-analyze security rates it 2.0 or below', (c) => {
    const unit = file(c, `config/etc/systemd/system/${c.name}.service`);
    const result = run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const output = result.stdout + result.stderr;
    const score = output.match(
      new RegExp(`Overall exposure level for ${c.name}\\.service: (\\d+\\.\\d+) `),
    );
    expect(score, output).not.toBeNull();
    console.info(`${c.name}.service: exposure ${score![1]}`);
    expect(Number(score![1]), output).toBeLessThanOrEqual(2.0);
  });

  it('keeps the hostile description on one line with % doubled', () => {
    const [c] = CASES.filter((c) => c.hostile && c.init === 'systemd');
    const unit = readFileSync(file(c!, `config/etc/systemd/system/${c!.name}.service`), 'utf8');
    const lines = unit.split('\n').filter((line) => line.startsWith('Description='));
    expect(lines).toEqual([`Description=${HOSTILE_DESCRIPTION.replaceAll('%', '%%')}`]);
  });
});

describe('monit -t', () => {
  it.each(CASES.filter((c) => c.monit !== false))('$name', (c) => {
    const dir = join(root, 'monit', c.name);
    mkdirSync(dir, { recursive: true });
    const rc = join(dir, 'monitrc');
    writeFileSync(
      rc,
      [
        'set daemon 30',
        `set idfile ${join(dir, 'id')}`,
        `set statefile ${join(dir, 'state')}`,
        `include ${file(c, `config/etc/monit/conf.d/${c.name}`)}`,
        '',
      ].join('\n'),
    );
    // monit refuses a control file that anyone but its owner can read.
    chmodSync(rc, 0o700);
    const result = run('monit', ['-t', '-c', rc]);
    expect(result.stdout + result.stderr).toContain('Control file syntax OK');
    expect(result.status, result.stderr).toBe(0);
  });

  // monit never gives up on a service for good (unmonitor); it alerts, to svc.yaml's address
  // when there is one, and keeps trying once per cycle.
  it.each(CASES.filter((c) => c.monit !== false))('$name: alerts, never unmonitors', (c) => {
    const check = readFileSync(file(c, `config/etc/monit/conf.d/${c.name}`), 'utf8');
    const rules = check.split('\n').filter((line) => !line.trim().startsWith('#'));
    expect(rules.join('\n')).not.toMatch(/\bunmonitor\b/);
    if (!isStatic(c)) expect(rules).toContain('  if 3 restarts within 5 cycles then alert');
    const alerts = rules.filter((line) => /^\s*alert /.test(line)).map((line) => line.trim());
    if (c.alert) {
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatch(new RegExp(`^alert ${c.alert.replace(/[.+]/g, '\\$&')}( |$)`));
      expect(manifest(c)).toMatchObject({ alert: c.alert });
    } else expect(alerts).toEqual([]);
  });
});

describe('OpenRC scripts', () => {
  it.each(withInit('openrc'))('$name', (c) => {
    const path = file(c, `config/etc/init.d/${c.name}`);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe('#!/sbin/openrc-run');
    expect(mode(path).toString(8)).toBe('755');
    expectShellSyntax(path, text);

    // openrc-run prints description as is, but evals command, command_args, command_user,
    // pidfile, directory and retry: check that the double quoting survives both rounds, and that
    // what starts is /bin/sh opening the log as command_user, then the command. Sourcing only
    // assigns and defines depend().
    const result = run('sh', [
      '-c',
      '. "$1"; printf "%s\\0" "$description" "$supervisor"; eval "printf \'%s\\0\' $command $command_args"; ' +
        'eval "printf \'%s\\0\' $command_user $pidfile $directory $retry"; ' +
        'printf "%s\\0" "$respawn_delay" "$respawn_max" "$respawn_period" "${output_log-unset}" "${error_log-unset}"',
      'sh',
      path,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\0').slice(0, -1)).toEqual([
      description(c),
      'supervise-daemon',
      ...loggedCommand(c),
      `${c.user}:${c.user}`,
      `/run/${c.name}.pid`,
      `/var/www/${c.name}/current`,
      'TERM/30/KILL/5',
      '2',
      '5',
      '60',
      'unset',
      'unset',
    ]);
    // Stopping is supervise-daemon's (openrc-run's own stop, by the supervisor's pidfile; the
    // supervisor stops its child): the script defines no stop() that could bypass it.
    const stop = run('sh', ['-c', '. "$1"; type stop', 'sh', path]);
    expect(stop.status).not.toBe(0);
  });
});

describe('svc new --alert', () => {
  // monit takes the address bare (it has no quoting for one): anything else is refused up front.
  it.each([
    ['bad addr', 'must be an email address'],
    ['ops@example.com" then exec "/bin/sh', 'must be an email address'],
  ])('refuses %j naming the flag, writing nothing', (alert, message) => {
    const dir = join(root, 'projects', 'api-bad-alert');
    const result = run(
      process.execPath,
      [
        SVC,
        'new',
        'api-bad-alert',
        '--yes',
        '--cutover',
        'restart',
        '--dir',
        dir,
        '--alert',
        alert,
      ],
      { ...process.env, NO_COLOR: '1' },
    );
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`--alert: ${message}`);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('OpenRC: the env file', () => {
  // Run in a private mount namespace with tmpfs over /etc/default, so the script's own path holds
  // what the test puts there. That the service gets the other keys, and that stop removes the
  // pidfile, is shown under the real openrc-run (deploy-openrc.test.ts).
  it.each(withInit('openrc'))('$name: env keys cannot replace openrc-run variables', (c) => {
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /etc/default',
      `printf '%s\\n' command=/bin/evil directory=/tmp pidfile=/tmp/evil.pid output_log=/tmp/evil.log name=evil supervisor=start-stop-daemon retry=KILL/0 respawn_max=0 supervise_daemon_args=--evil command_background=no FOO=bar > "/etc/default/$2"`,
      '. "$1"',
      'printf "%s\\n" "command=$command" "directory=$directory" "pidfile=$pidfile" "output_log=${output_log-unset}" "name=${name-unset}" "supervisor=$supervisor" "retry=$retry" "respawn_max=$respawn_max" "supervise_daemon_args=${supervise_daemon_args-unset}" "command_background=${command_background-unset}" "FOO=$FOO"',
    ].join('\n');
    const result = run('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      file(c, `config/etc/init.d/${c.name}`),
      c.name,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([
      'command=/bin/sh',
      `directory=/var/www/${c.name}/current`,
      `pidfile=/run/${c.name}.pid`,
      'output_log=unset',
      'name=unset',
      'supervisor=supervise-daemon',
      'retry=TERM/30/KILL/5',
      'respawn_max=5',
      'supervise_daemon_args=unset',
      'command_background=unset',
      'FOO=bar',
    ]);
  });
});

describe('monit launcher (init monit)', () => {
  it.each(withInit('monit'))('$name', (c) => {
    const path = file(c, `config/usr/local/lib/svc/${c.name}/ctl`);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe('#!/bin/sh');
    expect(mode(path).toString(8)).toBe('755');
    expectShellSyntax(path, text);
    // The wait after the start (the process listening on its port) runs the real
    // start-stop-daemon on a pidfile that does not exist here: stood in for by a wait that
    // passes (launcher.test.ts runs it).
    expect(text).toContain('/sbin/start-stop-daemon --status');
    expect(text).toMatch(/^\twait_started$/m);
    const stubbed = text.replace(/^\twait_started$/m, '\t:');
    const argv = startStopDaemonArgs(stubbed, ['start']);
    expectStartThroughWrapper(c, argv);
    expect(argv).toContain('--background');
  });
});

describe('upstart jobs', () => {
  it.each(withInit('upstart'))('$name', (c) => {
    const job = parseUpstart(readFileSync(file(c, `config/etc/init/${c.name}.conf`), 'utf8'));
    expect(job.problems).toEqual([]);
    const stanzas = (keyword: string) => job.stanzas.filter((s) => s.keyword === keyword);

    // The main process is exactly one of `exec` or `script ... end script`.
    const main = stanzas('exec').length + job.scripts.filter((s) => s.owner === 'script').length;
    expect(main).toBe(1);
    expect(stanzas('kill timeout').map((s) => s.args)).toEqual(['30']);
    // Started once local file systems and a network interface are up.
    expect(stanzas('start on').map((s) => s.args)).toEqual([
      '(local-filesystems and net-device-up IFACE!=lo)',
    ]);
    expect(stanzas('respawn').map((s) => s.args)).toEqual(['']);

    const descriptions = stanzas('description');
    expect(descriptions).toHaveLength(1);
    expect(upstartUnquote(descriptions[0]!.args)).toBe(description(c));

    // upstart runs script blocks with /bin/sh -e, and exec lines through sh when they have
    // shell metacharacters: all of it must parse.
    for (const script of job.scripts) expectShellSyntax(`${script.owner} script`, script.body);
    for (const { keyword, args } of job.stanzas) {
      if (keyword === 'exec') expectShellSyntax('exec', args);
      else if (args.startsWith('exec ')) expectShellSyntax(`${keyword} exec`, args.slice(5));
    }

    // The main script, run as upstart runs it (sh -e) but with start-stop-daemon stood in for:
    // in the foreground (upstart supervises it), and this root job shell opens no log itself.
    const [mainScript] = job.scripts.filter((s) => s.owner === 'script');
    expect(mainScript!.body).not.toMatch(/>+ *['"]?\/var\/log/);
    // (Without its first line: the rm would act on this machine's /run.)
    const body = mainScript!.body.trim().split('\n');
    const argv = startStopDaemonArgs(body.slice(1).join('\n'));
    expectStartThroughWrapper(c, argv);
    expect(argv).not.toContain('--background');
    // A stale pidfile (its pid now any node process) would make start-stop-daemon refuse to
    // start, a respawn loop: the script removes it before anything else.
    expect(body[0]!.trim()).toBe(`rm -f /run/${c.name}.pid`);
  });
});

describe('nginx -t', () => {
  it.each(CASES.filter(hasNginxSite))('$name', (c) => {
    const dir = join(root, 'nginx', c.name);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConf(dir, file(c, `config/etc/nginx/sites-enabled/${c.name}.conf`)));
    // nginx's master opens the site's logs as root: they must be in root's /var/log/nginx, never
    // in /var/log/NAME, which the service user owns (CVE-2016-1247).
    const site = readFileSync(file(c, `config/etc/nginx/sites-enabled/${c.name}.conf`), 'utf8');
    const logs = site.match(/^\s*(?:access|error)_log\b.*$/gm)!.map((line) => line.trim());
    expect(logs.filter((line) => line !== 'access_log off;')).toEqual([
      `access_log "/var/log/nginx/${c.name}.access.log";`,
      `error_log "/var/log/nginx/${c.name}.error.log";`,
    ]);
    // nginx -t opens the site's logs under /var/log/nginx and creates its temp dirs under
    // /var/lib/nginx (chowning them to its worker user): both on tmpfs in a private mount
    // namespace, so the machine's own directories stay untouched.
    const script =
      'set -e; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /var/lib/nginx; ' +
      'mkdir -p /var/log/nginx; nginx -t -c "$2"; ls /var/log/nginx';
    const result = run('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      c.name,
      conf,
    ]);
    expect(result.stderr).toContain('test is successful');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual([
      `${c.name}.access.log`,
      `${c.name}.error.log`,
    ]);
    // Both kinds listen on the public port, IPv4 and IPv6, as its default_server (every Host no
    // other site names is this one's); a node site proxies to its appPort.
    const { port, appPort } = manifest(c);
    const listens = site.match(/^\s*listen\b.*$/gm)!.map((line) => line.trim());
    expect(listens).toEqual([
      `listen ${port} default_server;`,
      `listen [::]:${port} default_server;`,
    ]);
    if (!isStatic(c)) expect(site).toContain(`server 127.0.0.1:${appPort};`);
  });
});

describe('logrotate -d', () => {
  // A static site has no logrotate file (its logs are nginx's); the default user (the service
  // name) does not exist here and logrotate's su refuses it.
  it.each(CASES.filter((c) => c.user !== undefined && !isStatic(c)))('$name', (c) => {
    const result = run('logrotate', [
      '-d',
      '-s',
      join(root, `logrotate-${c.name}.state`),
      file(c, `config/etc/logrotate.d/${c.name}`),
    ]);
    const output = result.stdout + result.stderr;
    expect(output.split('\n').filter((line) => line.startsWith('error:'))).toEqual([]);
    expect(result.status, output).toBe(0);
  });
});

describe('logrotate bounds the log by size', () => {
  // logrotate's own decision, in debug mode (it changes nothing): a log rotated this hour is
  // rotated again once it passes 100 MB, and not before. Sparse files: nothing is really written.
  it('rotates a 101 MB log within the week, not a 1 MB one', () => {
    const [c] = CASES.filter((c) => c.name === 'api-orc');
    // logrotate reads the log as the service user (su): a directory that user can traverse
    // (the test's root directory is 0700).
    const dir = mkdtempSync(join(tmpdir(), 'svc-logrotate-'));
    chmodSync(dir, 0o755);
    const logs = join(dir, 'log');
    mkdirSync(logs, { mode: 0o755 });
    const conf = join(dir, 'conf');
    const text = readFileSync(file(c!, `config/etc/logrotate.d/${c!.name}`), 'utf8');
    expect(text).toContain(`/var/log/${c!.name}/*.log {`);
    writeFileSync(conf, text.replace(`/var/log/${c!.name}/`, `${logs}/`));
    const log = join(logs, `${c!.name}.log`);
    // Last rotated earlier this hour, today: an hour ago can be yesterday, and on the night from
    // Saturday to Sunday logrotate's weekly rule would then rotate any log (a new week began).
    const now = new Date();
    const stamp = `${now.getFullYear()}-${now.getMonth() + 1}-${now.getDate()}-${now.getHours()}:0:0`;
    const state = join(dir, 'state');
    const decision = (size: number) => {
      writeFileSync(log, '');
      truncateSync(log, size);
      writeFileSync(state, `logrotate state -- version 2\n"${log}" ${stamp}\n`);
      const result = run('logrotate', ['-d', '-s', state, conf]);
      const output = result.stdout + result.stderr;
      return output.match(/log (needs rotating|does not need rotating)/)?.[1] ?? output;
    };
    try {
      expect(decision(101 * 1024 * 1024)).toBe('needs rotating');
      expect(decision(1024 * 1024)).toBe('does not need rotating');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('env files', () => {
  it.each(CASES.filter((c) => !isStatic(c)))('$name: sh reads every value back', (c) => {
    const path = envFile(c);
    const env = sourceEnvFile(path);
    expect(env.get('NODE_ENV')).toBe('production');
    const { port, appPort } = manifest(c);
    // A node www- site's process listens on appPort, loopback only: nginx has the public port.
    const listens = c.name.startsWith('www-') ? appPort : port;
    if (c.name.startsWith('www-')) expect(appPort).toBe(port! + 10000);
    expect(env.get('PORT')).toBe(listens === undefined ? undefined : String(listens));
    expect(env.get('HOST')).toBe(c.name.startsWith('www-') ? '127.0.0.1' : undefined);
    if (c.hostile) {
      const greeting = run('sh', ['-c', 'set -a; . "$1"; printf %s "$GREETING"', 'sh', path], {});
      expect(greeting.stderr).toBe('');
      expect(greeting.bytes).toEqual(Buffer.from(HOSTILE_GREETING));
      expect(env.get('MULTI')).toBe(HOSTILE_MULTI);
      expect(env.get('PWNED')).toBe(`$(touch ${pwnedMarker()}) \`touch ${pwnedMarker()}\``);
    }
    expect(existsSync(pwnedMarker())).toBe(false);
  });

  it('the systemd parser probe reads a plain file', () => {
    const path = join(root, 'probe.env');
    writeFileSync(path, `A='a b'\nB="x\\"y"\nC=plain\n`);
    const env = systemdEnvFile(path);
    expect([env.get('A'), env.get('B'), env.get('C')]).toEqual(['a b', 'x"y', 'plain']);
  });

  // sh's 'it'\''s' idiom is read differently by systemd (it keeps the quotes), so the env
  // file must use a form both parsers agree on; systemd's own parser checks that here.
  it('systemd reads the hostile values as sh does', () => {
    const [c] = CASES.filter((c) => c.hostile && c.init === 'systemd');
    const env = systemdEnvFile(envFile(c!));
    expect(env.get('MULTI')).toBe(HOSTILE_MULTI);
    expect(env.get('GREETING')).toBe(HOSTILE_GREETING);
  });
});

describe('nothing in the hostile values ran', () => {
  // Last in the file: by now every validator above has read the hostile files.
  it('no trap command and no PWNED marker', () => {
    expect(readdirSync(root).filter((name) => name.startsWith('executed-'))).toEqual([]);
    expect(existsSync(pwnedMarker())).toBe(false);
  });
});
