import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/manifest.js';
import type { SandboxInventory } from '../../src/core/sandbox-inventory.js';
import {
  hostLogin,
  parseTargetItem,
  resolveTarget,
  type SshConfigEntry,
  type SshConfigGiven,
  type TargetContext,
} from '../../src/core/targets.js';

const INVENTORY: Manifest['hosts'] = {
  web: {
    vars: { region: 'eu', weight: 1 },
    hosts: {
      web1: { address: '203.0.113.10', user: 'deploy', port: 22, vars: { weight: 2 } },
      web2: { address: 'web2.example.com' },
    },
  },
  db: {
    hosts: {
      db1: { address: 'db-alias', port: 2201 },
      db2: { address: 'db-alias', user: 'postgres' },
    },
  },
  empty: { hosts: {} },
};

const SANDBOX: SandboxInventory = {
  version: 1,
  net: '10.231',
  knownHostsFile: '/state/known_hosts',
  hosts: [1, 2].map((n) => ({
    name: `sbx-${n}`,
    kind: 'light' as const,
    address: `10.231.${n}.1`,
    port: 22,
    user: 'deploy',
    users: ['deploy', 'root'],
    keyFile: '/state/id_ed25519',
    netns: `svc-sbx-${n}`,
    pid: 100 + n,
    pids: [100 + n],
  })),
};

/** ~/.ssh/config as data: an alias, and an IdentityFile + ProxyJump for every host. */
const SSH_CONFIG: Record<
  string,
  Omit<SshConfigEntry, 'identityFiles'> & { identityFiles?: string[] }
> = {
  'db-alias': { hostName: '10.0.0.20', user: 'dbops', port: 2222, proxyJump: 'bastion' },
  myalias: { hostName: 'real.example.com', user: 'aliasuser', port: 2022 },
  'web2.example.com': { hostName: 'web2.example.com', identityFiles: ['/keys/web2'] },
};

function context(overrides: Partial<TargetContext> = {}) {
  const calls: [string, SshConfigGiven | undefined][] = [];
  const ctx: TargetContext = {
    inventory: INVENTORY,
    sandbox: SANDBOX,
    defaultUser: 'me',
    sshConfig: (host, given) => {
      calls.push([host, given]);
      const entry = Object.hasOwn(SSH_CONFIG, host) ? SSH_CONFIG[host] : undefined;
      return entry
        ? { identityFiles: [], ...entry }
        : { hostName: host.toLowerCase(), identityFiles: [] };
    },
    ...overrides,
  };
  return { ctx, calls };
}

const resolve = (target: string, overrides: Partial<TargetContext> = {}) =>
  resolveTarget(target, context(overrides).ctx);
const logins = (target: string, overrides: Partial<TargetContext> = {}) =>
  resolve(target, overrides).map((spec) => `${spec.name}=${hostLogin(spec)}`);

function refusal(target: string, overrides: Partial<TargetContext> = {}): string {
  try {
    resolve(target, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(target)} to be refused`);
}

describe('resolveTarget: the inventory', () => {
  it('resolves a group to all its hosts, group vars under host vars', () => {
    expect(resolve('web')).toEqual([
      {
        name: 'web1',
        group: 'web',
        address: '203.0.113.10',
        port: 22,
        user: 'deploy',
        identityFiles: [],
        vars: { region: 'eu', weight: 2 },
        source: 'inventory',
      },
      {
        name: 'web2',
        group: 'web',
        address: 'web2.example.com',
        port: 22,
        user: 'me',
        identityFiles: ['/keys/web2'],
        vars: { region: 'eu', weight: 1 },
        source: 'inventory',
      },
    ]);
  });

  it('resolves a host name to that host', () => {
    expect(logins('web2')).toEqual(['web2=me@web2.example.com:22']);
  });

  it('passes the address through ~/.ssh/config; inventory user and port win over it', () => {
    expect(resolve('db1')).toEqual([
      {
        name: 'db1',
        group: 'db',
        address: '10.0.0.20',
        port: 2201,
        user: 'dbops',
        identityFiles: [],
        proxyJump: 'bastion',
        vars: {},
        source: 'inventory',
      },
    ]);
  });

  it('uses the inventory user over the config user, and the TARGET user over both', () => {
    expect(logins('db2,root@db1')).toEqual([
      'db2=postgres@10.0.0.20:2222',
      'db1=root@10.0.0.20:2201',
    ]);
  });

  it('tells ~/.ssh/config the user and port that win, for %r and %p', () => {
    const { ctx, calls } = context();
    resolveTarget('web1,root@db1', ctx);
    expect(calls).toEqual([
      ['203.0.113.10', { user: 'deploy', port: 22 }],
      ['db-alias', { user: 'root', port: 2201 }],
    ]);
  });

  it('lets user@ and :port in the TARGET win over the inventory, for hosts and groups', () => {
    expect(logins('root@web1:2200')).toEqual(['web1=root@203.0.113.10:2200']);
    expect(logins('admin@web')).toEqual([
      'web1=admin@203.0.113.10:22',
      'web2=admin@web2.example.com:22',
    ]);
  });

  it('refuses a group without hosts', () => {
    expect(refusal('empty')).toBe('target "empty": group empty has no hosts');
  });

  it('takes a name that is only an Object.prototype key as a host name, not a group', () => {
    expect(resolve('constructor')[0]).toMatchObject({ name: 'constructor', source: 'literal' });
  });
});

describe('resolveTarget: the sandbox', () => {
  it('resolves the group sandbox to its hosts, with the sandbox key', () => {
    expect(resolve('sandbox')).toEqual(
      SANDBOX.hosts.map((host) => ({
        name: host.name,
        group: 'sandbox',
        address: host.address,
        port: 22,
        user: 'deploy',
        identityFiles: ['/state/id_ed25519'],
        identitiesOnly: true,
        vars: {},
        source: 'sandbox',
      })),
    );
  });

  it('resolves a sandbox host, and user@ picks another of its users', () => {
    expect(logins('root@sbx-2')).toEqual(['sbx-2=root@10.231.2.1:22']);
    expect(logins('sbx-1:2200')).toEqual(['sbx-1=deploy@10.231.1.1:2200']);
  });

  it('does not pass sandbox hosts through ~/.ssh/config', () => {
    const { ctx, calls } = context();
    resolveTarget('sandbox', ctx);
    expect(calls).toEqual([]);
  });

  it('refuses the sandbox and its host names when it has no such hosts', () => {
    expect(refusal('sandbox', { sandbox: undefined })).toBe(
      'target "sandbox": the sandbox has no hosts (svc sandbox up starts them)',
    );
    expect(refusal('sbx-9')).toBe(
      'target "sbx-9": no sandbox host sbx-9 (the sandbox has sbx-1, sbx-2)',
    );
    expect(refusal('sbx-1', { sandbox: undefined })).toBe(
      'target "sbx-1": no sandbox host sbx-1 (the sandbox has no hosts)',
    );
  });
});

describe('resolveTarget: [user@]host[:port] and ~/.ssh/config', () => {
  it('resolves a plain host with the defaults: port 22, the local user', () => {
    expect(resolve('10.0.0.5')).toEqual([
      {
        name: '10.0.0.5',
        address: '10.0.0.5',
        port: 22,
        user: 'me',
        identityFiles: [],
        vars: {},
        source: 'literal',
      },
    ]);
    expect(logins('deploy@host.example.com:2222')).toEqual([
      'host.example.com=deploy@host.example.com:2222',
    ]);
  });

  it('resolves an alias of ~/.ssh/config, with explicit user and port winning', () => {
    expect(resolve('myalias')).toEqual([
      {
        name: 'myalias',
        address: 'real.example.com',
        port: 2022,
        user: 'aliasuser',
        identityFiles: [],
        vars: {},
        source: 'ssh-config',
      },
    ]);
    expect(logins('x@myalias:23')).toEqual(['myalias=x@real.example.com:23']);
  });

  it('reads IPv6 addresses in brackets, with or without a port, and bare', () => {
    expect(logins('[::1]:2222')).toEqual(['::1=me@[::1]:2222']);
    expect(logins('root@[fe80::1]')).toEqual(['fe80::1=root@[fe80::1]:22']);
    expect(logins('::1')).toEqual(['::1=me@[::1]:22']);
    expect(parseTargetItem('u@[2001:db8::5]:2200')).toEqual({
      user: 'u',
      host: '2001:db8::5',
      port: 2200,
      bracketed: true,
    });
  });

  it('takes a bracketed name as a host, never an inventory name', () => {
    expect(resolve('[web1]:22')[0]).toMatchObject({ name: 'web1', source: 'literal' });
  });
});

describe('resolveTarget: lists', () => {
  it('unions a comma-separated TARGET in order', () => {
    expect(logins('db1, web1,sbx-1')).toEqual([
      'db1=dbops@10.0.0.20:2201',
      'web1=deploy@203.0.113.10:22',
      'sbx-1=deploy@10.231.1.1:22',
    ]);
  });

  it('keeps each host once, at its first appearance', () => {
    expect(logins('web1,web,web2.example.com,sandbox,sbx-2')).toEqual([
      'web1=deploy@203.0.113.10:22',
      'web2=me@web2.example.com:22',
      'sbx-1=deploy@10.231.1.1:22',
      'sbx-2=deploy@10.231.2.1:22',
    ]);
  });
});

describe('resolveTarget: bad targets', () => {
  it.each([
    ['', 'empty target: name a group or host of the inventory, or [user@]host[:port]'],
    ['  ', 'empty target: name a group or host of the inventory, or [user@]host[:port]'],
    ['web1,,web2', 'target "web1,,web2": empty name between commas'],
    ['web1,', 'target "web1,": empty name between commas'],
    ['deploy@', 'target "deploy@": no host after the @'],
    ['@web1', 'target "@web1": no user before the @'],
    ['a@b@c', 'target "a@b@c": more than one @'],
    ['bad user@web1', 'target "bad user@web1": "bad user" is not a user name'],
    [
      '-oProxyCommand=x',
      'target "-oProxyCommand=x": "-oProxyCommand=x" is not a host name or address',
    ],
    ['we/b', 'target "we/b": "we/b" is not a host name or address'],
    ['web1:0', 'target "web1:0": port must be an integer between 1 and 65535 (got "0")'],
    [
      'web1:65536',
      'target "web1:65536": port must be an integer between 1 and 65535 (got "65536")',
    ],
    ['web1:ssh', 'target "web1:ssh": port must be an integer between 1 and 65535 (got "ssh")'],
    ['web1:', 'target "web1:": port must be an integer between 1 and 65535 (got "")'],
    [':22', 'target ":22": no host'],
    ['[::1', 'target "[::1": [ without ]: write an IPv6 address as [::1] or [::1]:2222'],
    ['[::1]22', 'target "[::1]22": unexpected "22" after ]'],
    ['[]:22', 'target "[]:22": no host'],
    [
      'ok,web1:99999',
      'target "web1:99999": port must be an integer between 1 and 65535 (got "99999")',
    ],
  ])('refuses %j', (target, message) => {
    expect(refusal(target)).toBe(message);
  });
});
