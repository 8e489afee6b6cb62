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
});
