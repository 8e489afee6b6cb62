// resolveTarget's details, one case per field or condition: what ~/.ssh/config contributes (and
// nothing more: absent fields stay absent), when a host counts as configured, the sandbox's
// names, bare words, and the exact line for a word svc does not know.
import { describe, expect, it } from 'vitest';
import type { SandboxInventory } from '../../src/core/sandbox-inventory.js';
import {
  isBareWord,
  resolveTarget,
  unknownWordMessage,
  type HostSpec,
  type SshConfigEntry,
  type SshConfigGiven,
  type TargetContext,
} from '../../src/core/targets.js';

const sandboxOf = (count: number): SandboxInventory => ({
  version: 1,
  net: '10.231',
  knownHostsFile: '/state/known_hosts',
  hosts: Array.from({ length: count }, (_, i) => ({
    name: `sbx-${i + 1}`,
    kind: 'light' as const,
    address: `10.231.${i + 1}.1`,
    port: 22,
    user: 'deploy',
    users: ['deploy', 'root'],
    keyFile: '/state/id_ed25519',
    netns: `svc-sbx-${i + 1}`,
    pid: 100 + i,
    pids: [100 + i],
  })),
});

/** A context whose ~/.ssh/config answers `entry` for every host; records what it was asked. */
function withConfig(entry: Partial<SshConfigEntry>, over: Partial<TargetContext> = {}) {
  const calls: [string, SshConfigGiven | undefined][] = [];
  const ctx: TargetContext = {
    defaultUser: 'me',
    sshConfig: (host, given) => {
      calls.push([host, given]);
      return { hostName: host.toLowerCase(), identityFiles: [], ...entry };
    },
    ...over,
  };
  return { ctx, calls };
}

const one = (target: string, entry: Partial<SshConfigEntry>, over: Partial<TargetContext> = {}) =>
  resolveTarget(target, withConfig(entry, over).ctx)[0]!;

describe('a host taken as written', () => {
  it('gets only the settings the config has: absent ones stay absent', () => {
    const { ctx, calls } = withConfig({});
    expect(resolveTarget('web.example.com', ctx)).toStrictEqual([
      {
        name: 'web.example.com',
        address: 'web.example.com',
        port: 22,
        user: 'me',
        identityFiles: [],
        vars: {},
        source: 'literal',
      },
    ]);
    expect(calls).toStrictEqual([['web.example.com', {}]]);
  });

  it('passes an explicit user and port to the config lookup, and they win', () => {
    const { ctx, calls } = withConfig({ user: 'cfg', port: 2000 });
    expect(resolveTarget('ops@web.example.com:2222', ctx)[0]).toMatchObject({
      user: 'ops',
      port: 2222,
    });
    expect(calls).toStrictEqual([['web.example.com', { user: 'ops', port: 2222 }]]);
  });

  it('carries every ssh setting the config has, each as it is', () => {
    const hostKeys = { userFiles: ['/k/u'], globalFiles: ['/k/g'], hash: true };
    expect(
      one('web.example.com', {
        identityFiles: ['/home/me/.ssh/id_ed25519'],
        identityFilesConfigured: false,
        identitiesOnly: false,
        identityAgent: 'none',
        hostKeys,
        proxyJump: 'bastion',
      }),
    ).toStrictEqual({
      name: 'web.example.com',
      address: 'web.example.com',
      port: 22,
      user: 'me',
      identityFiles: ['/home/me/.ssh/id_ed25519'],
      defaultIdentities: true,
      proxyJump: 'bastion',
      identitiesOnly: false,
      identityAgent: 'none',
      hostKeys,
      vars: {},
      source: 'ssh-config',
    } satisfies HostSpec);
  });

  it.each<[string, Partial<SshConfigEntry>, HostSpec['source']]>([
    ['nothing', {}, 'literal'],
    ['the same name in other case', { hostName: 'web.example.com' }, 'literal'],
    ['another HostName', { hostName: '10.0.0.9' }, 'ssh-config'],
    ['a User', { user: 'ops' }, 'ssh-config'],
    ['a Port', { port: 2222 }, 'ssh-config'],
    [
      'a configured IdentityFile',
      { identityFiles: ['/k'], identityFilesConfigured: true },
      'ssh-config',
    ],
    [
      'IdentityFile said to be configured, none listed',
      { identityFilesConfigured: true },
      'ssh-config',
    ],
    ['identity files of unknown origin', { identityFiles: ['/k'] }, 'ssh-config'],
    [
      "OpenSSH's default identities",
      { identityFiles: ['/k'], identityFilesConfigured: false },
      'literal',
    ],
    ['a ProxyJump', { proxyJump: 'bastion' }, 'ssh-config'],
  ])('with %s in the config is %s', (_what, entry, source) => {
    expect(one('Web.Example.com', entry).source).toBe(source);
  });
});

describe('sandbox names', () => {
  it.each([
    ['sbx-3', sandboxOf(2), 'target "sbx-3": no sandbox host sbx-3 (the sandbox has sbx-1, sbx-2)'],
    [
      'sbx-12',
      sandboxOf(2),
      'target "sbx-12": no sandbox host sbx-12 (the sandbox has sbx-1, sbx-2)',
    ],
    ['sbx-1', undefined, 'target "sbx-1": no sandbox host sbx-1 (the sandbox has no hosts)'],
    ['sbx-1', sandboxOf(0), 'target "sbx-1": no sandbox host sbx-1 (the sandbox has no hosts)'],
    [
      'sandbox',
      sandboxOf(0),
      'target "sandbox": the sandbox has no hosts (svc sandbox up starts them)',
    ],
    [
      'sandbox',
      undefined,
      'target "sandbox": the sandbox has no hosts (svc sandbox up starts them)',
    ],
  ])('%s is refused', (target, sandbox, message) => {
    expect(() => one(target, {}, sandbox ? { sandbox } : {})).toThrow(message);
  });

  it.each(['xsbx-1', 'sbx-1x', 'sbx-', 'sbx1'])(
    '%s is no sandbox name: taken as written',
    (name) => {
      expect(one(name, {}, { sandbox: sandboxOf(2) }).source).toBe('literal');
    },
  );

  it('sandbox names every sandbox host, and sbx-2 the one', () => {
    const { ctx } = withConfig({}, { sandbox: sandboxOf(2) });
    expect(resolveTarget('sandbox', ctx).map((spec) => spec.name)).toEqual(['sbx-1', 'sbx-2']);
    expect(resolveTarget('sbx-2', ctx).map((spec) => spec.address)).toEqual(['10.231.2.1']);
  });
});

describe('isBareWord', () => {
  it.each([
    ['web', true],
    ['web_1-x', true],
    ['a1', true],
    ['1a', true],
    ['1', false],
    ['12', false],
    ['web.example.com', false],
    ['10.0.0.9', false],
  ])('%s -> %s', (name, bare) => {
    expect(isBareWord(one(name, {}))).toBe(bare);
  });

  it('is false for anything but a host taken as written', () => {
    expect(isBareWord(one('web', { user: 'ops' }))).toBe(false);
  });
});

describe('unknownWordMessage', () => {
  const line = (known: string) =>
    `target "webservers": not an inventory group, an ~/.ssh/config alias or a host name that resolves (${known})`;

  it.each<[string, Partial<TargetContext>, string]>([
    ['no inventory, no sandbox', {}, 'svc.yaml has no hosts: section'],
    ['a sandbox with no hosts', { sandbox: sandboxOf(0) }, 'svc.yaml has no hosts: section'],
    ['a sandbox with hosts', { sandbox: sandboxOf(1) }, 'the groups are sandbox'],
    [
      'an inventory and a sandbox',
      { inventory: { db: { hosts: {} }, app: { hosts: {} } }, sandbox: sandboxOf(2) },
      'the groups are db, app, sandbox',
    ],
    ['a near miss', { inventory: { webserver: { hosts: {} } } }, 'did you mean webserver?'],
  ])('with %s', (_what, over, known) => {
    expect(unknownWordMessage('webservers', withConfig({}, over).ctx)).toBe(line(known));
  });
});
