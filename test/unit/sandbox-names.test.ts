import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import {
  hostAddress,
  hostCgroup,
  hostName,
  hostNumber,
  inCgroup,
  keyFingerprint,
  machineAddress,
  netnsName,
  netnsPrefix,
  nspawnBindPath,
  parseHostCount,
  parseNet,
  stateDirHash,
  stateDirProblem,
  stateDirTrustProblem,
  subnet,
  vethName,
} from '../../src/sandbox/names.js';
import { conflictingRoute, overlaps, parseRoutes } from '../../src/sandbox/routes.js';

describe('parseNet', () => {
  it.each(['10.231', '10.0', '172.16', '172.31', '192.168'])('accepts private %s', (text) => {
    expect(parseNet(text).text).toBe(text);
  });

  it.each([
    ['8.8', 'not private address space'],
    ['172.15', 'not private address space'],
    ['172.32', 'not private address space'],
    ['192.169', 'not private address space'],
    ['11.0', 'not private address space'],
    ['10', 'expected the first two octets of a /16'],
    ['10.1.2', 'expected the first two octets of a /16'],
    ['010.1', 'expected the first two octets of a /16'],
    ['10.-1', 'expected the first two octets of a /16'],
    ['10.256', 'an octet is above 255'],
    ['10.1 ', 'expected the first two octets of a /16'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseNet(text)).toThrow(SvcError);
    expect(() => parseNet(text, 'SVC_SANDBOX_NET')).toThrow(`SVC_SANDBOX_NET ${text}: ${message}`);
  });
});

describe('parseHostCount', () => {
  it.each(['1', '10', '254'])('accepts %s', (text) =>
    expect(parseHostCount(text)).toBe(Number(text)),
  );
  it.each(['0', '255', '-1', '1.5', 'two', '', '1e2'])('refuses %j', (text) => {
    expect(() => parseHostCount(text)).toThrow(
      `host count ${text}: must be a whole number from 1 to 254`,
    );
  });
});

describe('host names and addresses', () => {
  const net = parseNet('10.231');

  it('gives host N its own /24: machine .1, host .2', () => {
    expect(hostName(7)).toBe('sbx-7');
    expect(subnet(net, 7)).toBe('10.231.7.0/24');
    expect(machineAddress(net, 7)).toBe('10.231.7.1');
    expect(hostAddress(net, 7)).toBe('10.231.7.2');
  });

  it('reads host numbers back and refuses anything else', () => {
    expect(hostNumber('sbx-1')).toBe(1);
    expect(hostNumber('sbx-254')).toBe(254);
    for (const name of ['sbx-0', 'sbx-255', 'sbx-01', 'sbx-', 'sbx-1x', 'web-1', 'sbx-1/..']) {
      expect(hostNumber(name), name).toBeUndefined();
    }
  });

  it('names veths within the kernel limit of 15, uniquely per /24', () => {
    const names = new Set<string>();
    for (const text of ['10.231', '172.31', '192.168', '10.0']) {
      for (let n = 1; n <= 254; n++) {
        const name = vethName(parseNet(text), n);
        expect(name.length).toBeLessThanOrEqual(15);
        expect(name).toMatch(/^[a-z0-9]+$/);
        names.add(name);
      }
    }
    expect(names.size).toBe(4 * 254);
    expect(vethName(net, 1)).toBe('svsb0ae701');
  });

  it('tags namespaces with a hash of the state directory, so two sandboxes never share a name', () => {
    const a = stateDirHash('/root/.local/state/svc/sandbox');
    const b = stateDirHash('/tmp/svc-sandbox-test-x');
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(stateDirHash('/tmp/svc-sandbox-test-x')).toBe(b);
    expect(netnsName(a, 3)).toBe(`svc-${a}-sbx-3`);
    expect(netnsName(a, 3).startsWith(netnsPrefix(a))).toBe(true);
    expect(netnsName(b, 3).startsWith(netnsPrefix(a))).toBe(false);
  });

  it('escapes the separators of systemd-nspawn --bind-ro', () => {
    expect(nspawnBindPath('/tmp/a:b\\c')).toBe('/tmp/a\\:b\\\\c');
    expect(nspawnBindPath('/tmp/plain')).toBe('/tmp/plain');
  });
});

describe('stateDirProblem', () => {
  it.each(['/var/lib/svc-sandbox', '/etc/svc', '/usr/local/state', '/opt/x', '/var', '/'])(
    'refuses %s, inside a tree a light host overlays',
    (dir) => {
      expect(stateDirProblem(dir)).toBeDefined();
    },
  );
  it.each([
    '/root/.local/state/svc/sandbox',
    '/tmp/svc-sandbox-test-1',
    '/home/me/x',
    '/varnish',
    '/srv/x',
  ])('accepts %s', (dir) => {
    expect(stateDirProblem(dir)).toBeUndefined();
  });
});

describe('routes', () => {
  it('finds overlapping ranges, bare addresses as /32', () => {
    expect(overlaps('10.231.1.0/24', '10.231.1.0/24')).toBe(true);
    expect(overlaps('10.231.0.0/16', '10.231.7.0/24')).toBe(true);
    expect(overlaps('10.231.7.0/24', '10.0.0.0/8')).toBe(true);
    expect(overlaps('10.231.7.9', '10.231.7.0/24')).toBe(true);
    expect(overlaps('10.231.8.0/24', '10.231.7.0/24')).toBe(false);
    expect(overlaps('192.0.2.0/24', '10.231.7.0/24')).toBe(false);
    expect(overlaps('not-a-route', '10.231.7.0/24')).toBe(false);
  });

  it('reads `ip -j route show` and ignores the default route', () => {
    const routes = parseRoutes(
      JSON.stringify([
        { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
        { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel' },
        { dst: '10.231.1.0/24', dev: 'svsb0ae701' },
      ]),
    );
    expect(routes).toEqual([
      { dst: '192.0.2.0/24', dev: 'eth0' },
      { dst: '10.231.1.0/24', dev: 'svsb0ae701' },
    ]);
    expect(conflictingRoute(routes, '10.231.1.0/24')).toEqual({
      dst: '10.231.1.0/24',
      dev: 'svsb0ae701',
    });
    expect(conflictingRoute(routes, '10.231.2.0/24')).toBeUndefined();
    expect(parseRoutes('')).toEqual([]);
  });
});

describe('stateDirTrustProblem', () => {
  const facts = (path: string, uid: number, mode: number) => ({
    path,
    uid,
    mode: 0o40000 | mode,
    isDirectory: true,
    isSymbolicLink: false,
  });
  const parents = [facts('/tmp', 0, 0o1777), facts('/', 0, 0o755)];

  it('accepts a directory of the caller, closed to others, under sticky /tmp or root-owned dirs', () => {
    expect(stateDirTrustProblem(facts('/tmp/s', 0, 0o700), parents, 0)).toBeUndefined();
    expect(
      stateDirTrustProblem(
        facts('/home/u/s', 1000, 0o700),
        [facts('/home/u', 1000, 0o755), facts('/home', 0, 0o755), facts('/', 0, 0o755)],
        1000,
      ),
    ).toBeUndefined();
  });

  it.each([
    [facts('/tmp/s', 0, 0o777), parents, 'is open to other users (mode 0777)'],
    [facts('/tmp/s', 0, 0o750), parents, 'is open to other users (mode 0750)'],
    [facts('/tmp/s', 1000, 0o700), parents, 'is owned by uid 1000, not by you (uid 0)'],
    [facts('/x/s', 0, 0o700), [facts('/x', 0, 0o777)], '/x above it is writable by other users'],
    [facts('/x/s', 0, 0o700), [facts('/x', 1000, 0o755)], '/x above it is owned by uid 1000'],
    [{ ...facts('/tmp/s', 0, 0o700), isSymbolicLink: true }, parents, 'is not a directory'],
  ])('refuses %j', (dir, ancestors, message) => {
    expect(stateDirTrustProblem(dir, ancestors, 0)).toContain(message);
  });
});

describe('keyFingerprint', () => {
  it('is what ssh-keygen -l says (differential, against the real tool)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-fp-'));
    try {
      const key = join(dir, 'k');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const listed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], {
        encoding: 'utf8',
      }).split(' ')[1];
      expect(keyFingerprint(readFileSync(`${key}.pub`, 'utf8'))).toBe(listed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hostCgroup and inCgroup', () => {
  it('matches the host cgroup and below it, not a sibling with the same prefix', () => {
    const name = hostCgroup('0123abcd', 1);
    expect(name).toBe('svc-sandbox-svc-0123abcd-sbx-1');
    expect(inCgroup([`/${name}/payload`], name)).toBe(true);
    expect(inCgroup([`/${name}`], name)).toBe(true);
    expect(inCgroup([`/${name}0/payload`, '/user.slice'], name)).toBe(false);
  });
});
