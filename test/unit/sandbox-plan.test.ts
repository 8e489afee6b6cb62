import { describe, expect, it } from 'vitest';
import { parseSandboxInventory } from '../../src/core/sandbox-inventory.js';
import {
  buildInventory,
  inventoryHost,
  knownHostsLine,
  monitrc,
  setupUnit,
  sshdConfig,
  sshdDropIn,
} from '../../src/sandbox/files.js';
import { decideSettings, planHosts } from '../../src/sandbox/plan-up.js';
import { parseProcStat } from '../../src/sandbox/proc.js';
import type { HostRecord, SandboxSettings } from '../../src/sandbox/state.js';

const previous: SandboxSettings = { version: 1, net: '10.231', kind: 'light', user: 'deploy' };

describe('decideSettings', () => {
  it('takes the defaults for a new sandbox', () => {
    expect(decideSettings(undefined, { count: 1, kind: 'light' }, false, '/s')).toEqual(previous);
  });

  it('keeps the net and user of a running sandbox unless told otherwise', () => {
    const settings = decideSettings(
      { ...previous, net: '10.9', user: 'root' },
      { count: 3, kind: 'light' },
      true,
      '/s',
    );
    expect(settings).toMatchObject({ net: '10.9', user: 'root' });
    expect(
      decideSettings(previous, { count: 3, kind: 'light', user: 'root' }, true, '/s').user,
    ).toBe('root');
  });

  it('refuses another kind or net while hosts exist, naming the state directory', () => {
    expect(() => decideSettings(previous, { count: 1, kind: 'systemd' }, true, '/s')).toThrow(
      'the sandbox in /s has light hosts: drop --systemd, or run svc sandbox down first, or use another --state-dir',
    );
    expect(() =>
      decideSettings({ ...previous, kind: 'systemd' }, { count: 1, kind: 'light' }, true, '/s'),
    ).toThrow('the sandbox in /s has systemd hosts: add --systemd');
    expect(() =>
      decideSettings(previous, { count: 1, kind: 'light', net: '10.5' }, true, '/s'),
    ).toThrow('the sandbox in /s uses net 10.231, not 10.5: run svc sandbox down first');
  });

  it('lets an empty sandbox change anything', () => {
    expect(
      decideSettings(previous, { count: 1, kind: 'systemd', net: '10.5' }, false, '/s'),
    ).toMatchObject({
      kind: 'systemd',
      net: '10.5',
    });
  });
});

describe('planHosts', () => {
  it('creates every host of a new sandbox', () => {
    expect(planHosts(3, [])).toEqual({ keep: [], replace: [], create: [1, 2, 3] });
  });

  it('adds only the missing hosts: up 3 after up 2', () => {
    const existing = [1, 2].map((n) => ({ n, healthy: true }));
    expect(planHosts(3, existing)).toEqual({ keep: [1, 2], replace: [], create: [3] });
  });

  it('rebuilds crashed or half-made hosts, even beyond N, and never removes a healthy one', () => {
    const existing = [
      { n: 1, healthy: true },
      { n: 2, healthy: false },
      { n: 5, healthy: false },
      { n: 6, healthy: true },
    ];
    expect(planHosts(3, existing)).toEqual({ keep: [1, 6], replace: [2, 5], create: [3] });
    expect(planHosts(1, [{ n: 1, healthy: true }])).toEqual({ keep: [1], replace: [], create: [] });
  });
});

describe('parseProcStat', () => {
  it('reads state, parent and start time, even with ") " in the command name', () => {
    const fields = ['S', '1', ...Array.from({ length: 17 }, (_, i) => String(i)), '987654', '0'];
    expect(parseProcStat(`42 (a) (b) c) ${fields.join(' ')}\n`)).toEqual({
      comm: 'a) (b) c',
      state: 'S',
      ppid: 1,
      start: '987654',
    });
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('42 (x) S 1')).toBeUndefined();
  });
});

describe('host configuration files', () => {
  it('sshd: the host address only, keys only, root by key, PAM as Debian ships it, strict modes', () => {
    const lines = sshdConfig('10.231.4.2').split('\n');
    for (const line of [
      'ListenAddress 10.231.4.2',
      'HostKey /run/svc-sandbox/ssh_host_ed25519_key',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'UsePAM yes',
      'StrictModes yes',
    ]) {
      expect(lines).toContain(line);
    }
    expect(sshdConfig('10.231.4.2')).not.toMatch(/KexAlgorithms/);
    expect(sshdDropIn('10.231.4.2').split('\n')).toContain('ListenAddress 10.231.4.2');
  });

  it('monit: a 5 s cycle, conf.d included, HTTP on localhost only, state on its tmpfs', () => {
    const lines = monitrc()
      .split('\n')
      .map((line) => line.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        'set daemon 5',
        'include /etc/monit/conf.d/*',
        'set httpd port 2812 and use address 127.0.0.1',
        'allow localhost',
        'set idfile /var/lib/monit/id',
        'set statefile /var/lib/monit/state',
      ]),
    );
  });

  it('the systemd setup unit runs before ssh and monit, its argument quoted for systemd', () => {
    const unit = setupUnit('sbx-2');
    expect(unit).toContain('Before=ssh.service monit.service');
    expect(unit).toContain('ExecStart=/bin/sh /run/svc-sandbox/setup.sh sbx-2\n');
    expect(setupUnit('a b')).toContain('setup.sh "a b"');
  });

  it('known_hosts: address, key type, key; the comment dropped', () => {
    expect(knownHostsLine('10.231.1.2', 'ssh-ed25519 AAAAC3Nz sbx-1\n')).toBe(
      '10.231.1.2 ssh-ed25519 AAAAC3Nz',
    );
    expect(() => knownHostsLine('10.231.1.2', 'garbage')).toThrow();
  });
});

describe('inventory', () => {
  const record = (n: number, kind: 'light' | 'systemd' = 'light'): HostRecord => ({
    version: 1,
    name: `sbx-${n}`,
    n,
    kind,
    netns: `svc-0123abcd-sbx-${n}`,
    veth: `svsb0ae7${n.toString(16).padStart(2, '0')}`,
    address: `10.231.${n}.2`,
    processes:
      kind === 'light'
        ? [
            { pid: 100 + n, start: '1', role: 'unshare', boot: 'b' },
            { pid: 200 + n, start: '1', role: 'holder', boot: 'b' },
            { pid: 300 + n, start: '1', role: 'sshd', boot: 'b' },
          ]
        : [
            { pid: 100 + n, start: '1', role: 'nspawn', boot: 'b' },
            { pid: 200 + n, start: '1', role: 'leader', boot: 'b' },
          ],
  });

  it("is the format core/sandbox-inventory.ts reads, hosts in numeric order, pid the host's first process", () => {
    const hosts = [record(10), record(2), record(1, 'systemd')].map((r) =>
      inventoryHost(r, 'deploy', '/s/id_ed25519'),
    );
    const inventory = buildInventory('10.231', '/s/known_hosts', hosts);
    const read = parseSandboxInventory(JSON.stringify(inventory), 'inventory.json');
    expect(read.hosts.map((h) => h.name)).toEqual(['sbx-1', 'sbx-2', 'sbx-10']);
    expect(read.hosts[1]).toEqual({
      name: 'sbx-2',
      kind: 'light',
      address: '10.231.2.2',
      port: 22,
      user: 'deploy',
      users: ['root', 'deploy'],
      keyFile: '/s/id_ed25519',
      netns: 'svc-0123abcd-sbx-2',
      pid: 202,
      pids: [102, 202, 302],
    });
    expect(read.hosts[0]).toMatchObject({ kind: 'systemd', pid: 201, pids: [101, 201] });
  });

  it('refuses a host whose first process was never recorded', () => {
    expect(() => inventoryHost({ ...record(1), processes: [] }, 'deploy', '/k')).toThrow(/sbx-1/);
  });
});
