// The apply script, word for word, for each kind of deploy: a reviewed copy of each generated
// script lives in test/unit/__golden__/apply-script/. test/reliability/apply-script-run.test.ts
// runs such scripts for real on a scratch host (what they do on disk, what they say); this file
// is its fast proxy, quick enough to run against every mutant of apply-script.ts. When the script
// changes on purpose: run the reliability scenarios, read the diff, then `npx vitest run -u
// test/unit/apply-script-golden.test.ts`.
import { describe, expect, it } from 'vitest';
import { buildApply, lockPaths, adoptedCopy } from '../../src/core/apply-script.js';
import { NGINX_BINARY, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { sha256Hex } from '../../src/core/release.js';
import { applyInput, RELEASE_FILES, type Scenario } from '../helpers/apply-input.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  manifest,
  withRecordedFile,
} from '../helpers/plan-fixtures.js';

const NGINX_FACT = { path: NGINX_BINARY, type: 'file' as const, mode: 0o755 };
const SWITCH_MANIFEST = { ...manifest, cutover: 'switch', monit: false } as Manifest;
const SWITCH_CONFIG = [
  file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node server.js\n'),
  file(
    'etc/nginx/sites-enabled/api-orders.conf',
    'upstream svc_api_orders_app { include "/var/lib/svc/api-orders/upstream.conf"; }\n',
  ),
];

function generate(scenario: Scenario): string {
  const input = applyInput(scenario);
  const { plan } = input;
  const bundle = buildApply(input, RELEASE_FILES);
  const entries = bundle.entries.map(
    (entry) => `${entry.path} ${entry.mode.toString(8)} ${sha256Hex(entry.content).slice(0, 12)}`,
  );
  return [
    `# releaseId: ${bundle.releaseId ?? '-'}; previousId: ${bundle.previousId ?? '-'}`,
    `# plan problems: ${JSON.stringify(plan.problems)}`,
    ...entries.map((entry) => `# entry: ${entry}`),
    bundle.script,
  ].join('\n');
}

const unitOf: Record<InitSystem, string> = {
  systemd: 'etc/systemd/system/api-orders.service',
  openrc: 'etc/init.d/api-orders',
  upstart: 'etc/init/api-orders.conf',
  monit: 'usr/local/lib/svc/api-orders/ctl',
};
const underInit = (init: InitSystem): Scenario => ({
  facts: () => facts([], { init: init === 'monit' ? 'none' : init }),
  manifest: { ...manifest, init },
  config: [
    file('etc/default/api-orders', 'SECRET=hunter2\n', 0o600),
    file(unitOf[init], '#!/bin/sh\n', 0o755),
    file('etc/monit/conf.d/api-orders', 'check process api-orders\n'),
  ],
});
const BAD_UNIT = CONFIG.map((local) =>
  local.path.endsWith('.service') ? file(local.path, '[Service]\nExecStart=/bin/false\n') : local,
);
const SITE = file('etc/nginx/sites-enabled/api-orders', 'server {}\n');

const SCENARIOS: Record<string, Scenario> = {
  'first-deploy': { facts: () => facts() },
  'changed-unit': { facts: deployedFacts, config: BAD_UNIT },
  'new-release': { facts: deployedFacts, release: 'def456def456' },
  'new-release-no-wait': {
    facts: deployedFacts,
    release: 'def456def456',
    input: { lockWaitSeconds: 0, healthTimeoutSeconds: 1, nonce: 'other' },
  },
  'file-deleted': { facts: () => withRecordedFile(deployedFacts(), '/etc/gone') },
  'file-adopted': {
    facts: () => {
      const changed = deployedFacts();
      changed.installed = changed.installed!.filter((path) => path !== '/etc/default/api-orders');
      return changed;
    },
    config: [...CONFIG.slice(1), file('etc/default/api-orders', 'NEW=1\n', 0o600)],
  },
  'adopted-given-back': {
    facts: () => {
      const updated = withRecordedFile(deployedFacts(), '/etc/x');
      updated.adopted.add('/etc/x');
      return updated;
    },
  },
  'install-step': {
    facts: () => facts(),
    manifest: { ...manifest, install: ['npm', 'ci', '--omit=dev'] },
  },
  'first-openrc': underInit('openrc'),
  'first-upstart': underInit('upstart'),
  'first-monit': underInit('monit'),
  'redeploy-openrc': {
    ...underInit('openrc'),
    facts: () => {
      const deployed = deployedFacts();
      deployed.init = 'openrc';
      return deployed;
    },
  },
  'static-site': {
    facts: () => facts(),
    manifest: {
      ...manifest,
      init: undefined,
      monit: false,
      port: undefined,
      runtime: 'static',
    } as Manifest,
    config: [SITE],
  },
  // cutover: switch (cutover-script.ts): the first slot, then a switch from slot a to b.
  'switch-first-slot': {
    facts: () => facts([NGINX_FACT]),
    manifest: SWITCH_MANIFEST,
    config: SWITCH_CONFIG,
  },
  'switch-a-to-b': {
    facts: () => {
      const live = deployedFacts();
      live.service = { active: false };
      live.paths.set(NGINX_FACT.path, NGINX_FACT);
      const upstream = upstreamFile('api-orders');
      const text = upstreamText('api-orders', slotsOf(SWITCH_MANIFEST)[0]);
      live.paths.set(upstream, {
        path: upstream,
        type: 'file',
        mode: 0o644,
        owner: 'root',
        group: 'root',
        sha256: sha256Hex(new TextEncoder().encode(text)),
      });
      return live;
    },
    manifest: SWITCH_MANIFEST,
    config: SWITCH_CONFIG,
    release: 'def456def456',
  },
  // cutover: switch under init: monit (cutover-slots.ts): monit's checks and the slot launcher.
  'switch-monit-a-to-b': {
    facts: () => {
      const live = deployedFacts();
      live.init = 'none';
      live.service = { active: false };
      live.paths.set(NGINX_FACT.path, NGINX_FACT);
      const upstream = upstreamFile('api-orders');
      const text = upstreamText('api-orders', slotsOf(SWITCH_MANIFEST)[0]);
      live.paths.set(upstream, {
        path: upstream,
        type: 'file',
        mode: 0o644,
        owner: 'root',
        group: 'root',
        sha256: sha256Hex(new TextEncoder().encode(text)),
      });
      return live;
    },
    manifest: { ...SWITCH_MANIFEST, init: 'monit', monit: true } as Manifest,
    config: [
      SWITCH_CONFIG[1]!,
      file('usr/local/lib/svc/api-orders/ctl', '#!/bin/sh\n', 0o755),
      file('etc/monit/conf.d/api-orders', 'check process api-orders-a\n'),
    ],
    release: 'def456def456',
  },
  'node-site-behind-nginx': {
    facts: () => facts(),
    manifest: { ...manifest, appPort: 3001 } as Manifest,
    config: [...CONFIG, SITE],
  },
  'redeploy-behind-nginx': {
    facts: deployedFacts,
    manifest: { ...manifest, appPort: 3001 } as Manifest,
    config: [...CONFIG, SITE],
  },
  'pid-health': { facts: () => facts(), manifest: { ...manifest, port: undefined } as Manifest },
  'rollback-to-a-kept-release': {
    facts: () => {
      const pinned = deployedFacts();
      pinned.paths.set('/var/www/api-orders/current', {
        path: '/var/www/api-orders/current',
        type: 'link',
        target: 'releases/fedcba987654',
      });
      pinned.releases = ['abc123abc123', 'fedcba987654'];
      return pinned;
    },
  },
  'old-releases-pruned': {
    facts: () => {
      const many = deployedFacts();
      many.releases = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'abc123abc123'];
      for (const id of many.releases)
        many.paths.set(`/var/www/api-orders/releases/${id}`, {
          path: `/var/www/api-orders/releases/${id}`,
          type: 'dir',
          mode: 0o755,
          owner: 'root',
          group: 'root',
        });
      many.history = many.releases.map((id) => ({ id, status: 'good' as const, at: 'then' }));
      return many;
    },
    release: 'def456def456',
  },
  'dir-and-link-changed': {
    facts: () => {
      const drifted = deployedFacts();
      drifted.paths.set('/var/log/api-orders', {
        path: '/var/log/api-orders',
        type: 'dir',
        mode: 0o700,
        owner: 'root',
        group: 'root',
      });
      drifted.paths.set('/home/deploy/service/api-orders', {
        path: '/home/deploy/service/api-orders',
        type: 'link',
        target: '/elsewhere',
      });
      return drifted;
    },
  },
  'user-group-exists': {
    facts: () => facts([], { groups: new Map([['api-orders', 990]]) }),
  },
  // svc.yaml release: (release-commands.ts). on: every: the commands run in the new release
  // before `current` moves, with the env file this deploy installs (still staged); on: first:
  // the apply script runs none (the release phase did, on the first host only).
  'release-every': {
    facts: deployedFacts,
    release: 'def456def456',
    manifest: {
      ...manifest,
      release: {
        run: [
          ['node', 'migrate.js'],
          ['sh', '-c', 'echo "$DB" $(id -u) \'q\''],
        ],
        on: 'every',
        timeout: 30,
      },
    } as Manifest,
    config: [file('etc/default/api-orders', 'SECRET=changed\n', 0o600), ...CONFIG.slice(1)],
  },
  // cutover: switch: the commands before `current` moves, so before the idle slot starts.
  'release-every-switch': {
    facts: () => facts([NGINX_FACT]),
    manifest: {
      ...SWITCH_MANIFEST,
      release: { run: [['node', 'migrate.js']], on: 'every' },
    } as Manifest,
    config: SWITCH_CONFIG,
  },
  'release-first': {
    facts: deployedFacts,
    release: 'def456def456',
    manifest: { ...manifest, release: { run: [['node', 'migrate.js']] } } as Manifest,
  },
  'no-sha256-recorded': {
    facts: () => {
      const old = deployedFacts();
      old.installedSha256 = new Map();
      return old;
    },
    release: 'def456def456',
  },
};

describe('the apply script, word for word', () => {
  it.each(Object.keys(SCENARIOS))('%s', async (name) => {
    await expect(generate(SCENARIOS[name]!)).toMatchFileSnapshot(
      `./__golden__/apply-script/${name}.sh`,
    );
  });

  it('names its lock, holder and adopted copies', () => {
    expect(lockPaths('api-orders')).toEqual({
      lockFile: '/var/lib/svc/locks/api-orders.lock',
      holderFile: '/var/lib/svc/locks/api-orders.holder',
    });
    expect(adoptedCopy('api-orders', '/etc/x')).toBe(
      `/var/lib/svc/api-orders/adopted/${sha256Hex('/etc/x')}`,
    );
  });
});
