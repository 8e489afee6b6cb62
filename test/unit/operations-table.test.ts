// Operations as data (src/core/operations.ts): which host paths each needs facts about, and `~/`
// made absolute only for the kinds written below the login home, and only at the start.
import { describe, expect, it } from 'vitest';
import { factPaths, resolveHomePaths, type Operation } from '../../src/core/operations.js';

const OPS: Operation[] = [
  { kind: 'dir', path: '~/service', mode: 0o755, owner: 'root', group: 'root' },
  { kind: 'link', path: '~/service/app', target: '~/x' },
  {
    kind: 'file',
    path: '~/.config/app',
    source: 'config/x',
    content: new Uint8Array(),
    sha256: '',
    mode: 0o644,
    owner: 'root',
    group: 'root',
    secret: false,
  },
  { kind: 'release', path: '/var/www/app/releases/r1', id: 'r1', files: 1, bytes: 1, keep: 5 },
  { kind: 'user', name: 'app', home: '~/db' },
  { kind: 'service', name: 'app', init: 'systemd', dependsOn: ['~/a'] },
  { kind: 'monit', name: 'app', check: '~/c' },
  { kind: 'nginx', site: 'app', dependsOn: ['~/n'] },
  { kind: 'health', url: 'http://x/~/', timeoutSeconds: 1 },
];

describe('factPaths', () => {
  it.each(OPS.map((op) => [op.kind, op] as const))('%s', (kind, op) => {
    const wanted = ['dir', 'link', 'file', 'release'].includes(kind)
      ? [(op as { path: string }).path]
      : [];
    expect(factPaths(op)).toEqual(wanted);
  });
});

describe('resolveHomePaths', () => {
  it('makes ~/ absolute for directories, links and files only, leaving the rest as they are', () => {
    expect(resolveHomePaths(OPS, '/home/deploy')).toEqual([
      { ...OPS[0], path: '/home/deploy/service' },
      { ...OPS[1], path: '/home/deploy/service/app' },
      { ...OPS[2], path: '/home/deploy/.config/app' },
      ...OPS.slice(3),
    ]);
  });

  it.each([
    ['/srv/~/x', '/srv/~/x'],
    ['~x/y', '~x/y'],
    ['~', '~'],
    ['~/', '/root/'],
    ['/etc/app', '/etc/app'],
  ])('%s becomes %s', (path, resolved) => {
    const [op] = resolveHomePaths([{ kind: 'link', path, target: 't' }], '/root');
    expect(op).toEqual({ kind: 'link', path: resolved, target: 't' });
  });

  it('leaves the given list as it was', () => {
    const ops: Operation[] = [{ kind: 'link', path: '~/a', target: 't' }];
    resolveHomePaths(ops, '/root');
    expect(ops).toEqual([{ kind: 'link', path: '~/a', target: 't' }]);
  });
});
