// svc sandbox with light hosts, through the real bin/svc and the real OpenSSH client: logins,
// sudo, isolation from the machine, monit, growing the sandbox, crashes, and a `down` that leaves
// no namespace, link, mount, process or state behind.
//
// Needs root, a built dist/ and the packages in .ci/run. SVC_SKIP_SANDBOX=1 skips it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drawNet,
  isRunning,
  leftovers,
  processesInNetns,
  runSvc,
  sandboxSupport,
  snapshotSandbox,
  startSandbox,
  SVC,
  type Sandbox,
} from '../helpers/sandbox.js';

const tag = `svc-sbx-test-${randomBytes(4).toString('hex')}`;

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('svc sandbox: light hosts', () => {
  let sbx: Sandbox;

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    sbx = await startSandbox({ count: 2 });
  });

  afterAll(async () => {
    await sbx?.down();
    for (const dir of ['/var/www', '/usr/local/lib', '/opt', '/srv', '/tmp', '/var/lib']) {
      rmSync(join(dir, tag), { recursive: true, force: true });
    }
  });

  it('records both hosts as inventory and known_hosts in the state directory', () => {
    const { inventory } = sbx;
    expect(inventory.net).toBe(sbx.net);
    expect(inventory.hosts.map((h) => [h.name, h.address, h.user, h.kind])).toEqual([
      ['sbx-1', `${sbx.net}.1.2`, 'deploy', 'light'],
      ['sbx-2', `${sbx.net}.2.2`, 'deploy', 'light'],
    ]);
    expect(inventory.knownHostsFile).toBe(join(sbx.stateDir, 'known_hosts'));
    const knownHosts = readFileSync(inventory.knownHostsFile, 'utf8').trim().split('\n');
    expect(knownHosts).toHaveLength(2);
    for (const [i, host] of inventory.hosts.entries()) {
      expect(knownHosts[i]).toMatch(
        new RegExp(`^${host.address.replaceAll('.', '\\.')} ssh-ed25519 \\S+$`),
      );
      expect(existsSync(host.keyFile)).toBe(true);
      expect(host.users).toEqual(['root', 'deploy']);
      expect(host.pids).toContain(host.pid);
      expect(host.pids.every((pid) => existsSync(`/proc/${pid}`))).toBe(true);
    }
    expect(inventory.hosts[0]!.netns).not.toBe(inventory.hosts[1]!.netns);
  });

  it('lets deploy in with the sandbox key, strict host key checking, and passwordless sudo', () => {
    const result = sbx.ssh('sbx-1', 'id -un && sudo -n id -u');
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, stdout: 'deploy\n0\n' });
  });

  it('lets root in', () => {
    expect(sbx.ssh('sbx-2', 'id -u; echo $HOME', { user: 'root' })).toMatchObject({
      code: 0,
      stdout: '0\n/root\n',
    });
  });

  it('lets a key into an account useradd left password-locked, as a real Debian host does', () => {
    const setup = [
      'useradd -m -s /bin/sh locked1',
      'install -d -m 0700 -o locked1 -g locked1 /home/locked1/.ssh',
      'install -m 0600 -o locked1 -g locked1 /root/.ssh/authorized_keys /home/locked1/.ssh/',
      'grep "^locked1:!" /etc/shadow >/dev/null',
    ].join(' && ');
    expect(sbx.ssh('sbx-1', setup, { user: 'root' })).toMatchObject({ code: 0 });
    const login = sbx.ssh('sbx-1', 'id -un; sudo -n true', { user: 'locked1' });
    expect(login.stdout).toBe('locked1\n');
    expect(login.stderr).toContain('sudo: a password is required');
  });

  it('refuses a key the host does not know of, and a host key that does not match', () => {
    const other = mkdtempSync(join(tmpdir(), 'svc-sbx-key-'));
    try {
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other, 'id')]);
      const args = sbx.sshArgs('sbx-1');
      args[args.indexOf('-i') + 1] = join(other, 'id');
      expect(spawnSync(args[0]!, [...args.slice(1), 'true']).status).toBe(255);
      // sbx-2's host key presented for sbx-1's address: StrictHostKeyChecking refuses.
      const swapped = join(other, 'known_hosts');
      const lines = readFileSync(sbx.inventory.knownHostsFile, 'utf8').trim().split('\n');
      writeFileSync(
        swapped,
        `${sbx.host('sbx-1').address} ${lines[1]!.split(' ').slice(1).join(' ')}\n`,
      );
      const strict = sbx
        .sshArgs('sbx-1')
        .map((arg) =>
          arg.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${swapped}` : arg,
        );
      const refused = spawnSync(strict[0]!, [...strict.slice(1), 'true'], { encoding: 'utf8' });
      expect(refused.status).toBe(255);
      expect(refused.stderr).toMatch(
        /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('gives each host its own hostname', () => {
    expect(sbx.ssh('sbx-1', 'hostname').stdout).toBe('sbx-1\n');
    expect(sbx.ssh('sbx-2', 'hostname').stdout).toBe('sbx-2\n');
  });

  it('keeps writes on the host: /var/www/x over SSH does not appear on the machine', () => {
    const result = sbx.ssh('sbx-1', `sudo mkdir /var/www/${tag} && test -d /var/www/${tag}`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(`/var/www/${tag}`)).toBe(false);
    expect(sbx.ssh('sbx-2', `test -d /var/www/${tag}`).code).toBe(1);
  });

  it('lays fresh tmpfs and overlays over the machine, as the issue lists them', () => {
    const script = [
      'for d in /var/www /var/log /var/db /var/lib/svc /var/lib/monit /home /srv /run /tmp /root /dev/shm /etc /usr /var /opt; do',
      '  printf "%s %s %s\\n" "$d" "$(stat -f -c %T "$d")" "$(stat -c %a "$d")"',
      'done',
    ].join('\n');
    const result = sbx.ssh('sbx-1', script, { user: 'root' });
    expect(result.code).toBe(0);
    const fs = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [dir, type, mode] = line.split(' ');
          return [dir, `${type} ${mode}`];
        }),
    );
    for (const dir of [
      '/var/www',
      '/var/log',
      '/var/db',
      '/var/lib/svc',
      '/var/lib/monit',
      '/home',
      '/srv',
      '/run',
    ]) {
      expect(fs[dir], dir).toBe('tmpfs 755');
    }
    expect(fs['/root']).toBe('tmpfs 700');
    expect(fs['/tmp']).toBe('tmpfs 1777');
    expect(fs['/dev/shm']).toBe('tmpfs 1777');
    for (const dir of ['/etc', '/usr', '/var', '/opt']) expect(fs[dir], dir).toMatch(/^overlayfs /);
  });

  it('keeps everything a deploy writes off the machine: /etc, users, /usr/local, /var/lib, /tmp, /opt, /srv', () => {
    const script = [
      'set -e',
      `useradd --create-home --shell /usr/sbin/nologin ${tag.slice(0, 30)}`,
      `mkdir -p /usr/local/lib/${tag} /var/lib/svc/${tag} /var/lib/${tag} /opt/${tag} /srv/${tag}`,
      `echo x > /etc/${tag}`,
      `echo x > /tmp/${tag}`,
      `ls -d /home/${tag.slice(0, 30)}`,
      // Nothing else on the machine's root filesystem is writable from a host.
      `! mkdir /${tag} 2>/dev/null`,
    ].join('\n');
    expect(sbx.ssh('sbx-1', 'sudo sh -s', { input: script })).toMatchObject({ code: 0 });
    expect(readFileSync('/etc/passwd', 'utf8')).not.toContain(tag.slice(0, 30));
    for (const path of [
      `/etc/${tag}`,
      `/tmp/${tag}`,
      `/usr/local/lib/${tag}`,
      `/var/lib/svc/${tag}`,
      `/var/lib/${tag}`,
      `/opt/${tag}`,
      `/srv/${tag}`,
      `/home/${tag.slice(0, 30)}`,
      `/${tag}`,
    ]) {
      expect(existsSync(path), path).toBe(false);
    }
  });

  it('runs monit: status and reload work over SSH, and a monit check really starts its program', async () => {
    const status = sbx.ssh('sbx-1', 'sudo monit -c /etc/monit/monitrc status && sudo monit status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("System 'sbx-1'");
    const check = [
      'check process sbx-sleeper with pidfile /run/sbx-sleeper.pid',
      '  start program = "/sbin/start-stop-daemon --start --background --make-pidfile --pidfile /run/sbx-sleeper.pid --exec /bin/sleep -- 600"',
      '',
    ].join('\n');
    const install = sbx.ssh(
      'sbx-1',
      'sudo tee /etc/monit/conf.d/sbx-sleeper >/dev/null && sudo monit -t && sudo monit reload',
      { input: check },
    );
    expect(install).toMatchObject({ code: 0 });
    let running = false;
    for (let i = 0; i < 40 && !running; i++) {
      await sleep(500);
      running =
        sbx.ssh('sbx-1', 'kill -0 "$(cat /run/sbx-sleeper.pid)" 2>/dev/null', { user: 'root' })
          .code === 0;
    }
    expect(running).toBe(true);
    // The machine has no such pidfile: /run is the host's own.
    expect(existsSync('/run/sbx-sleeper.pid')).toBe(false);
    // A 5 s cycle: monit notices the program died and starts it again within a few seconds.
    const first = sbx.ssh('sbx-1', 'cat /run/sbx-sleeper.pid', { user: 'root' }).stdout.trim();
    expect(sbx.ssh('sbx-1', `kill ${first}`, { user: 'root' }).code).toBe(0);
    let again = '';
    for (let i = 0; i < 30 && (again === '' || again === first); i++) {
      await sleep(500);
      const probe = 'p=$(cat /run/sbx-sleeper.pid) && kill -0 "$p" && echo "$p"';
      again = sbx.ssh('sbx-1', probe, { user: 'root' }).stdout.trim();
    }
    expect(again).not.toBe(first);
    expect(again).toMatch(/^\d+$/);
  });

  it('up again with N=3 adds exactly one host and keeps the others running', async () => {
    const before = sbx.inventory.hosts.map((h) => h.pid);
    const result = await sbx.svc([
      'sandbox',
      'up',
      '3',
      '--state-dir',
      sbx.stateDir,
      '--net',
      sbx.net,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(1 started, 2 already running)');
    const inventory = sbx.reload();
    expect(inventory.hosts.map((h) => h.name)).toEqual(['sbx-1', 'sbx-2', 'sbx-3']);
    expect(inventory.hosts.slice(0, 2).map((h) => h.pid)).toEqual(before);
    expect(readFileSync(inventory.knownHostsFile, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(sbx.ssh('sbx-3', 'hostname').stdout).toBe('sbx-3\n');
  });

  it('list --json has every field; list prints a table', async () => {
    const json = await sbx.svc(['sandbox', 'list', '--json']);
    expect(json.code).toBe(0);
    const hosts = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(hosts).toHaveLength(3);
    for (const host of hosts) {
      expect(Object.keys(host)).toEqual(
        expect.arrayContaining([
          'name',
          'address',
          'netns',
          'users',
          'keyFile',
          'knownHostsFile',
          'pid',
        ]),
      );
      expect(host.alive).toBe(true);
    }
    const table = await sbx.svc(['sandbox', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+ADDRESS\s+USER\s+KIND\s+PID/);
    expect(table.stdout).toMatch(
      new RegExp(
        `sbx-3\\s+${sbx.net.replace('.', '\\.')}\\.3\\.2\\s+deploy\\s+light\\s+\\d+\\s+up`,
      ),
    );
  });

  it('refuses a /24 another sandbox routes, and creates nothing', async () => {
    const other = mkdtempSync(join(tmpdir(), 'svc-sbx-other-'));
    try {
      const result = await runSvc(
        ['sandbox', 'up', '1', '--state-dir', other, '--net', sbx.net],
        process.env,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^svc: error: ${sbx.net.replace('.', '\\.')}\\.1\\.0/24 is already routed on this machine .*: choose another --net\\n$`,
        ),
      );
      expect(existsSync(join(other, 'hosts', 'sbx-1'))).toBe(false);
      expect((await runSvc(['sandbox', 'down', '--state-dir', other], process.env)).code).toBe(0);
      expect(existsSync(other)).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('replaces a crashed host on the next up', async () => {
    const crashed = sbx.host('sbx-2');
    process.kill(crashed.pid, 'SIGKILL');
    await sleep(300);
    const listed = JSON.parse((await sbx.svc(['sandbox', 'list', '--json'])).stdout) as {
      name: string;
      alive: boolean;
    }[];
    expect(listed.find((h) => h.name === 'sbx-2')?.alive).toBe(false);
    const result = await sbx.svc([
      'sandbox',
      'up',
      '3',
      '--state-dir',
      sbx.stateDir,
      '--net',
      sbx.net,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(1 started, 2 already running)');
    expect(sbx.reload().hosts.find((h) => h.name === 'sbx-2')?.pid).not.toBe(crashed.pid);
    expect(sbx.ssh('sbx-2', 'hostname').stdout).toBe('sbx-2\n');
  });

  it('down cleans up after a crash: killed processes, a half-made host, no inventory.json', async () => {
    // A host `up` died in the middle of: its record and its namespace exist, nothing else.
    const hash = /^svc-([0-9a-f]{8})-/.exec(sbx.host('sbx-1').netns)![1]!;
    const halfNetns = `svc-${hash}-sbx-9`;
    mkdirSync(join(sbx.stateDir, 'hosts', 'sbx-9'), { recursive: true });
    writeFileSync(
      join(sbx.stateDir, 'hosts', 'sbx-9', 'record.json'),
      JSON.stringify({
        version: 1,
        name: 'sbx-9',
        n: 9,
        kind: 'light',
        netns: halfNetns,
        veth: 'svsbffffff',
        address: `${sbx.net}.9.2`,
        processes: [],
      }),
    );
    expect(spawnSync('ip', ['netns', 'add', halfNetns]).status).toBe(0);
    const listed = await sbx.svc(['sandbox', 'list']);
    expect(listed.stdout).toContain('half-made (not in the inventory): sbx-9');
    // sbx-3's first process killed; the inventory gone.
    process.kill(sbx.host('sbx-3').pid, 'SIGKILL');
    rmSync(join(sbx.stateDir, 'inventory.json'));

    const snapshot = snapshotSandbox(sbx.stateDir);
    expect(snapshot.inside.length).toBeGreaterThan(6);
    // The program monit started on sbx-1 is among the processes inside; down must end it too.
    const cmdline = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    expect(snapshot.inside.some((p) => cmdline(p.pid).startsWith('/bin/sleep\u0000600'))).toBe(
      true,
    );
    const result = await sbx.svc(['sandbox', 'down', '--state-dir', sbx.stateDir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^removed sbx-1, sbx-2, sbx-3, sbx-9 /);
    expect(leftovers(snapshot)).toEqual([]);
    expect(snapshot.processes.filter(isRunning)).toEqual([]);
    expect(processesInNetns(halfNetns)).toEqual([]);
    // And again: nothing to do is not an error.
    expect((await sbx.svc(['sandbox', 'down', '--state-dir', sbx.stateDir])).code).toBe(0);
  });
});

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('svc sandbox: an up killed midway', () => {
  it('leaves records that down cleans', async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    const stateDir = mkdtempSync(join(tmpdir(), 'svc-sandbox-test-'));
    try {
      // A net another test file's sandbox holds makes up refuse at once: drawn again then.
      const startUp = () => {
        const child = spawn(
          SVC,
          ['sandbox', 'up', '4', '--state-dir', stateDir, '--net', drawNet()],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        let ended = false;
        child.once('exit', () => (ended = true));
        return { child, refused: () => ended && /already (routed|used)/.test(stderr) };
      };
      let run = startUp();
      // Kill it while a host is started but its first process not yet recorded: only the
      // `unshare` pid is known then, and killing that must still end the whole host.
      const startedOnly = () =>
        [1, 2, 3, 4].some((n) => {
          try {
            const file = join(stateDir, 'hosts', `sbx-${n}`, 'record.json');
            const record = JSON.parse(readFileSync(file, 'utf8')) as {
              processes: { role: string }[];
            };
            return record.processes.map((p) => p.role).join() === 'unshare';
          } catch {
            return false;
          }
        });
      let caught = false;
      for (let i = 0, draws = 1; i < 2000 && !caught; i++) {
        caught = startedOnly();
        if (!caught && run.refused() && draws++ < 6) run = startUp();
        if (!caught) await sleep(2);
      }
      expect(caught).toBe(true);
      const up = run.child;
      up.kill('SIGKILL');
      if (up.exitCode === null && up.signalCode === null)
        await new Promise((resolve) => up.once('exit', resolve));
      await sleep(200);
      const snapshot = snapshotSandbox(stateDir);
      const result = await runSvc(['sandbox', 'down', '--state-dir', stateDir], process.env);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(leftovers(snapshot)).toEqual([]);
    } finally {
      await runSvc(['sandbox', 'down', '--state-dir', stateDir], process.env);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('svc sandbox: refusals, one line each', () => {
  const nobody = (args: string[]) =>
    spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', SVC, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', SVC_SANDBOX_DIR: '/nonexistent/svc-sandbox' },
    });

  it.runIf(process.getuid?.() === 0)('without root: says so in one line', () => {
    for (const args of [
      ['sandbox', 'up'],
      ['sandbox', 'down'],
    ]) {
      const result = nobody(args);
      expect(result.stderr).toBe(
        'svc: error: svc sandbox needs root (it creates network namespaces and mounts)\n',
      );
      expect(result.status).toBe(1);
    }
  });

  it.each([
    [
      ['--net', '8.8'],
      'svc: error: --net 8.8: not private address space (use 10.x, 172.16-31.x or 192.168)\n',
    ],
    [
      ['--net', '10.1.2'],
      'svc: error: --net 10.1.2: expected the first two octets of a /16, like 10.231\n',
    ],
    [['0'], 'svc: error: host count 0: must be a whole number from 1 to 254\n'],
    [['255'], 'svc: error: host count 255: must be a whole number from 1 to 254\n'],
  ])('svc sandbox up %j', async (args, stderr) => {
    const result = await runSvc(['sandbox', 'up', ...args], {
      ...process.env,
      SVC_SANDBOX_DIR: '/nonexistent/x',
    });
    expect(result).toMatchObject({ code: 1, stderr });
    expect(existsSync('/nonexistent/x')).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)(
    'refuses a state directory inside a tree hosts overlay',
    async () => {
      const result = await runSvc(
        ['sandbox', 'up', '--state-dir', '/var/tmp/svc-sandbox-refused'],
        process.env,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        'svc: error: state directory /var/tmp/svc-sandbox-refused is inside /var, which sandbox hosts overlay; choose one outside /etc, /usr, /var, /opt\n',
      );
      rmSync('/var/tmp/svc-sandbox-refused', { recursive: true, force: true });
    },
  );

  it('list of an empty state directory', async () => {
    const result = await runSvc(
      ['sandbox', 'list', '--json', '--state-dir', '/nonexistent/y'],
      process.env,
    );
    expect(result).toMatchObject({ code: 0, stdout: '[]\n' });
  });
});
