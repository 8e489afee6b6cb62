// expandPlaybook, case by case: each step kind's operations exactly as they reach the planner,
// paths checked and normalised, overlay modes and owners, what a service depends on, nginx, the
// helper scripts, monit and the health gate.
import { describe, expect, it } from 'vitest';
import { expandPlaybook, type ExpandInput } from '../../src/core/expand.js';
import { helperScripts } from '../../src/core/helper-scripts.js';
import type { Manifest } from '../../src/core/manifest.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { sha256Hex, type LocalFile } from '../../src/core/release.js';
import { file, manifest } from '../helpers/plan-fixtures.js';

type Case = [playbook: string, manifest: Manifest, extra: Partial<ExpandInput>];

/** The operations, with content as text (a helper script by its name) and the hash checked. */
function expand(playbook: string, forManifest: Manifest, extra: Partial<ExpandInput>): unknown {
  const decoder = new TextDecoder();
  const helpers = helperScripts(forManifest, 'deploy') as Record<string, string>;
  try {
    return expandPlaybook(parsePlaybook(playbook, 'pb.yaml'), {
      manifest: forManifest,
      host: { name: 'web1', login: 'deploy', vars: { v: 'x' } },
      config: [],
      release: { id: 'r1', files: 3, bytes: 9 },
      playbookFile: 'pb.yaml',
      ...extra,
    }).map((op) => {
      if (op.kind !== 'file') return op;
      const text = decoder.decode(op.content);
      const helper = Object.keys(helpers).find((name) => helpers[name] === text);
      return {
        ...op,
        content: helper !== undefined ? `helper:${helper}` : text,
        sha256: op.sha256 === sha256Hex(op.content) ? 'of content' : op.sha256,
      };
    });
  } catch (error) {
    return (error as Error).message;
  }
}

const config = (...files: LocalFile[]) => ({ config: files });
const FRONT = { ...manifest, appPort: 3001 } as Manifest;
const STATIC = { ...manifest, init: undefined, monit: false } as Manifest;
const dirAt = (path: string): Case => [`- dir: { path: ${JSON.stringify(path)} }`, manifest, {}];

const CASES: Record<string, Case> = {
  'dir rel': dirAt('rel'),
  'dir /a/../b': dirAt('/a/../b'),
  'dir /a/./b': dirAt('/a/./b'),
  'dir /a\nb': dirAt('/a\nb'),
  'dir //etc//x//': dirAt('//etc//x//'),
  'dir /': dirAt('/'),
  'dir ~/x/': dirAt('~/x/'),
  'dir ~x': dirAt('~x'),
  'dir /a/b/': dirAt('/a/b/'),
  user: ['- user: { name: "<%- it.user %>", home: "/var/db/<%- it.vars.v %>" }', manifest, {}],
  dirOwner: [
    '- dir: { path: /a, owner: "<%- it.login %>", mode: "0700" }\n- dir: { path: /b, owner: u, group: "<%- it.host %>" }',
    manifest,
    { projectPlaybook: true },
  ],
  link: [
    '- link: { path: /a, target: "releases/<%- it.release %>" }',
    manifest,
    { projectPlaybook: true },
  ],
  release: ['- release: { keep: 3 }', { ...manifest, install: ['npm', 'ci'] }, {}],
  overlay: [
    '- overlay: { from: config }',
    {
      ...manifest,
      files: {
        '/etc/app/a.conf': { mode: '0640', owner: 'svc' },
        '/etc/app/b.conf': { mode: '0600', group: 'g', secret: true },
      },
    } as Manifest,
    config(
      file('etc/app/a.conf', 'A'),
      file('etc/app/b.conf.ejs', 'name=<%- it.name %>', 0o755),
      file('etc/app/c', 'C', 0o700),
      file('top', 'T'),
    ),
  ],
  service: [
    '- release: { keep: 2 }\n- overlay: { from: config }\n- link: { path: /var/www/api-orders/current, target: x }\n- link: { path: /other, target: y }\n- service: {}',
    FRONT,
    config(
      file('etc/monit/conf.d/a', 'm'),
      file('etc/logrotate.d/a', 'l'),
      file('etc/nginx/sites-enabled/a', 'n'),
      file('etc/nginx/sites-enabled/b', 'n'),
      file('etc/default/a', 'd'),
    ),
  ],
  serviceNoFront: [
    '- overlay: { from: config }\n- service: {}',
    manifest,
    config(file('etc/nginx/sites-enabled/a', 'n')),
  ],
  static: [
    '- overlay: { from: config }\n- service: {}\n- scripts: {}\n- monit: {}',
    STATIC,
    config(file('etc/nginx/sites-enabled/a', 'n')),
  ],
  staticNoSite: ['- service: {}', STATIC, {}],
  scripts: ['- scripts: {}\n- monit: {}', manifest, {}],
  health: ['- health: { timeout: 7 }', manifest, {}],
  healthNoPath: ['- health: { timeout: 7 }', { ...FRONT, health: undefined } as Manifest, {}],
  healthPid: ['- health: { timeout: 7 }', { ...manifest, port: undefined } as Manifest, {}],
  templErr: ['- dir: { path: "<%= it.name %>" }', manifest, {}],
};

const EXPECTED: Record<keyof typeof CASES, unknown> = {
  'dir rel': 'pb.yaml: 1.dir.path: must be an absolute path (or ~/...) without . or .. (got "rel")',
  'dir /a/../b':
    'pb.yaml: 1.dir.path: must be an absolute path (or ~/...) without . or .. (got "/a/../b")',
  'dir /a/./b':
    'pb.yaml: 1.dir.path: must be an absolute path (or ~/...) without . or .. (got "/a/./b")',
  'dir /a\nb':
    'pb.yaml: 1.dir.path: must be an absolute path (or ~/...) without . or .. (got "/a\\nb")',
  'dir //etc//x//': [
    {
      kind: 'dir',
      path: '/etc/x',
      mode: 493,
      owner: 'root',
      group: 'root',
    },
  ],
  'dir /': [
    {
      kind: 'dir',
      path: '/',
      mode: 493,
      owner: 'root',
      group: 'root',
    },
  ],
  'dir ~/x/': [
    {
      kind: 'dir',
      path: '~/x',
      mode: 493,
      owner: 'root',
      group: 'root',
    },
  ],
  'dir ~x': 'pb.yaml: 1.dir.path: must be an absolute path (or ~/...) without . or .. (got "~x")',
  'dir /a/b/': [
    {
      kind: 'dir',
      path: '/a/b',
      mode: 493,
      owner: 'root',
      group: 'root',
    },
  ],
  user: [
    {
      kind: 'user',
      name: 'api-orders',
      home: '/var/db/x',
    },
  ],
  dirOwner: [
    {
      kind: 'dir',
      path: '/a',
      mode: 448,
      owner: 'deploy',
      group: 'deploy',
      step: 'pb.yaml: 1.dir',
    },
    {
      kind: 'dir',
      path: '/b',
      mode: 493,
      owner: 'u',
      group: 'web1',
      step: 'pb.yaml: 2.dir',
    },
  ],
  link: [
    {
      kind: 'link',
      path: '/a',
      target: 'releases/r1',
      step: 'pb.yaml: 1.link',
    },
  ],
  release: [
    {
      kind: 'release',
      path: '/var/www/api-orders/releases/r1',
      id: 'r1',
      files: 3,
      bytes: 9,
      keep: 3,
      install: ['npm', 'ci'],
    },
  ],
  overlay: [
    {
      kind: 'dir',
      path: '/etc/app',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'dir',
      path: '/etc/default',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'file',
      path: '/etc/app/a.conf',
      source: 'config/etc/app/a.conf',
      content: 'A',
      sha256: 'of content',
      mode: 416,
      owner: 'svc',
      group: 'svc',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/app/b.conf',
      source: 'config/etc/app/b.conf.ejs',
      content: 'name=api-orders',
      sha256: 'of content',
      mode: 384,
      owner: 'root',
      group: 'g',
      secret: true,
    },
    {
      kind: 'file',
      path: '/etc/app/c',
      source: 'config/etc/app/c',
      content: 'C',
      sha256: 'of content',
      mode: 493,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/top',
      source: 'config/top',
      content: 'T',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/default/api-orders',
      source: 'svc (env file: default)',
      content:
        "# /etc/default/api-orders: the environment of api-orders, written by svc.\n# Mode 0600, owned by root: it holds secrets. Edit svc.yaml env:, the group's env: or the\n# secrets' sources instead; the next deploy rewrites this file.\n# svc: values from svc.yaml (plans show them)\nPORT=3000\nNODE_ENV=production\n",
      sha256: 'of content',
      mode: 384,
      owner: 'root',
      group: 'root',
      secret: true,
      envLines: [
        { key: 'PORT', line: 'PORT=3000', secret: false },
        { key: 'NODE_ENV', line: 'NODE_ENV=production', secret: false },
      ],
    },
  ],
  service: [
    {
      kind: 'release',
      path: '/var/www/api-orders/releases/r1',
      id: 'r1',
      files: 3,
      bytes: 9,
      keep: 2,
    },
    {
      kind: 'dir',
      path: '/etc/monit/conf.d',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'dir',
      path: '/etc/logrotate.d',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'dir',
      path: '/etc/nginx/sites-enabled',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'dir',
      path: '/etc/default',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'file',
      path: '/etc/monit/conf.d/a',
      source: 'config/etc/monit/conf.d/a',
      content: 'm',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/logrotate.d/a',
      source: 'config/etc/logrotate.d/a',
      content: 'l',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/nginx/sites-enabled/a',
      source: 'config/etc/nginx/sites-enabled/a',
      content: 'n',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/nginx/sites-enabled/b',
      source: 'config/etc/nginx/sites-enabled/b',
      content: 'n',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/default/a',
      source: 'config/etc/default/a',
      content: 'd',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/default/api-orders',
      source: 'svc (env file: default)',
      content:
        "# /etc/default/api-orders: the environment of api-orders, written by svc.\n# Mode 0600, owned by root: it holds secrets. Edit svc.yaml env:, the group's env: or the\n# secrets' sources instead; the next deploy rewrites this file.\n# svc: values from svc.yaml (plans show them)\nNODE_ENV=production\nHOST=127.0.0.1\nPORT=3001\n",
      sha256: 'of content',
      mode: 384,
      owner: 'root',
      group: 'root',
      secret: true,
      envLines: [
        { key: 'NODE_ENV', line: 'NODE_ENV=production', secret: false },
        { key: 'HOST', line: 'HOST=127.0.0.1', secret: false },
        { key: 'PORT', line: 'PORT=3001', secret: false },
      ],
    },
    {
      kind: 'link',
      path: '/var/www/api-orders/current',
      target: 'x',
    },
    {
      kind: 'link',
      path: '/other',
      target: 'y',
    },
    {
      kind: 'service',
      name: 'api-orders',
      init: 'systemd',
      dependsOn: [
        '/var/www/api-orders/releases/r1',
        '/etc/default/a',
        '/etc/default/api-orders',
        '/var/www/api-orders/current',
      ],
    },
    {
      kind: 'nginx',
      site: '/etc/nginx/sites-enabled/a',
      dependsOn: ['/etc/nginx/sites-enabled/a', '/etc/nginx/sites-enabled/b'],
    },
  ],
  serviceNoFront: [
    {
      kind: 'dir',
      path: '/etc/nginx/sites-enabled',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'dir',
      path: '/etc/default',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'file',
      path: '/etc/nginx/sites-enabled/a',
      source: 'config/etc/nginx/sites-enabled/a',
      content: 'n',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'file',
      path: '/etc/default/api-orders',
      source: 'svc (env file: default)',
      content:
        "# /etc/default/api-orders: the environment of api-orders, written by svc.\n# Mode 0600, owned by root: it holds secrets. Edit svc.yaml env:, the group's env: or the\n# secrets' sources instead; the next deploy rewrites this file.\n# svc: values from svc.yaml (plans show them)\nPORT=3000\nNODE_ENV=production\n",
      sha256: 'of content',
      mode: 384,
      owner: 'root',
      group: 'root',
      secret: true,
      envLines: [
        { key: 'PORT', line: 'PORT=3000', secret: false },
        { key: 'NODE_ENV', line: 'NODE_ENV=production', secret: false },
      ],
    },
    {
      kind: 'service',
      name: 'api-orders',
      init: 'systemd',
      dependsOn: ['/etc/default/api-orders'],
    },
  ],
  static: [
    {
      kind: 'dir',
      path: '/etc/nginx/sites-enabled',
      mode: 493,
      owner: 'root',
      group: 'root',
      ensureOnly: true,
    },
    {
      kind: 'file',
      path: '/etc/nginx/sites-enabled/a',
      source: 'config/etc/nginx/sites-enabled/a',
      content: 'n',
      sha256: 'of content',
      mode: 420,
      owner: 'root',
      group: 'root',
      secret: false,
    },
    {
      kind: 'nginx',
      site: '/etc/nginx/sites-enabled/a',
      dependsOn: ['/etc/nginx/sites-enabled/a'],
    },
  ],
  staticNoSite: [],
  scripts: [
    {
      kind: 'dir',
      path: '~/script',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
    },
    {
      kind: 'dir',
      path: '~/script/api-orders',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
    },
    {
      kind: 'file',
      path: '~/script/api-orders/start',
      source: 'svc (start script)',
      content: 'helper:start',
      sha256: 'of content',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
      secret: false,
    },
    {
      kind: 'file',
      path: '~/script/api-orders/stop',
      source: 'svc (stop script)',
      content: 'helper:stop',
      sha256: 'of content',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
      secret: false,
    },
    {
      kind: 'file',
      path: '~/script/api-orders/restart',
      source: 'svc (restart script)',
      content: 'helper:restart',
      sha256: 'of content',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
      secret: false,
    },
    {
      kind: 'file',
      path: '~/script/api-orders/status',
      source: 'svc (status script)',
      content: 'helper:status',
      sha256: 'of content',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
      secret: false,
    },
    {
      kind: 'file',
      path: '~/script/api-orders/logs',
      source: 'svc (logs script)',
      content: 'helper:logs',
      sha256: 'of content',
      mode: 493,
      owner: 'deploy',
      group: 'deploy',
      secret: false,
    },
    {
      kind: 'monit',
      name: 'api-orders',
      check: '/etc/monit/conf.d/api-orders',
    },
  ],
  health: [
    {
      kind: 'health',
      url: 'http://127.0.0.1:3000/ok',
      timeoutSeconds: 7,
    },
  ],
  healthNoPath: [
    {
      kind: 'health',
      url: 'http://127.0.0.1:3001/',
      timeoutSeconds: 7,
    },
  ],
  healthPid: [
    {
      kind: 'health',
      pidfile: '/run/api-orders.pid',
      timeoutSeconds: 7,
    },
  ],
  templErr:
    'pb.yaml: 1.dir:1\n >> 1| <%= it.name %>\n\n<%= escapes HTML only; call the quoter for this file format, e.g. <%- it.q.sh(x) %>',
};

describe('expandPlaybook', () => {
  it.each(Object.keys(CASES))('%s', (name) => {
    const [playbook, forManifest, extra] = CASES[name]!;
    expect(expand(playbook, forManifest, extra)).toEqual(EXPECTED[name]);
  });
});
