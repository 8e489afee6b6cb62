// Where a service lives on a host, every path by name, and which `current` targets name a live
// release (issue 17): templates, planner and lifecycle commands all read these, so a changed
// path must fail here first.
import { describe, expect, it } from 'vitest';
import { hostLayout, liveReleaseOf } from '../../src/core/layout.js';

describe('hostLayout', () => {
  it('puts every path of a service where the docs say', () => {
    expect(hostLayout('api-orders')).toStrictEqual({
      root: '/var/www/api-orders',
      releases: '/var/www/api-orders/releases',
      current: '/var/www/api-orders/current',
      log: '/var/log/api-orders',
      logFile: '/var/log/api-orders/api-orders.log',
      db: '/var/db/api-orders',
      pidfile: '/run/api-orders.pid',
      envFile: '/etc/default/api-orders',
      launcher: '/usr/local/lib/svc/api-orders/ctl',
      records: '/var/lib/svc/api-orders',
    });
  });
});

describe('liveReleaseOf', () => {
  const layout = { releases: '/var/www/api-x/releases' };
  it.each([
    [{ type: 'link', target: 'releases/31ebb2b9f78f' }, '31ebb2b9f78f'],
    [{ type: 'link', target: '/var/www/api-x/releases/31ebb2b9f78f' }, '31ebb2b9f78f'],
    [{ type: 'link', target: 'releases/A-z_0.9' }, 'A-z_0.9'],
    [{ type: 'link', target: 'releases/..x' }, '..x'],
    [{ type: 'link', target: 'releases/.x' }, '.x'],
    [{ type: 'link', target: 'releases/.' }, undefined],
    [{ type: 'link', target: 'releases/..' }, undefined],
    [{ type: 'link', target: 'releases/' }, undefined],
    [{ type: 'link', target: '/var/www/api-x/releases/' }, undefined],
    [{ type: 'link', target: '/var/www/api-x/releases/..' }, undefined],
    [{ type: 'link', target: 'releases/a/b' }, undefined],
    [{ type: 'link', target: 'releases/a b' }, undefined],
    [{ type: 'link', target: 'releases/a\n' }, undefined],
    [{ type: 'link', target: 'releases/$x' }, undefined],
    [{ type: 'link', target: 'releases/x$' }, undefined],
    [{ type: 'link', target: '$releases/x' }, undefined],
    [{ type: 'link', target: './releases/x' }, undefined],
    [{ type: 'link', target: 'releasesx' }, undefined],
    [{ type: 'link', target: '/var/www/api-x/releasesx' }, undefined],
    [{ type: 'link', target: '/var/www/api-y/releases/x' }, undefined],
    [{ type: 'link', target: '/etc' }, undefined],
    [{ type: 'link', target: undefined }, undefined],
    [{ type: 'file', target: 'releases/x' }, undefined],
    [{ type: 'absent' }, undefined],
    [undefined, undefined],
  ])('%j -> %s', (link, id) => {
    expect(liveReleaseOf(link, layout)).toBe(id);
  });
});
