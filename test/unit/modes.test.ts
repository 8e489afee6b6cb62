// What modes reach a host: release and overlay files 0644 or 0755 by the executable bit (an
// overlay file's svc.yaml mode wins), never setuid or setgid, and a release id that changes with
// what is installed.
import { describe, expect, it } from 'vitest';
import type { FileOperation } from '../../src/core/operations.js';
import { projectProblems } from '../../src/core/project-problems.js';
import { installedMode, releaseEntries, releaseId } from '../../src/core/release.js';
import { file, manifest, operations } from '../helpers/plan-fixtures.js';

describe('installedMode', () => {
  it.each([
    [0o666, 0o644],
    [0o644, 0o644],
    [0o600, 0o644],
    [0o4755, 0o755],
    [0o2755, 0o755],
    [0o777, 0o755],
    [0o700, 0o755],
    [0o1777, 0o755],
    [0o744, 0o755],
  ])('%o -> %o', (disk, installed) => {
    expect(installedMode(disk)).toBe(installed);
  });
});

describe('release', () => {
  it('travels with installed modes', () => {
    const entries = releaseEntries([
      file('server.js', 'x', 0o666),
      file('bin/tool', '#!/bin/sh\n', 0o4777),
    ]);
    expect(entries.map((entry) => entry.mode)).toEqual([0o644, 0o755]);
  });

  it('has an id that follows the installed mode', () => {
    const plain = releaseId([file('bin/tool', 'x', 0o644)]);
    expect(releaseId([file('bin/tool', 'x', 0o666)])).toBe(plain); // the same files installed
    expect(releaseId([file('bin/tool', 'x', 0o755)])).not.toBe(plain);
    expect(releaseId([file('bin/tool', 'y', 0o644)])).not.toBe(plain);
  });
});

describe('overlay files', () => {
  const modeOf = (config: ReturnType<typeof file>[], path: string) =>
    (operations(config).find((op) => op.kind === 'file' && op.path === path) as FileOperation).mode;

  it('are 0644 or 0755 unless svc.yaml states a mode', () => {
    const config = [
      file('etc/systemd/system/api-orders.service', '[Service]\n', 0o666),
      file('usr/local/bin/tool', '#!/bin/sh\n', 0o777),
      file('etc/default/api-orders', 'A=1\n', 0o644), // svc.yaml says 0600
    ];
    expect(modeOf(config, '/etc/systemd/system/api-orders.service')).toBe(0o644);
    expect(modeOf(config, '/usr/local/bin/tool')).toBe(0o755);
    expect(modeOf(config, '/etc/default/api-orders')).toBe(0o600);
  });
});

describe('projectProblems', () => {
  const project = (over: Partial<Parameters<typeof projectProblems>[0]>) =>
    projectProblems({ manifest, config: [], release: [], ...over });

  it('is empty for ordinary modes', () => {
    expect(
      project({ release: [file('server.js', 'x', 0o666)], config: [file('etc/x', 'x', 0o777)] }),
    ).toEqual([]);
  });

  it('names a setuid or setgid file of the release or config/', () => {
    expect(
      project({
        release: [file('bin/tool', 'x', 0o4755)],
        config: [file('usr/local/bin/helper', 'x', 0o2755)],
      }),
    ).toEqual([
      'bin/tool: mode 4755 is setuid or setgid; svc installs no such file (chmod ug-s bin/tool)',
      'config/usr/local/bin/helper: mode 2755 is setuid or setgid; svc installs no such file (chmod ug-s config/usr/local/bin/helper)',
    ]);
  });

  it('follows svc.yaml where it states a mode, and refuses a setuid mode there', () => {
    const stated = {
      ...manifest,
      files: {
        ...manifest.files,
        '/usr/local/bin/helper': { mode: '0755' },
        '/usr/local/bin/su2': { mode: '4755' },
      },
    };
    expect(
      project({ manifest: stated, config: [file('usr/local/bin/helper', 'x', 0o4755)] }),
    ).toEqual([
      'svc.yaml: files: /usr/local/bin/su2: mode 4755 is setuid or setgid; svc installs no such file (state a mode without 4000 or 2000)',
    ]);
  });
});
