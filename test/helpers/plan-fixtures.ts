// Fixtures for planner and apply-script tests: a manifest, a playbook, config files and host
// facts as data.
import { expandPlaybook } from '../../src/core/expand.js';
import type { HostFacts, PathFact, PathType } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import type { Operation } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';

export const manifest: Manifest = {
  schema: 1,
  name: 'api-orders',
  description: 'Orders',
  port: 3000,
  health: '/ok',
  runtime: 'node',
  init: 'systemd',
  monit: true,
  user: 'api-orders',
  command: ['/usr/bin/node', 'server.js'],
  stopTimeout: 30,
  env: {},
  files: {
    '/etc/default/api-orders': { mode: '0600', owner: 'root', group: 'root', secret: true },
  },
  generator: { svc: '0.0.0' },
};

/** A fact request's salt in tests (buildFactRequest refuses none): 32 hex digits as newSalt makes. */
export const SALT = '5a17'.repeat(8);

export const PLAYBOOK = `
- user: { name: "<%- it.user %>", home: "/var/db/<%- it.name %>" }
- dir: { path: "/var/www/<%- it.name %>", mode: "0755" }
- dir: { path: "/var/log/<%- it.name %>", mode: "0750", owner: "<%- it.user %>" }
- release: { keep: 5 }
- link: { path: "/var/www/<%- it.name %>/current", target: "releases/<%- it.release %>" }
- overlay: { from: config }
- link: { path: "~/service/<%- it.name %>", target: "/var/www/<%- it.name %>/current" }
- service: {}
- monit: {}
- health: { timeout: 30 }
`;

export const file = (path: string, text: string, mode = 0o644): LocalFile => {
  const content = new TextEncoder().encode(text);
  return { path, mode, content, sha256: sha256Hex(content) };
};

export const CONFIG = [
  file('etc/default/api-orders', 'SECRET=hunter2\n', 0o600),
  file('etc/systemd/system/api-orders.service', '[Service]\nExecStart=/usr/bin/node server.js\n'),
  file('etc/monit/conf.d/api-orders', 'check process api-orders\n'),
];

export function operations(config: LocalFile[] = CONFIG, forManifest = manifest): Operation[] {
  return expandPlaybook(parsePlaybook(PLAYBOOK, 'deploy.yaml'), {
    manifest: forManifest,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config,
    release: { id: 'abc123abc123', files: 3, bytes: 2048 },
    playbookFile: 'deploy.yaml',
  });
}

export function facts(paths: PathFact[] = [], overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    hostname: 'web1',
    login: { user: 'deploy', home: '/home/deploy' },
    init: 'systemd',
    monit: { installed: true, running: true },
    service: { active: false },
    paths: new Map(paths.map((fact) => [fact.path, fact])),
    users: new Map([['api-orders', undefined]]),
    groups: new Map(),
    history: [],
    releases: [],
    claimed: new Map(),
    installedSha256: new Map(),
    adopted: new Set(),
    recordedNow: new Map(),
    resolved: new Map(),
    dirs: new Map(),
    linkHolders: new Map(),
    ...overrides,
  };
}

/** Facts of a host where a deploy of CONFIG already happened. */
export function deployedFacts(): HostFacts {
  const dir = (path: string, mode: number, owner = 'root'): PathFact => ({
    path,
    type: 'dir',
    mode,
    owner,
    group: owner,
  });
  const paths: PathFact[] = [
    dir('/var/www/api-orders', 0o755),
    dir('/var/log/api-orders', 0o750, 'api-orders'),
    dir('/var/www/api-orders/releases/abc123abc123', 0o755),
    { path: '/var/www/api-orders/current', type: 'link', target: 'releases/abc123abc123' },
    dir('/etc/default', 0o755),
    dir('/etc/systemd/system', 0o755),
    dir('/etc/monit/conf.d', 0o755),
    ...CONFIG.map((local) => ({
      path: `/${local.path}`,
      type: 'file' as const,
      mode: local.mode,
      owner: 'root',
      group: 'root',
      sha256: local.sha256,
      size: local.content.length,
    })),
    {
      path: '/home/deploy/service/api-orders',
      type: 'link',
      target: '/var/www/api-orders/current',
    },
  ];
  return facts(paths, {
    users: new Map([
      [
        'api-orders',
        {
          name: 'api-orders',
          uid: 998,
          gid: 998,
          home: '/var/db/api-orders',
          shell: '/usr/sbin/nologin',
        },
      ],
    ]),
    service: { active: true, pid: 4242 },
    installed: CONFIG.map((local) => `/${local.path}`),
  });
}

/**
 * Records that svc installed `path` with content `sha256`, and what the file is now (by default
 * still that content; null: the host did not say): the facts a deletion is planned from.
 */
export function withRecordedFile(
  facts: HostFacts,
  path: string,
  sha256 = 'a'.repeat(64),
  now: { type: PathType; sha256?: string } | null = { type: 'file', sha256 },
): HostFacts {
  facts.installed = [...(facts.installed ?? []), path];
  facts.installedSha256.set(path, sha256);
  if (now !== null) facts.recordedNow.set(path, now);
  return facts;
}
