// A node www- site behind nginx (svc.yaml appPort): the deploy's health gate asks the process on
// its own port, and a change to the nginx site is an nginx reload, not a service restart.
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import type { Operation } from '../../src/core/operations.js';
import { CONFIG, file, manifest, operations } from '../helpers/plan-fixtures.js';

const site: Manifest = {
  ...manifest,
  name: 'www-shop',
  port: 8080,
  appPort: 18080,
  user: 'www-shop',
  files: {},
};
const SITE = '/etc/nginx/sites-enabled/www-shop.conf';
const config = [
  ...CONFIG.filter((f) => !f.path.includes('default')),
  file(SITE.slice(1), 'server { listen 8080; }\n'),
];

const of = <K extends Operation['kind']>(ops: Operation[], kind: K) =>
  ops.filter((op): op is Extract<Operation, { kind: K }> => op.kind === kind);

describe('expand: a node www- site behind nginx', () => {
  it('gates on the process port, restarts the service, and reloads nginx for its site', () => {
    const ops = operations(config, site);
    expect(of(ops, 'health')).toEqual([
      { kind: 'health', url: 'http://127.0.0.1:18080/ok', timeoutSeconds: 30 },
    ]);
    expect(of(ops, 'nginx')).toEqual([{ kind: 'nginx', site: SITE, dependsOn: [SITE] }]);
    const [service] = of(ops, 'service');
    expect(service!.dependsOn).not.toContain(SITE);
  });

  it('a site from before the front (no appPort) is gated on port and has no nginx step', () => {
    const ops = operations(
      config.filter((f) => !f.path.includes('nginx')),
      { ...site, appPort: undefined },
    );
    expect(of(ops, 'health')[0]!.url).toBe('http://127.0.0.1:8080/ok');
    expect(of(ops, 'nginx')).toEqual([]);
  });

  it.each([
    // conf.d/ sorts first: a rate limit zone is not the site.
    [['etc/nginx/conf.d/ratelimit.conf', 'etc/nginx/sites-enabled/www-shop.conf'], SITE],
    // The file with a server on `port`, one in sites-enabled/ first.
    [['etc/nginx/sites-enabled/a-redirect.conf', 'etc/nginx/sites-enabled/www-shop.conf'], SITE],
    [
      ['etc/nginx/conf.d/www-shop.conf', 'etc/nginx/sites-enabled/a-redirect.conf'],
      '/etc/nginx/conf.d/www-shop.conf',
    ],
    // None on `port`: the first under sites-enabled/.
    [
      ['etc/nginx/conf.d/ratelimit.conf', 'etc/nginx/sites-enabled/b.conf'],
      '/etc/nginx/sites-enabled/b.conf',
    ],
    [['etc/nginx/conf.d/ratelimit.conf'], '/etc/nginx/conf.d/ratelimit.conf'],
  ])('the site checked among %j: %s', (paths, expected) => {
    const texts: Record<string, string> = {
      'etc/nginx/conf.d/ratelimit.conf':
        'limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n',
      'etc/nginx/sites-enabled/a-redirect.conf': 'server { listen 8081; return 301 https://x/; }\n',
      'etc/nginx/sites-enabled/b.conf': 'server { listen 9000; }\n',
      'etc/nginx/sites-enabled/www-shop.conf': 'server { listen 8080 default_server; }\n',
      'etc/nginx/conf.d/www-shop.conf': 'server { listen [::]:8080; }\n',
    };
    const ops = operations(
      [
        ...CONFIG.filter((f) => !f.path.includes('default') && !f.path.includes('nginx')),
        ...paths.map((path) => file(path, texts[path]!)),
      ],
      site,
    );
    const [nginx] = of(ops, 'nginx');
    expect(nginx?.kind === 'nginx' && nginx.site).toBe(expected);
  });
});
