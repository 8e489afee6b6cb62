// The apply script run for real on a scratch host (test/helpers/apply-run.ts: a private
// namespace, real sh and coreutils, stand-ins only for systemctl, monit, nginx and curl), with
// facts gathered there by the real fact script: what a deploy leaves on disk, what it says on its
// protocol channel line by line, and which service commands it runs. (Here, not in test/unit: a
// scenario takes seconds, too slow to run against each of the ~700 mutants of apply-script.ts.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { factScript, factsDigest } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import type { Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import type { LocalFile } from '../../src/core/release.js';
import { ScratchHost, unhex, type StepResult } from '../helpers/apply-run.js';
import { CONFIG, file, manifest } from '../helpers/plan-fixtures.js';

const PLAYBOOK = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');

interface Deploy {
  config?: LocalFile[];
  manifest?: Manifest;
  release?: string;
  input?: Partial<ApplyInput>;
  /** sh run on the host after the plan, just before the script. */
  before?: string;
}

/** svc deploy against the scratch host: facts gathered there, a plan, the script run there. */
function deploy(host: ScratchHost, options: Deploy = {}): StepResult & { script: string } {
  const forManifest = options.manifest ?? manifest;
  const release = options.release ?? 'abc123abc123';
  const steps = parsePlaybook(PLAYBOOK, 'playbooks/deploy.yaml');
  const expanded = expandPlaybook(steps, {
    manifest: forManifest,
    host: { name: 'web1', login: 'deploy', vars: {} },
    config: options.config ?? CONFIG,
    release: { id: release, files: 1, bytes: 15 },
    playbookFile: 'playbooks/deploy.yaml',
  });
  // A salted digest, as svc makes one per run: the host's stale check must agree with it (every
  // scenario but the stale one would be refused otherwise) and still see the env file change.
  const request = buildFactRequest(forManifest, expanded, 'deploy', false, '5a17ed'.repeat(4));
  const output = host.sh(factScript(request));
  const facts = { ...parseFacts(output, request, 'web1'), init: 'systemd' as const };
  const ops = resolveHomePaths(expanded, facts.login.home);
  const plan = planHost('web1', ops, facts, factsDigest(output, request.salt));
  expect(plan.problems).toEqual([]);
  const bundle = buildApply(
    {
      manifest: forManifest,
      operations: ops,
      plan,
      facts,
      factRequest: request,
      holder: '{"who":"test"}',
      lockWaitSeconds: 0,
      healthTimeoutSeconds: 2,
      now: '2026-11-27T00:00:00.000Z',
      nonce: 'n0nce',
      ...options.input,
    },
    [{ path: 'server.js', mode: 0o644, content: new TextEncoder().encode(`// ${release}\n`) }],
  );
  return { ...host.apply(bundle, options.before), script: bundle.script };
}

const BAD_UNIT = CONFIG.map((local) =>
  local.path.endsWith('.service') ? file(local.path, '[Service]\nExecStart=/bin/false\n') : local,
);

/** Service commands run, without the polling ones (their number depends on timing). */
const actions = (result: StepResult) =>
  result.calls.filter((call) => !/^(systemctl show|monit summary|curl)/.test(call));

const LOOK = [
  '/var/www',
  '/var/lib/svc',
  '/var/log/api-orders',
  '/home/deploy/service',
  '/home/deploy/script',
  '/etc/default/api-orders',
  '/etc/systemd/system/api-orders.service',
  '/etc/monit/conf.d/api-orders',
];

/** The records after a deploy, with each recorded hash checked against the file on the host. */
function records(host: ScratchHost) {
  const json = host.read('/var/lib/svc/api-orders/installed.json');
  if (json === undefined) return undefined;
  const parsed = JSON.parse(json) as { files: string[]; sha256?: string[] };
  const sums = parsed.files.map((path) => host.sh(`sha256sum ${path} | cut -d' ' -f1`).trim());
  return { ...parsed, sha256: parsed.sha256?.map((sum, i) => (sum === sums[i] ? 'on disk' : sum)) };
}

/** Each scenario on a host of its own, made inside the test (a throw there is a failure). */
function scenario(name: keyof typeof EXPECTED, run: (host: ScratchHost) => unknown) {
  it(
    name,
    () => {
      const host = ScratchHost.create();
      try {
        expect(run(host)).toEqual(EXPECTED[name]);
      } finally {
        host.dispose();
      }
    },
    120_000,
  );
}

// What each scenario leaves, as observed and reviewed: exit code, protocol, service commands, whether
// the script removed itself, the tree (PATH TYPE MODE OWNER:GROUP -> LINK) and the records.
const EXPECTED = {
  'a first deploy': {
    code: 0,
    protocol: [
      'STEP\treceived',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tfiles in place',
      'STEP\tmonit reloaded',
      'STEP\tstarted api-orders',
      'STEP\thealthy',
      'DONE\tabc123abc123',
    ],
    actions: [
      'monit reload',
      'systemctl daemon-reload',
      'systemctl enable --quiet api-orders',
      'systemctl reset-failed -- api-orders',
      'systemctl start api-orders',
      // The check is new: monit is reloaded again once the service is healthy, and asked until
      // it has looked at the running process (so svc status right after says OK).
      'monit reload',
      'monit status api-orders',
    ],
    left: false,
    tree: [
      '/etc/default/api-orders f 600 root:root',
      '/etc/monit/conf.d/api-orders f 644 root:root',
      '/etc/systemd/system/api-orders.service f 644 root:root',
      '/home/deploy/script d 755 deploy:deploy',
      '/home/deploy/script/api-orders d 755 deploy:deploy',
      '/home/deploy/script/api-orders/logs f 755 deploy:deploy',
      '/home/deploy/script/api-orders/restart f 755 deploy:deploy',
      '/home/deploy/script/api-orders/start f 755 deploy:deploy',
      '/home/deploy/script/api-orders/status f 755 deploy:deploy',
      '/home/deploy/script/api-orders/stop f 755 deploy:deploy',
      '/home/deploy/service d 755 deploy:deploy',
      '/home/deploy/service/api-orders l 777 root:root -> /var/www/api-orders/current',
      '/var/lib/svc d 700 root:root',
      '/var/lib/svc/api-orders d 700 root:root',
      '/var/lib/svc/api-orders/history d 700 root:root',
      '/var/lib/svc/api-orders/history/lock f 600 root:root',
      '/var/lib/svc/api-orders/history/records f 600 root:root',
      '/var/lib/svc/api-orders/installed.json f 644 root:root',
      '/var/lib/svc/api-orders/installed.list f 644 root:root',
      '/var/lib/svc/locks d 700 root:root',
      '/var/lib/svc/locks/api-orders.lock f 644 root:root',
      '/var/log/api-orders d 750 api-orders:api-orders',
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/abc123abc123',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
    ],
    records: {
      version: 1,
      service: 'api-orders',
      files: [
        '/etc/default/api-orders',
        '/etc/systemd/system/api-orders.service',
        '/etc/monit/conf.d/api-orders',
        '/home/deploy/script/api-orders/start',
        '/home/deploy/script/api-orders/stop',
        '/home/deploy/script/api-orders/restart',
        '/home/deploy/script/api-orders/status',
        '/home/deploy/script/api-orders/logs',
      ],
      sha256: [
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
      ],
      adopted: [],
      history: [
        {
          id: 'abc123abc123',
          status: 'good',
          at: '2026-11-27T00:00:00.000Z',
        },
      ],
    },
    list: '/etc/default/api-orders\n/etc/systemd/system/api-orders.service\n/etc/monit/conf.d/api-orders\n/home/deploy/script/api-orders/start\n/home/deploy/script/api-orders/stop\n/home/deploy/script/api-orders/restart\n/home/deploy/script/api-orders/status\n/home/deploy/script/api-orders/logs\n',
  },
  'a new release, with the old one running': {
    code: 0,
    protocol: [
      'STEP\treceived',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tfiles in place',
      'STEP\trestarted api-orders',
      'STEP\thealthy',
      'DONE\tdef456def456',
    ],
    actions: [
      'systemctl start api-orders',
      'systemctl reset-failed -- api-orders',
      'systemctl restart api-orders',
    ],
    left: false,
    tree: [
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/def456def456',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
      '/var/www/api-orders/releases/def456def456 d 755 root:root',
      '/var/www/api-orders/releases/def456def456/server.js f 644 root:root',
    ],
    records: {
      version: 1,
      service: 'api-orders',
      files: [
        '/etc/default/api-orders',
        '/etc/systemd/system/api-orders.service',
        '/etc/monit/conf.d/api-orders',
        '/home/deploy/script/api-orders/start',
        '/home/deploy/script/api-orders/stop',
        '/home/deploy/script/api-orders/restart',
        '/home/deploy/script/api-orders/status',
        '/home/deploy/script/api-orders/logs',
      ],
      sha256: [
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
      ],
      adopted: [],
      history: [
        {
          id: 'abc123abc123',
          status: 'good',
          at: '2026-11-27T00:00:00.000Z',
        },
        {
          id: 'def456def456',
          status: 'good',
          at: '2026-11-27T00:00:00.000Z',
        },
      ],
    },
  },
  'an unhealthy release, rolled back': {
    code: 77,
    protocol: [
      'STEP\treceived',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tfiles in place',
      'STEP\trestarted api-orders',
      'UNHEALTHY',
      'LOG\t',
      'ROLLEDBACK\thealthy',
      'OUTPUT\t',
    ],
    actions: [
      'systemctl start api-orders',
      'systemctl daemon-reload',
      'systemctl enable --quiet api-orders',
      'systemctl reset-failed -- api-orders',
      'systemctl restart api-orders',
      'systemctl daemon-reload',
      'systemctl enable --quiet api-orders',
      'systemctl reset-failed -- api-orders',
      'systemctl restart api-orders',
    ],
    left: false,
    tree: [
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/abc123abc123',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
      '/var/www/api-orders/releases/bad000bad000 d 755 root:root',
      '/var/www/api-orders/releases/bad000bad000/server.js f 644 root:root',
    ],
    unit: '[Service]\nExecStart=/usr/bin/node server.js\n',
    records: {
      version: 1,
      service: 'api-orders',
      files: [
        '/etc/default/api-orders',
        '/etc/systemd/system/api-orders.service',
        '/etc/monit/conf.d/api-orders',
        '/home/deploy/script/api-orders/start',
        '/home/deploy/script/api-orders/stop',
        '/home/deploy/script/api-orders/restart',
        '/home/deploy/script/api-orders/status',
        '/home/deploy/script/api-orders/logs',
      ],
      sha256: [
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
        'on disk',
      ],
      adopted: [],
      history: [
        {
          id: 'abc123abc123',
          status: 'good',
          at: '2026-11-27T00:00:00.000Z',
        },
        {
          id: 'bad000bad000',
          status: 'bad',
          at: '2026-11-27T00:00:00.000Z',
        },
      ],
    },
  },
  'an unhealthy first deploy, undone': {
    code: 77,
    protocol: [
      'STEP\treceived',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tfiles in place',
      'STEP\tmonit reloaded',
      'STEP\tstarted api-orders',
      'UNHEALTHY',
      'LOG\t',
      'ROLLEDBACK\tnone',
      'OUTPUT\t',
    ],
    actions: [
      'monit reload',
      'systemctl daemon-reload',
      'systemctl enable --quiet api-orders',
      'systemctl reset-failed -- api-orders',
      'systemctl start api-orders',
      'monit reload',
      'systemctl stop api-orders',
      'systemctl disable --quiet api-orders',
      'systemctl daemon-reload',
    ],
    left: false,
    tree: [
      '/home/deploy/script d 755 deploy:deploy',
      '/home/deploy/script/api-orders d 755 deploy:deploy',
      '/home/deploy/service d 755 deploy:deploy',
      '/var/lib/svc d 700 root:root',
      '/var/lib/svc/api-orders d 700 root:root',
      '/var/lib/svc/api-orders/history d 700 root:root',
      '/var/lib/svc/api-orders/history/lock f 600 root:root',
      '/var/lib/svc/api-orders/history/records f 600 root:root',
      '/var/lib/svc/api-orders/installed.json f 644 root:root',
      '/var/lib/svc/api-orders/installed.list f 644 root:root',
      '/var/lib/svc/locks d 700 root:root',
      '/var/lib/svc/locks/api-orders.lock f 644 root:root',
      '/var/log/api-orders d 750 api-orders:api-orders',
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
    ],
    records: {
      version: 1,
      service: 'api-orders',
      files: [],
      sha256: [],
      adopted: [],
      history: [
        {
          id: 'abc123abc123',
          status: 'bad',
          at: '2026-11-27T00:00:00.000Z',
        },
      ],
    },
  },
  'a deploy while another holds the lock': {
    code: 75,
    protocol: ['STEP\treceived', 'LOCKED\t{"who":"other"}\n123 456\n', 'OUTPUT\t'],
    actions: [],
    left: false,
    tree: [
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/abc123abc123',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
    ],
  },
  'a host that changed since the plan': {
    code: 76,
    protocol: ['STEP\treceived', 'STEP\tlocked', 'STALE', 'OUTPUT\t'],
    actions: [],
    left: false,
    tree: [
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/abc123abc123',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
    ],
  },
  'a failing install step': {
    code: 1,
    protocol: [
      'STEP\treceived',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tinstalling: sh -c echo it broke >&2; exit 3',
      'FAIL\tthe install step failed',
      'FAILED\tundoing',
      'OUTPUT\tit broke\n',
    ],
    actions: [],
    left: false,
    tree: [
      '/var/www d 755 root:root',
      '/var/www/api-orders d 755 root:root',
      '/var/www/api-orders/current l 777 root:root -> releases/abc123abc123',
      '/var/www/api-orders/releases d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123 d 755 root:root',
      '/var/www/api-orders/releases/abc123abc123/server.js f 644 root:root',
    ],
  },
  'a deploy after one that was killed': {
    code: 0,
    protocol: [
      'STEP\treceived',
      'WARNING\ta previous deploy did not finish: {"who":"killed"}',
      'STEP\tlocked',
      'STEP\tfacts unchanged since the plan',
      'STEP\tfiles in place',
      'STEP\tstarted api-orders',
      'STEP\thealthy',
      'DONE\tdef456def456',
    ],
    actions: ['systemctl reset-failed -- api-orders', 'systemctl start api-orders'],
    left: false,
    tree: [
      '/var/lib/svc d 700 root:root',
      '/var/lib/svc/api-orders d 700 root:root',
      '/var/lib/svc/api-orders/history d 700 root:root',
      '/var/lib/svc/api-orders/history/lock f 600 root:root',
      '/var/lib/svc/api-orders/history/records f 600 root:root',
      '/var/lib/svc/api-orders/installed.json f 644 root:root',
      '/var/lib/svc/api-orders/installed.list f 644 root:root',
      '/var/lib/svc/locks d 700 root:root',
      '/var/lib/svc/locks/api-orders.lock f 644 root:root',
    ],
  },
};

describe('apply scripts run by a real sh on a scratch host', () => {
  /** The protocol with its hex fields (the lock holder, the output's tail, the log) decoded. */
  const outcome = (result: StepResult) => ({
    code: result.code,
    protocol: result.protocol.map((line) => {
      const [tag, hex] = line.split('\t');
      return ['LOCKED', 'OUTPUT', 'LOG'].includes(tag!) ? `${tag}\t${unhex(hex ?? '')}` : line;
    }),
    actions: actions(result),
    left: result.scriptLeft,
  });

  scenario('a first deploy', (host) => {
    const first = deploy(host);
    return {
      ...outcome(first),
      tree: host.tree(...LOOK),
      records: records(host),
      list: host.read('/var/lib/svc/api-orders/installed.list'),
    };
  });

  scenario('a new release, with the old one running', (host) => {
    deploy(host);
    const second = deploy(host, { release: 'def456def456', before: 'systemctl start api-orders' });
    return { ...outcome(second), tree: host.tree('/var/www'), records: records(host) };
  });

  scenario('an unhealthy release, rolled back', (host) => {
    deploy(host);
    const bad = deploy(host, {
      release: 'bad000bad000',
      config: BAD_UNIT,
      before: 'systemctl start api-orders',
    });
    return {
      ...outcome(bad),
      tree: host.tree('/var/www'),
      unit: host.read('/etc/systemd/system/api-orders.service'),
      records: records(host),
    };
  });

  scenario('an unhealthy first deploy, undone', (host) => {
    const bad = deploy(host, { config: BAD_UNIT });
    return { ...outcome(bad), tree: host.tree(...LOOK), records: records(host) };
  });

  scenario('a deploy while another holds the lock', (host) => {
    deploy(host);
    const locked = deploy(host, {
      release: 'def456def456',
      before: `exec 8>>/var/lib/svc/locks/api-orders.lock; flock 8; printf '{"who":"other"}\\n123 456\\n' > /var/lib/svc/locks/api-orders.holder`,
    });
    return { ...outcome(locked), tree: host.tree('/var/www') };
  });

  scenario('a host that changed since the plan', (host) => {
    deploy(host);
    const stale = deploy(host, {
      release: 'def456def456',
      before: 'echo changed >> /etc/default/api-orders',
    });
    return { ...outcome(stale), tree: host.tree('/var/www') };
  });

  scenario('a failing install step', (host) => {
    deploy(host);
    const failed = deploy(host, {
      release: 'def456def456',
      manifest: { ...manifest, install: ['sh', '-c', 'echo "it broke" >&2; exit 3'] },
    });
    return { ...outcome(failed), tree: host.tree('/var/www') };
  });

  scenario('a deploy after one that was killed', (host) => {
    deploy(host);
    const next = deploy(host, {
      release: 'def456def456',
      before: `printf '{"who":"killed"}\\n1 2\\n' > /var/lib/svc/locks/api-orders.holder; mkdir /var/lib/svc/stage.api-orders.99999.XXXX`,
    });
    return { ...outcome(next), tree: host.tree('/var/lib/svc') };
  });
});
