// What `svc new --cutover switch` writes, checked by the real validators: the template unit by
// `systemd-analyze verify` (as the template, and as the instance of each slot's port, which is
// what systemd runs) and `systemd-analyze security`; the nginx front by `nginx -t` with the
// upstream file svc writes at a switch; and the refusals of flags that cannot go with it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { SVC } from '../helpers/sandbox.js';
import { parseUpstart, upstartUnquote } from '../helpers/upstart.js';

const CASES = [
  { name: 'api-switch', flags: ['--port', '4000'] },
  { name: 'www-switch', flags: ['--runtime', 'node', '--port', '8080'] },
];

let root = '';
const dir = (name: string) => join(root, name);
const run = (command: string, args: string[]) =>
  spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
const svcNew = (name: string, flags: string[]) =>
  run(process.execPath, [SVC, 'new', name, '--yes', '--dir', dir(name), ...flags]);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-cutover-validators-'));
  for (const c of CASES) {
    const result = svcNew(c.name, ['--user', 'daemon', '--cutover', 'switch', ...c.flags]);
    if (result.status !== 0) throw new Error(`svc new ${c.name}: ${result.stderr}`);
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.each(CASES)('$name', (c) => {
  const unitPath = () => join(dir(c.name), `config/etc/systemd/system/${c.name}@.service`);
  const manifest = () =>
    parseYaml(readFileSync(join(dir(c.name), 'svc.yaml'), 'utf8')) as {
      port: number;
      cutover: string;
      monit: boolean;
      init: string;
      appPort?: number;
    };

  it('writes svc.yaml for a switch: systemd, a monit check per slot, no appPort', () => {
    expect(manifest()).toMatchObject({ cutover: 'switch', monit: true, init: 'systemd' });
    expect(manifest().appPort).toBeUndefined();
  });

  it('systemd-analyze verify: the template and each slot instance, without a word', () => {
    const instances = join(root, `instances-${c.name}`);
    mkdirSync(instances, { recursive: true });
    const paths = [unitPath()];
    for (const slot of slotsOf(manifest())) {
      const instance = join(instances, `${c.name}@${slot.port}.service`);
      copyFileSync(unitPath(), instance);
      paths.push(instance);
    }
    for (const path of paths) {
      const result = run('systemd-analyze', ['verify', path]);
      expect(result.stdout + result.stderr, path).toBe('');
      expect(result.status, path).toBe(0);
    }
  });

  it('systemd-analyze security rates a slot 2.0 or below', () => {
    const [slot] = slotsOf(manifest());
    const instance = join(root, `${c.name}@${slot!.port}.service`);
    copyFileSync(unitPath(), instance);
    const result = run('systemd-analyze', ['security', '--offline=true', '--no-pager', instance]);
    const score = (result.stdout + result.stderr).match(
      /Overall exposure level for .*: (\d+\.\d+) /,
    );
    expect(score, result.stdout + result.stderr).not.toBeNull();
    expect(Number(score![1])).toBeLessThanOrEqual(2.0);
  });

  it('gives each slot its own loopback port and pidfile', () => {
    const unit = readFileSync(unitPath(), 'utf8');
    expect(unit).toMatch(/^Environment=HOST=127\.0\.0\.1 PORT=%i$/m);
    expect(unit).toContain(`ExecStopPost=+/bin/rm -f -- /run/${c.name}@%i.pid`);
    expect(unit).not.toMatch(/^Standard(?:Output|Error)=/m);
  });

  it('nginx -t: the front with the upstream file of either slot', () => {
    const site = readFileSync(
      join(dir(c.name), `config/etc/nginx/sites-enabled/${c.name}.conf`),
      'utf8',
    );
    expect(site).toContain(`include "${upstreamFile(c.name)}";`);
    for (const slot of slotsOf(manifest())) {
      const work = join(root, `nginx-${c.name}-${slot.name}`);
      mkdirSync(work, { recursive: true });
      const upstream = join(work, 'upstream.conf');
      writeFileSync(upstream, upstreamText(c.name, slot));
      writeFileSync(join(work, 'site.conf'), site.replace(upstreamFile(c.name), upstream));
      writeFileSync(
        join(work, 'nginx.conf'),
        `pid ${join(work, 'nginx.pid')};\nerror_log ${join(work, 'error.log')};\nevents {}\nhttp { include ${join(work, 'site.conf')}; }\n`,
      );
      // nginx -t opens the site's logs and its temp dirs: on tmpfs in a private mount namespace.
      const result = run('unshare', [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'set -e; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /var/lib/nginx; mkdir -p /var/log/nginx; nginx -t -c "$1"',
        'sh',
        join(work, 'nginx.conf'),
      ]);
      expect(result.stderr).toContain('test is successful');
      expect(result.status, result.stderr).toBe(0);
    }
  });
});

describe('svc new --cutover refusals', () => {
  it.each([[['--cutover', 'swap'], 'svc: error: --cutover: must be one of restart, switch']])(
    '%j',
    (flags, line) => {
      const result = svcNew('api-refused', flags);
      expect(result.stderr.trim()).toBe(line);
      expect(result.status).toBe(1);
    },
  );

  it('refuses a worker', () => {
    const result = svcNew('service-x', ['--cutover', 'switch']);
    expect(result.stderr.trim()).toBe(
      'svc: error: --cutover switch: needs a process that answers HTTP (api-, or www- --runtime node)',
    );
  });
});

// cutover: switch under every init system, with and without monit (cutover-slots.ts): the files
// svc new writes, each through the validator that reads it as the host will.
const SLOT_CASES = [
  { name: 'api-sw-mon', init: 'monit', monit: true },
  { name: 'api-sw-sdm', init: 'systemd', monit: true },
  { name: 'api-sw-orc', init: 'openrc', monit: true },
  { name: 'api-sw-orn', init: 'openrc', monit: false },
  { name: 'api-sw-ups', init: 'upstart', monit: false },
  { name: 'api-sw-upm', init: 'upstart', monit: true },
] as const;
type SlotCase = (typeof SLOT_CASES)[number];

describe('switch under each init system', () => {
  let work = '';
  const project = (c: SlotCase) => join(root, c.name);
  const text = (c: SlotCase, path: string) => readFileSync(join(project(c), path), 'utf8');
  /** The file with its host paths (slot pidfiles, svc's markers) moved into a temp directory. */
  const local = (c: SlotCase, path: string) =>
    text(c, path)
      .replaceAll(`/run/${c.name}@`, `${work}/run-${c.name}@`)
      .replaceAll(`/var/lib/svc/${c.name}/`, `${work}/state-${c.name}-`);
  /** A directory of stand-ins that print their name and arguments. */
  let stubs = '';
  const stub = (name: string, body = 'printf "%s" "$(basename "$0")"; printf " %s" "$@"; echo') =>
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'svc-slot-validators-'));
    stubs = join(work, 'bin');
    mkdirSync(stubs);
    for (const name of ['systemctl', 'rc-service', 'initctl', 'start-stop-daemon']) stub(name);
    for (const c of SLOT_CASES) {
      const result = svcNew(c.name, [
        '--user',
        'daemon',
        '--cutover',
        'switch',
        '--port',
        '4100',
        '--init',
        c.init,
        c.monit ? '--monit' : '--no-monit',
      ]);
      if (result.status !== 0) throw new Error(`svc new ${c.name}: ${result.stderr}`);
    }
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each(SLOT_CASES)('$name: svc new writes the slot files of its init system', (c) => {
    const n = c.name;
    const files = run('find', [join(project(c), 'config'), '-type', 'f'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((path) => path.slice(project(c).length + 1))
      .sort();
    const expected = [
      `config/etc/nginx/sites-enabled/${n}.conf`,
      `config/etc/logrotate.d/${n}`,
      ...(c.monit ? [`config/etc/monit/conf.d/${n}`, `config/usr/local/lib/svc/${n}/ctl`] : []),
      ...{
        systemd: [`config/etc/systemd/system/${n}@.service`],
        openrc: [`config/etc/init.d/${n}`],
        upstart: [`config/etc/init/${n}.conf`, `config/etc/init/${n}-slots.conf`],
        monit: [],
      }[c.init],
    ].sort();
    expect(files).toEqual(expected);
    expect(parseYaml(text(c, 'svc.yaml'))).toMatchObject({ cutover: 'switch', monit: c.monit });
  });

  it.each(SLOT_CASES.filter((c) => c.monit))('$name: monit -t, a check per slot', (c) => {
    const dir = join(work, `monit-${c.name}`);
    mkdirSync(dir);
    const rc = join(dir, 'monitrc');
    writeFileSync(
      rc,
      `set daemon 30\nset idfile ${dir}/id\nset statefile ${dir}/state\ninclude ${join(project(c), `config/etc/monit/conf.d/${c.name}`)}\n`,
      { mode: 0o700 },
    );
    const result = run('monit', ['-t', '-c', rc]);
    expect(result.stdout + result.stderr).toContain('Control file syntax OK');
    expect(result.status, result.stderr).toBe(0);
    const check = text(c, `config/etc/monit/conf.d/${c.name}`);
    const ctl = `/usr/local/lib/svc/${c.name}/ctl`;
    const [a, b] = slotsOf({ port: 4100 });
    for (const slot of [a!, b!]) {
      expect(check).toContain(
        `check process ${c.name}-${slot.name} with pidfile "/run/${c.name}@${slot.port}.pid"`,
      );
      expect(check).toContain(
        `start program = "${ctl} start ${slot.name}" with timeout 10 seconds`,
      );
      expect(check).toContain(`stop program = "${ctl} stop ${slot.name}" with timeout 40 seconds`);
      expect(check).toContain(`if failed host 127.0.0.1 port ${slot.port} protocol http`);
    }
    expect(check.match(/^ {2}onreboot laststate$/gm)).toHaveLength(2);
    expect(check.match(new RegExp(`^ {2}group ${c.name}-slots$`, 'gm'))).toHaveLength(2);
    // Not started at once on load: svc unmonitors the unmarked slot first.
    expect(check.match(/^ {2}if does not exist for 2 cycles then restart$/gm)).toHaveLength(2);
    expect(check).not.toMatch(/^[^#]*\bunmonitor\b/m);
  });

  it.each(SLOT_CASES.filter((c) => c.monit))(
    '$name: the launcher starts only a marked slot, through its init system',
    (c) => {
      const path = join(work, `ctl-${c.name}`);
      const launcher = local(c, `config/usr/local/lib/svc/${c.name}/ctl`)
        .replaceAll('/sbin/start-stop-daemon', join(stubs, 'start-stop-daemon'))
        .replaceAll('/bin/systemctl', join(stubs, 'systemctl'))
        .replaceAll('/sbin/rc-service', join(stubs, 'rc-service'))
        .replaceAll('/sbin/initctl', join(stubs, 'initctl'))
        .replace(/^\tsleep 2$/m, '\t:')
        .replaceAll(`/etc/default/${c.name}`, join(work, 'no-env-file'));
      writeFileSync(path, launcher, { mode: 0o755 });
      const sh = run('sh', ['-n', path]);
      expect(sh.stderr).toBe('');
      const go = (action: string, slot: string) => run(path, [action, slot]);
      const refused = go('start', 'b');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(
        'slot b is not marked to run (svc deploy marks the slot it starts)',
      );
      expect(go('start', 'c').status).toBe(2);
      writeFileSync(join(work, `state-${c.name}-slot-b.on`), '');
      const started = go('start', 'b');
      expect(started.stderr).toBe('');
      expect(started.status).toBe(0);
      const first = started.stdout.split('\n')[0]!;
      if (c.init === 'monit')
        expect(first).toMatch(
          new RegExp(
            `^start-stop-daemon --start --oknodo --background --make-pidfile --pidfile ${work}/run-${c.name}@24100\\.pid --chuid daemon:daemon `,
          ),
        );
      else
        expect(first).toBe(
          {
            systemd: `systemctl start -- ${c.name}@24100.service`,
            openrc: `rc-service ${c.name}.b start`,
            upstart: `initctl start ${c.name} SLOT=b`,
          }[c.init],
        );
    },
  );

  it('init: monit: the slot gets its own address after the environment file', () => {
    const c = SLOT_CASES[0];
    const env = join(work, 'env-mon');
    writeFileSync(env, 'PORT=1\nHOST=0.0.0.0\nOTHER=x\n');
    const path = join(work, 'ctl-env');
    writeFileSync(
      path,
      local(c, `config/usr/local/lib/svc/${c.name}/ctl`)
        .replaceAll('/sbin/start-stop-daemon', join(stubs, 'ssd-env'))
        .replace(/^\tsleep 2$/m, '\t:')
        .replaceAll(`/etc/default/${c.name}`, env),
      { mode: 0o755 },
    );
    stub('ssd-env', 'echo "$HOST $PORT $OTHER"');
    writeFileSync(join(work, `state-${c.name}-slot-a.on`), '');
    const result = run(path, ['start', 'a']);
    expect(result.stdout.split('\n')[0]).toBe('127.0.0.1 14100 x');
  });

  it.each(SLOT_CASES.filter((c) => c.init === 'openrc'))(
    '$name: OpenRC: each link is a slot with its own port and pidfile; the script itself is none',
    (c) => {
      const path = join(project(c), `config/etc/init.d/${c.name}`);
      expect(text(c, `config/etc/init.d/${c.name}`).split('\n')[0]).toBe('#!/sbin/openrc-run');
      expect(run('sh', ['-n', path]).status).toBe(0);
      for (const [slot, port] of [
        ['a', 14100],
        ['b', 24100],
      ] as const) {
        const result = run('sh', [
          '-c',
          'RC_SVCNAME=$2; . "$1"; eval "printf \'%s\\n\' $pidfile"; printf "%s\\n" "$HOST" "$PORT"; eerror() { echo "$*"; }; start_pre',
          'sh',
          path,
          `${c.name}.${slot}`,
        ]);
        expect(result.stderr).toBe('');
        expect(result.stdout.split('\n').slice(0, 3)).toEqual([
          `/run/${c.name}@${port}.pid`,
          '127.0.0.1',
          String(port),
        ]);
        expect(result.status).toBe(0);
      }
      const plain = run('sh', [
        '-c',
        'RC_SVCNAME=$2; . "$1"; eerror() { echo "$*" >&2; }; start_pre',
        'sh',
        path,
        c.name,
      ]);
      expect(plain.status).toBe(1);
      expect(plain.stderr).toContain(`${c.name} is no slot: start ${c.name}.a or ${c.name}.b`);
    },
  );

  it.each(SLOT_CASES.filter((c) => c.init === 'upstart'))(
    '$name: upstart: an instance job per slot, and a boot task that starts the marked ones',
    (c) => {
      const job = parseUpstart(text(c, `config/etc/init/${c.name}.conf`));
      expect(job.problems).toEqual([]);
      const stanza = (j: typeof job, keyword: string) =>
        j.stanzas.filter((s) => s.keyword === keyword).map((s) => s.args);
      expect(stanza(job, 'instance')).toEqual(['$SLOT']);
      expect(stanza(job, 'start on')).toEqual([]);
      expect(stanza(job, 'kill timeout')).toEqual(['30']);
      expect(upstartUnquote(stanza(job, 'description')[0]!)).toContain(c.name);
      for (const script of job.scripts)
        expect(run('sh', ['-n', '-c', script.body]).status, script.owner).toBe(0);
      // The main script as upstart runs it (sh -e), start-stop-daemon stood in for.
      const main = parseUpstart(local(c, `config/etc/init/${c.name}.conf`)).scripts.find(
        (s) => s.owner === 'script',
      )!;
      const result = run('sh', [
        '-e',
        '-c',
        `export PATH=${stubs}:$PATH; SLOT=b; ${main.body.replaceAll('/sbin/start-stop-daemon', 'start-stop-daemon').replace(/^\s*exec /m, 'echo "$HOST $PORT"; exec ')}`,
      ]);
      expect(result.stderr).toBe('');
      const [address, argv] = result.stdout.split('\n');
      expect(address).toBe('127.0.0.1 24100');
      expect(argv).toContain(
        `--make-pidfile --pidfile ${work}/run-${c.name}@24100.pid --chuid daemon:daemon`,
      );

      const task = parseUpstart(text(c, `config/etc/init/${c.name}-slots.conf`));
      expect(task.problems).toEqual([]);
      expect(stanza(task, 'task')).toEqual(['']);
      expect(stanza(task, 'start on')).toEqual(['(local-filesystems and net-device-up IFACE!=lo)']);
      // Run with the markers of slot b only: it starts that instance, not a.
      const boot = task.scripts
        .find((s) => s.owner === 'script')!
        .body.replaceAll(`/var/lib/svc/${c.name}/`, `${work}/boot-${c.name}-`);
      writeFileSync(join(work, `boot-${c.name}-slot-b.on`), '');
      stub('start', 'echo "start $*"');
      const started = run('sh', ['-e', '-c', `export PATH=${stubs}:$PATH; ${boot}`]);
      expect(started.stdout.trim()).toBe(`start ${c.name} SLOT=b`);
    },
  );

  it('systemd with monit: the template unit still verifies as each slot', () => {
    const c = SLOT_CASES[1];
    const unit = join(project(c), `config/etc/systemd/system/${c.name}@.service`);
    for (const port of [14100, 24100]) {
      const instance = join(work, `${c.name}@${port}.service`);
      copyFileSync(unit, instance);
      const result = run('systemd-analyze', ['verify', instance]);
      expect(result.stdout + result.stderr).toBe('');
    }
  });
});

describe('switch: a hostile description, quoted for each format', () => {
  const HOSTILE = 'it\'s "quoted" $(reboot) `id` % $HOME \\ end';
  const hostile = ['api-sw-hostile-orc', 'api-sw-hostile-ups'] as const;

  beforeAll(() => {
    for (const [name, init] of [
      [hostile[0], 'openrc'],
      [hostile[1], 'upstart'],
    ] as const) {
      const result = svcNew(name, [
        '--user',
        'daemon',
        '--cutover',
        'switch',
        '--init',
        init,
        '--description',
        HOSTILE,
      ]);
      if (result.status !== 0) throw new Error(`svc new ${name}: ${result.stderr}`);
    }
  });

  it('OpenRC: sourced as a slot, the description is the value as given', () => {
    const path = join(dir(hostile[0]), `config/etc/init.d/${hostile[0]}`);
    const result = run('sh', [
      '-c',
      'RC_SVCNAME=$2; . "$1"; printf "%s" "$description"',
      'sh',
      path,
      `${hostile[0]}.a`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(HOSTILE);
  });

  it('upstart: the job and the boot task carry it as upstart reads it', () => {
    const read = (file: string) =>
      parseUpstart(readFileSync(join(dir(hostile[1]), `config/etc/init/${file}`), 'utf8'));
    const description = (job: ReturnType<typeof read>) =>
      upstartUnquote(job.stanzas.find((s) => s.keyword === 'description')!.args);
    expect(description(read(`${hostile[1]}.conf`))).toBe(HOSTILE);
    expect(description(read(`${hostile[1]}-slots.conf`))).toBe(`${HOSTILE} (slots at boot)`);
  });
});
