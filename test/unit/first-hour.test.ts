// Pure pieces of the first hour (issue 10 sections 2 and 4): which sandbox hosts `up` makes, the
// closing line of a deploy that left hosts undeployed, how a hint writes svc.
import { describe, expect, it } from 'vitest';
import { notDeployedLine } from '../../src/cli/deploy.js';
import { connectProblem } from '../../src/core/connect-problem.js';
import { commandFor } from '../../src/core/invoked-as.js';
import { liveReleaseOf } from '../../src/core/layout.js';
import { chooseSandboxKind } from '../../src/core/sandbox-kind.js';
import {
  isBareWord,
  resolveTarget,
  unknownWordMessage,
  type TargetContext,
} from '../../src/core/targets.js';

const summary = { create: 1, update: 0, delete: 0, restart: 0 };

describe('chooseSandboxKind', () => {
  it('follows a flag, else the project here', () => {
    expect(chooseSandboxKind({ systemd: true }, { init: 'monit' }).kind).toBe('systemd');
    expect(chooseSandboxKind({ light: true }, { init: 'systemd' }).kind).toBe('light');
    expect(chooseSandboxKind({}, { init: 'systemd' })).toMatchObject({ kind: 'systemd' });
    expect(chooseSandboxKind({}, { init: 'systemd' }).note).toContain('init: systemd');
    expect(chooseSandboxKind({}, { init: 'monit' })).toEqual({ kind: 'light' });
    expect(chooseSandboxKind({}, undefined)).toEqual({ kind: 'light' });
  });
});

describe('notDeployedLine', () => {
  it('never offers --retry-failed for a refused host', () => {
    const line = notDeployedLine(
      [{ host: 'sbx-1', status: 'refused', summary, seconds: 0, message: 'init' }],
      ['sbx-1'],
      'sandbox',
      'svc',
    );
    expect(line).not.toContain('--retry-failed');
    expect(line).toBe(
      '1 host(s) not deployed: sbx-1 (sbx-1: fix what the plan says above, then svc deploy sandbox)',
    );
  });

  it('offers --retry-failed for hosts a retry can help, with the command as run', () => {
    const line = notDeployedLine(
      [
        { host: 'sbx-1', status: 'refused', summary, seconds: 0 },
        { host: 'sbx-2', status: 'locked', summary, seconds: 0 },
      ],
      ['sbx-1', 'sbx-2'],
      'sandbox',
      'bin/svc',
    );
    expect(line).toContain('bin/svc deploy sandbox --retry-failed');
    expect(line).toContain('sbx-1: fix what the plan says above');
  });
});

describe('commandFor', () => {
  const script = '/home/u/svc/bin/svc';
  it('is svc when PATH finds this very svc', () => {
    expect(commandFor({ script, scriptReal: script, onPathReal: script }, '/home/u/svc')).toBe(
      'svc',
    );
  });
  it('is the path as typed from the directory the hint runs in, when PATH finds another or none', () => {
    const none = { script, scriptReal: script, onPathReal: undefined };
    expect(commandFor(none, '/home/u/svc')).toBe('bin/svc');
    expect(commandFor(none, '/home/u/svc/api-orders')).toBe('../bin/svc');
    expect(commandFor({ ...none, onPathReal: '/usr/bin/svc' }, '/home/u/svc')).toBe('bin/svc');
    expect(commandFor(none, '/tmp/x/y/z')).toBe(script);
  });
});

describe('bare words as targets', () => {
  const ctx = (inventory?: Record<string, unknown>): TargetContext => ({
    ...(inventory && { inventory: inventory as TargetContext['inventory'] }),
    sshConfig: (host) => ({ hostName: host.toLowerCase(), identityFiles: [] }),
    defaultUser: 'me',
  });
  it('a literal word with no dot is a bare word; an address, an FQDN or an alias is not', () => {
    const [word] = resolveTarget('webservers', ctx());
    expect(isBareWord(word!)).toBe(true);
    expect(isBareWord(resolveTarget('web.example.com', ctx())[0]!)).toBe(false);
    expect(isBareWord(resolveTarget('10.0.0.9', ctx())[0]!)).toBe(false);
    const aliased: TargetContext = {
      ...ctx(),
      sshConfig: () => ({ hostName: '10.0.0.9', identityFiles: [] }),
    };
    expect(isBareWord(resolveTarget('web1', aliased)[0]!)).toBe(false);
  });
  it('the refusal offers the group meant', () => {
    const inventory = { web: { hosts: { web1: { address: '10.0.0.1' } } } };
    expect(unknownWordMessage('wbe', ctx(inventory))).toContain('(did you mean web?)');
    expect(unknownWordMessage('webservers', ctx(inventory))).toContain('(the groups are web)');
  });
});

describe('connectProblem', () => {
  it.each([
    [
      'sbx-9 (deploy@10.0.0.9:22): connect failed: connect ECONNREFUSED 10.0.0.9:22',
      'connection refused: is sshd running there?',
    ],
    [
      'sbx-9 (deploy@10.0.0.9:22): connect timed out after 10 s',
      'timed out after 10 s: is the address right, and the host up?',
    ],
    [
      'sbx-9 (deploy@10.0.0.9:22): connect failed: Connection lost before handshake',
      'the connection closed before the ssh handshake: is the host up, and sshd on that port?',
    ],
    [
      'sbx-9 (deploy@10.0.0.9:22): no ssh-agent (SSH_AUTH_SOCK) and no usable identity file',
      'no ssh-agent and no identity file: ssh-add a key or set IdentityFile',
    ],
    [
      'sbx-9 (deploy@10.0.0.9:22): connect failed: getaddrinfo ENOTFOUND nohost',
      'the name does not resolve: is it spelt right, or missing from ~/.ssh/config?',
    ],
  ])('%s', (message, expected) => {
    expect(connectProblem(message)).toBe(expected);
  });
  it('leaves what is not about connecting alone', () => {
    expect(
      connectProblem('sbx-9 (deploy@10.0.0.9:22): deploying: the connection was lost (ECONNRESET)'),
    ).toBeUndefined();
  });
});

describe('liveReleaseOf', () => {
  const layout = { releases: '/var/www/api-x/releases' };
  it('reads the id the current link points at, relative or absolute', () => {
    expect(liveReleaseOf({ type: 'link', target: 'releases/31ebb2b9f78f' }, layout)).toBe(
      '31ebb2b9f78f',
    );
    expect(
      liveReleaseOf({ type: 'link', target: '/var/www/api-x/releases/31ebb2b9f78f' }, layout),
    ).toBe('31ebb2b9f78f');
  });
  it('is undefined with no link, or one svc did not make', () => {
    expect(liveReleaseOf(undefined, layout)).toBeUndefined();
    expect(liveReleaseOf({ type: 'absent' }, layout)).toBeUndefined();
    expect(liveReleaseOf({ type: 'link', target: '/etc' }, layout)).toBeUndefined();
    expect(liveReleaseOf({ type: 'link', target: 'releases/../x' }, layout)).toBeUndefined();
  });
});
