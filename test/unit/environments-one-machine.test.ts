// Issue 15, review finding 2: one machine listed under two inventory groups would get staging's
// env file on one deploy and production's on the next. With environments in use (secrets:, or a
// group's env:) such a project is refused in one line naming both hosts, both groups and the
// machine, whatever the TARGET. Machines are compared where they connect: after ~/.ssh/config
// (here a table standing in for it; test/reliability/environments-one-machine.test.ts compares
// the real resolver against `ssh -G`).
import { describe, expect, it } from 'vitest';
import { checkEnvironments } from '../../src/core/environments.js';
import { SvcError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/manifest.js';
import {
  resolveTarget,
  type SshConfigEntry,
  type SshConfigGiven,
  type TargetContext,
} from '../../src/core/targets.js';
import { manifest } from '../helpers/plan-fixtures.js';

type Host = { address: string; port?: number };
/** ~/.ssh/config as a table: alias -> HostName and Port. */
const SSH_CONFIG: Record<string, { hostName: string; port?: number }> = {
  'stg-alias': { hostName: '10.0.0.5' },
  'prod-alias': { hostName: '10.0.0.5' },
  'prod-2222': { hostName: '10.0.0.5', port: 2222 },
  'prod-caps': { hostName: 'DB.Example.COM' },
};
const ctx = (m: Manifest): TargetContext => ({
  inventory: m.hosts,
  sshConfig: (host: string, given?: SshConfigGiven): SshConfigEntry => {
    const entry = SSH_CONFIG[host];
    return {
      hostName: entry?.hostName ?? host.toLowerCase(),
      ...(entry?.port !== undefined && { port: entry.port }),
      ...(given?.port !== undefined && { port: given.port }),
      identityFiles: [],
    };
  },
  defaultUser: 'me',
});
const project = (staging: Record<string, Host>, production: Record<string, Host>): Manifest => ({
  ...manifest,
  secrets: ['DB_PASSWORD'],
  hosts: { staging: { hosts: staging }, production: { hosts: production } },
});
const outcome = (target: string, m: Manifest): string => {
  try {
    checkEnvironments(target, m, ctx(m), resolveTarget(target, ctx(m)));
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
};
const line = (a: string, b: string, at: string) =>
  `svc.yaml: hosts: ${a} (group staging) and ${b} (group production) are one machine, ${at}; it would get staging's and production's environment in turn: list it in one group only`;

describe('one machine under two groups', () => {
  it.each<[string, Record<string, Host>, Record<string, Host>, string]>([
    [
      'same address',
      { s1: { address: '10.0.0.5' } },
      { p1: { address: '10.0.0.5' } },
      line('s1', 'p1', '10.0.0.5:22'),
    ],
    [
      'other addresses',
      { s1: { address: '10.0.0.5' } },
      { p1: { address: '10.0.0.6' } },
      'accepted',
    ],
    [
      'same address, other ports',
      { s1: { address: '10.0.0.5' } },
      { p1: { address: '10.0.0.5', port: 2222 } },
      'accepted',
    ],
    [
      'same address, port 22 written out',
      { s1: { address: '10.0.0.5' } },
      { p1: { address: '10.0.0.5', port: 22 } },
      line('s1', 'p1', '10.0.0.5:22'),
    ],
    [
      'a name in capitals',
      { s1: { address: 'db.example.com' } },
      { p1: { address: 'DB.example.com' } },
      line('s1', 'p1', 'db.example.com:22'),
    ],
    [
      'two aliases of one HostName',
      { s1: { address: 'stg-alias' } },
      { p1: { address: 'prod-alias' } },
      line('s1', 'p1', '10.0.0.5:22'),
    ],
    [
      'an alias and its HostName',
      { s1: { address: '10.0.0.5' } },
      { p1: { address: 'prod-alias' } },
      line('s1', 'p1', '10.0.0.5:22'),
    ],
    [
      'an alias whose Port differs',
      { s1: { address: 'stg-alias' } },
      { p1: { address: 'prod-2222' } },
      'accepted',
    ],
    [
      'an inventory port: over the alias Port',
      { s1: { address: 'stg-alias' } },
      { p1: { address: 'prod-2222', port: 22 } },
      line('s1', 'p1', '10.0.0.5:22'),
    ],
    [
      'an alias to a HostName in capitals',
      { s1: { address: 'db.example.com' } },
      { p1: { address: 'prod-caps' } },
      line('s1', 'p1', 'db.example.com:22'),
    ],
    [
      'the second host of a group',
      { s1: { address: '10.0.0.1' }, s2: { address: '10.0.0.7' } },
      { p1: { address: '10.0.0.2' }, p2: { address: '10.0.0.7' } },
      line('s2', 'p2', '10.0.0.7:22'),
    ],
  ])('%s', (_, staging, production, expected) => {
    // Whatever the TARGET: each deploy alone would rewrite the other's env file.
    for (const target of ['staging', 'production', 's1', '10.9.9.9'])
      expect(outcome(target, project(staging, production)), target).toBe(expected);
  });

  it('one machine twice in one group is one environment: accepted', () => {
    const m = project(
      { s1: { address: '10.0.0.5' }, s2: { address: 'stg-alias' } },
      { p1: { address: '10.0.0.6' } },
    );
    expect(outcome('staging', m)).toBe('accepted');
  });

  it('a project without secrets: or a group env: is as before (nothing to alternate)', () => {
    const m = {
      ...project({ s1: { address: '10.0.0.5' } }, { p1: { address: '10.0.0.5' } }),
      secrets: undefined,
    };
    expect(outcome('production', m)).toBe('accepted');
    const withEnv: Manifest = {
      ...m,
      hosts: { ...m.hosts!, staging: { ...m.hosts!.staging!, env: { LOG_LEVEL: 'debug' } } },
    };
    expect(outcome('production', withEnv)).toBe(line('s1', 'p1', '10.0.0.5:22'));
  });
});
