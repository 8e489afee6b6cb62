// Which facts a host's operations ask for (issue 17): every path an operation writes, once, with
// the hash to compare a non-secret file against; the users it makes; where svc's records live.
import { describe, expect, it } from 'vitest';
import { buildFactRequest, RECORDS_FILE, RECORDS_ROOT } from '../../src/core/fact-request.js';
import type { Operation } from '../../src/core/operations.js';
import { SALT, manifest } from '../helpers/plan-fixtures.js';

const own = { owner: 'root', group: 'root' };
const file = (path: string, sha256: string, secret = false): Operation => ({
  kind: 'file',
  path,
  source: `config${path}`,
  content: new Uint8Array(),
  sha256,
  mode: 0o644,
  secret,
  ...own,
});

const OPERATIONS: Operation[] = [
  { kind: 'user', name: 'api-orders', home: '/var/db/api-orders' },
  { kind: 'dir', path: '/var/www/api-orders', mode: 0o755, ...own },
  {
    kind: 'release',
    path: '/var/www/api-orders/releases/abc',
    id: 'abc',
    files: 1,
    bytes: 1,
    keep: 5,
  },
  { kind: 'link', path: '/var/www/api-orders/current', target: 'releases/abc' },
  file('/etc/app.conf', 'a'.repeat(64)),
  file('/etc/default/api-orders', 'b'.repeat(64), true),
  // The same path twice: asked for once, as it was first met.
  file('/etc/app.conf', 'c'.repeat(64)),
  { kind: 'dir', path: '/var/www/api-orders', mode: 0o700, ...own },
  { kind: 'link', path: '~/service/api-orders', target: '/var/www/api-orders/current' },
  { kind: 'user', name: 'api-orders', home: '/var/db/api-orders' },
  { kind: 'user', name: 'api-worker', home: '/var/db/api-worker' },
  { kind: 'service', name: 'api-orders', init: 'systemd', dependsOn: ['/etc/app.conf'] },
  { kind: 'monit', name: 'api-orders', check: '/etc/monit/conf.d/api-orders' },
  { kind: 'nginx', site: '/etc/nginx/sites-enabled/x', dependsOn: ['/srv/x'] },
  { kind: 'health', url: 'http://127.0.0.1:3000/ok', timeoutSeconds: 30 },
];

describe('buildFactRequest', () => {
  it('asks for each written path once, the users made, and where the records live', () => {
    expect(buildFactRequest(manifest, OPERATIONS, 'deploy', false, SALT)).toStrictEqual({
      service: 'api-orders',
      loginUser: 'deploy',
      paths: [
        { path: '/var/www/api-orders' },
        { path: '/var/www/api-orders/releases/abc' },
        { path: '/var/www/api-orders/current' },
        { path: '/etc/app.conf', compareWith: 'a'.repeat(64) },
        // A secret file is compared by hash alone: its content never leaves the host.
        { path: '/etc/default/api-orders' },
        { path: '~/service/api-orders' },
        // A restart service too: a switch still live there is a plan problem (cutover-plan.ts).
        { path: '/var/lib/svc/api-orders/upstream.conf' },
      ],
      users: ['api-orders', 'api-worker'],
      groups: [],
      recordsFile: '/var/lib/svc/api-orders/installed.json',
      recordsRoot: '/var/lib/svc',
      releasesDir: '/var/www/api-orders/releases',
      pidfile: '/run/api-orders.pid',
      salt: SALT,
    });
  });

  it('asks for nothing but the host itself when there is nothing to write', () => {
    const request = buildFactRequest(manifest, [], 'root', false, SALT);
    expect(request.paths).toStrictEqual([]);
    expect(request.users).toStrictEqual([]);
    expect(request.loginUser).toBe('root');
  });

  it("a rollback's pinned release is not asked as a path: the request is the same whichever is picked", () => {
    const pinned = (id: string) =>
      OPERATIONS.map((op) =>
        op.kind === 'release'
          ? { ...op, id, path: `/var/www/api-orders/releases/${id}`, pinned: true as const }
          : op,
      );
    const a = buildFactRequest(manifest, pinned('aaaaaaaaaaaa'), 'deploy', false, SALT);
    expect(a).toStrictEqual(
      buildFactRequest(manifest, pinned('bbbbbbbbbbbb'), 'deploy', false, SALT),
    );
    expect(a.paths.map((path) => path.path)).not.toContain(
      '/var/www/api-orders/releases/aaaaaaaaaaaa',
    );
    expect(a.releasesDir).toBe('/var/www/api-orders/releases');
  });

  // Unsalted, the env file's line hashes and the factsDigest are an offline oracle for a secret:
  // there is no default, and a salt too short to be newSalt's is a bug in svc.
  it.each([
    ['', 'empty'],
    ['c0ffee', 'six characters'],
    ['5a17'.repeat(4).slice(1), 'one short of 16'],
  ])('refuses the salt %j (%s)', (salt) => {
    expect(() => buildFactRequest(manifest, OPERATIONS, 'deploy', false, salt)).toThrow(
      'buildFactRequest: a salt of at least 16 characters is required',
    );
  });

  it('takes a salt of 16 characters and carries it as given', () => {
    const salt = '0123456789abcdef';
    expect(buildFactRequest(manifest, OPERATIONS, 'deploy', false, salt).salt).toBe(salt);
  });

  it('names the records file and root as the docs do', () => {
    expect([RECORDS_FILE, RECORDS_ROOT]).toStrictEqual(['installed.json', '/var/lib/svc']);
  });
});
