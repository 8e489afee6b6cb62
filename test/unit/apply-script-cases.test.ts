// The apply script's decisions, one case each: which operation a change takes its commands from,
// what is left out when nothing calls for it, and which order undo puts things back in. The
// word-for-word copies (apply-script-golden.test.ts) cover whole deploys; these pin the branches
// no whole deploy reaches, with inputs edited after planning where a planner would never send them.
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import type { HostFacts } from '../../src/core/facts.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { NGINX_BINARY } from '../../src/core/cutover.js';
import type { Operation } from '../../src/core/operations.js';
import type { LocalFile } from '../../src/core/release.js';
import { applyInput, RELEASE_FILES, type Scenario } from '../helpers/apply-input.js';
import {
  CONFIG,
  PLAYBOOK,
  deployedFacts,
  facts,
  file,
  manifest,
} from '../helpers/plan-fixtures.js';

const build = (input: ApplyInput) => buildApply(input, RELEASE_FILES);
const scriptOf = (input: ApplyInput) => build(input).script;

/** The scenario's input with `edit` applied (operations or changes taken out or reordered). */
function edited(scenario: Scenario, edit: (input: ApplyInput) => void): ApplyInput {
  const input = applyInput(scenario);
  edit(input);
  return input;
}

const withoutOps = (keep: (op: Operation) => boolean) => (input: ApplyInput) => {
  input.operations = input.operations.filter(keep);
};

/** A host where `config` was deployed (the same bytes), under `init`. */
function deployedWith(config: LocalFile[], init: HostFacts['init'] = 'systemd'): () => HostFacts {
  return () => {
    const host = deployedFacts();
    host.init = init;
    for (const local of config) {
      const path = `/${local.path}`;
      host.paths.set(path, {
        path,
        type: 'file',
        mode: local.mode,
        owner: 'root',
        group: 'root',
        sha256: local.sha256,
        size: local.content.length,
      });
    }
    host.installed = config.map((local) => `/${local.path}`);
    host.installedSha256 = new Map(config.map((local) => [`/${local.path}`, local.sha256]));
    return host;
  };
}

const FIRST: Scenario = { facts: () => facts() };
const SITE = file('etc/nginx/sites-enabled/api-orders', 'server {}\n');
const BEHIND_NGINX = { ...manifest, appPort: 3001 } as Manifest;

/** The script's lines, undo's steps unnumbered (a step fewer renumbers those after it). */
const lines = (script: string) =>
  script.split('\n').map((line) => line.replace(/undo step \d+ failed/, 'undo step N failed'));

describe('a planned change whose operation is missing writes nothing for it', () => {
  const cases: [string, (op: Operation) => boolean, string][] = [
    ['user', (op) => op.kind !== 'user', 'useradd '],
    [
      'dir',
      (op) => !(op.kind === 'dir' && op.path === '/var/log/api-orders'),
      'mkdir -m 0750 -- /var/log/api-orders',
    ],
    [
      'link',
      (op) => !(op.kind === 'link' && op.path === '/home/deploy/service/api-orders'),
      'ln -s -T -- /var/www/api-orders/current /home/deploy/service/api-orders',
    ],
    ['release', (op) => op.kind !== 'release', 'cp -a -T -- "$stage/release"'],
  ];
  it.each(cases)('%s', (_kind, keep, command) => {
    const whole = lines(scriptOf(applyInput(FIRST)));
    const without = lines(scriptOf(edited(FIRST, withoutOps(keep))));
    expect(whole.join('\n')).toContain(command);
    // Nothing in its place: every line left is one the whole script has, and what went is its.
    expect(
      without.filter((line) => !whole.includes(line)),
      'lines added',
    ).toEqual([]);
    const gone = whole.filter((line) => !without.includes(line));
    expect(gone.some((line) => line.includes(command))).toBe(true);
    expect(without.join('\n')).not.toContain(command);
  });

  it('no release operation and no release change: nothing of a release is shipped', () => {
    const input = edited(FIRST, (plain) => {
      plain.operations = plain.operations.filter((op) => op.kind !== 'release');
      plain.plan.changes = plain.plan.changes.filter((change) => change.kind !== 'release');
    });
    const bundle = build(input);
    expect(bundle.entries.filter((entry) => entry.path.startsWith('release'))).toEqual([]);
  });
});

describe('a user change takes the operation of the user it names', () => {
  const useradd = (name: string, home: string) =>
    `if getent group ${name} >/dev/null; then useradd --system --no-create-home --home-dir ${home} --shell /usr/sbin/nologin -g ${name} ${name}; else useradd --system --no-create-home --home-dir ${home} --shell /usr/sbin/nologin --user-group ${name}; fi`;
  it('not another user, nor another operation with the same name', () => {
    const input = edited(FIRST, (reordered) => {
      const service = reordered.operations.find((op) => op.kind === 'service')!;
      reordered.operations = [
        service,
        { kind: 'user', name: 'someone-else', home: '/var/db/someone-else' },
        ...reordered.operations.filter((op) => op !== service),
      ];
    });
    const script = scriptOf(input);
    expect(script).toContain(useradd('api-orders', '/var/db/api-orders'));
    expect(script).not.toContain('someone-else');
  });
});

describe('the release id comes from the link operation at current', () => {
  it('another link listed first does not stand in for it', () => {
    const input = edited(FIRST, (reordered) => {
      const links = reordered.operations.filter((op) => op.kind === 'link');
      reordered.operations = [
        ...links.reverse(),
        ...reordered.operations.filter((op) => op.kind !== 'link'),
      ];
    });
    expect(build(input).releaseId).toBe('abc123abc123');
  });

  it('a target outside releases/ is taken as it is', () => {
    const input = edited(FIRST, (moved) => {
      for (const op of moved.operations)
        if (op.kind === 'link' && op.path === '/var/www/api-orders/current')
          op.target = 'old/releases/abc123abc123';
    });
    expect(build(input).releaseId).toBe('old/releases/abc123abc123');
  });

  it('current moving with no operation for it: no release id, and no link written', () => {
    const input = edited(
      FIRST,
      withoutOps((op) => !(op.kind === 'link' && op.path === '/var/www/api-orders/current')),
    );
    const bundle = build(input);
    expect('releaseId' in bundle).toBe(false);
    expect(bundle.script).toContain('say "DONE	-"');
  });

  it('the release before is named as current pointed, a link svc did not write included', () => {
    const host = deployedFacts();
    host.paths.set('/var/www/api-orders/current', {
      path: '/var/www/api-orders/current',
      type: 'link',
      target: '/srv/releases/abc123abc123',
    });
    expect(build(applyInput({ facts: () => host })).previousId).toBe('/srv/releases/abc123abc123');
  });

  it('neither id is there when there is none', () => {
    const first = build(applyInput(FIRST));
    expect('previousId' in first).toBe(false);
    const configOnly = build(
      applyInput({
        facts: deployedFacts,
        config: [...CONFIG.slice(1), file('etc/default/api-orders', 'SECRET=other\n', 0o600)],
      }),
    );
    expect('releaseId' in configOnly).toBe(false);
    expect(configOnly.previousId).toBe('abc123abc123');
  });
});

describe('the install step', () => {
  it('is named in its step line without the characters that would end the string', () => {
    const input = applyInput({
      facts: () => facts(),
      manifest: { ...manifest, install: ['sh', '-c', 'echo "$HOME" `id` \\x'] },
    });
    expect(scriptOf(input)).toContain('say "STEP	installing: sh -c echo HOME id x"\n');
  });
});

describe('registering the unit again only when it changed', () => {
  const unitOf: Partial<Record<InitSystem, [string, string]>> = {
    openrc: ['etc/init.d/api-orders', 'rc-update add api-orders default >/dev/null'],
    upstart: ['etc/init/api-orders.conf', 'initctl reload-configuration'],
    systemd: ['etc/systemd/system/api-orders.service', 'systemctl enable --quiet api-orders'],
  };
  it.each(Object.entries(unitOf))('%s', (init, [unit, register]) => {
    const config = [
      file('etc/default/api-orders', 'SECRET=hunter2\n', 0o600),
      file(unit, '#!/bin/sh\n', 0o755),
      file('etc/monit/conf.d/api-orders', 'check process api-orders\n'),
    ];
    const scenario = {
      manifest: { ...manifest, init: init as InitSystem },
      config,
      release: 'def456def456',
    };
    const same = scriptOf(
      applyInput({ ...scenario, facts: deployedWith(config, init as HostFacts['init']) }),
    );
    expect(same).not.toContain(register);
    // Nothing else in its place: the start begins with the process as found.
    const afterFiles = same.split('\n')[same.split('\n').indexOf('activated=1') + 1];
    expect(afterFiles).toMatch(/^read_pid /);
    const changed = config.map((local) =>
      local.path === unit ? file(unit, '#!/bin/sh\n# changed\n', 0o755) : local,
    );
    const registered = scriptOf(
      applyInput({ ...scenario, facts: deployedWith(changed, init as HostFacts['init']) }),
    );
    expect(registered).toContain(register);
  });
});

describe('health checks that are not there or not a URL', () => {
  const NO_HEALTH = PLAYBOOK.replace(/^- health:.*\n/m, '');
  const ENV_CHANGED = [...CONFIG.slice(1), file('etc/default/api-orders', 'SECRET=new\n', 0o600)];

  it('no health operation: the gate is `true`, on a first deploy and on a rollback', () => {
    expect(NO_HEALTH).not.toBe(PLAYBOOK);
    const first = scriptOf(applyInput({ facts: () => facts(), playbook: NO_HEALTH }));
    expect(first).toContain('if ! true; then rollback; fi');
    const again = scriptOf(
      applyInput({ facts: deployedFacts, playbook: NO_HEALTH, config: ENV_CHANGED }),
    );
    expect(again).toContain('[ "$back" != 0 ] || true || back=$?');
  });

  it('a pidfile health check after the env file changed: the rollback watches the pidfile', () => {
    const script = scriptOf(
      applyInput({
        facts: deployedFacts,
        manifest: { ...manifest, port: undefined } as Manifest,
        config: ENV_CHANGED,
      }),
    );
    expect(script).toMatch(/\[ "\$back" != 0 \] \|\| wait_healthy pid \S+ 30 \|\| back=\$\?/);
    expect(script).not.toContain('env_port /etc/default/api-orders;');
  });
});

describe('records', () => {
  it('a file changed on a host with no records of what svc installed is adopted', () => {
    const host = deployedFacts();
    delete host.installed;
    const script = scriptOf(
      applyInput({
        facts: () => host,
        config: [...CONFIG.slice(1), file('etc/default/api-orders', 'SECRET=new\n', 0o600)],
      }),
    );
    expect(script).toContain(
      'cp -p -P -T --remove-destination -- /etc/default/api-orders /var/lib/svc/api-orders/adopted/',
    );
  });
});

describe('the records a rollback writes are the ones before the deploy', () => {
  it('with the hashes svc installed and the files it adopted', () => {
    const host = deployedFacts();
    host.installedSha256 = new Map(CONFIG.map((local) => [`/${local.path}`, local.sha256]));
    host.adopted = new Set(['/etc/default/api-orders']);
    const script = scriptOf(applyInput({ facts: () => host, release: 'def456def456' }));
    const rollback = script.slice(script.indexOf('\nrollback() {'));
    // printf's format ends in a newline the script holds as it is.
    const json = /printf '%s\n' '(\{"version":1[^']*)' > /.exec(rollback)?.[1];
    expect(JSON.parse(json!)).toMatchObject({
      files: CONFIG.map((local) => `/${local.path}`),
      sha256: CONFIG.map((local) => local.sha256),
      adopted: ['/etc/default/api-orders'],
    });
  });
});

describe('monit on a first deploy and in undo', () => {
  const MONIT_GONE = 'monit reload && monit_gone api-orders';
  it('monit: false: undo has no check to take away', () => {
    const script = scriptOf(
      applyInput({
        facts: () => facts(),
        manifest: { ...manifest, monit: false },
        playbook: PLAYBOOK.replace(/^- monit:.*\n/m, ''),
      }),
    );
    expect(script).toContain(
      '{ [ "$activated" != 1 ] || { systemctl stop api-orders </dev/null 3>&- 9>&-; }; } || say "WARNING	undo step 1 failed"',
    );
    expect(script).not.toContain(MONIT_GONE);
  });

  it('a check this deploy did not write is not taken away by its undo', () => {
    expect(scriptOf(applyInput(FIRST))).toContain(MONIT_GONE);
    const input = edited(FIRST, (kept) => {
      kept.plan.changes = kept.plan.changes.filter(
        (change) => change.target !== '/etc/monit/conf.d/api-orders' && change.kind !== 'monit',
      );
    });
    expect(scriptOf(input)).not.toContain(MONIT_GONE);
  });

  it('a changed check on a redeploy: undo has monit load the old one before the restart', () => {
    const script = scriptOf(
      applyInput({
        facts: deployedFacts,
        config: [...CONFIG.slice(0, 2), file('etc/monit/conf.d/api-orders', 'check process x\n')],
        release: 'def456def456',
      }),
    );
    expect(script).toContain(
      '{ [ "$activated" != 1 ] || { monit reload && monit_ready api-orders; }; }',
    );
  });

  it('a monit reload with no service to start (a static site): nothing waits for its check', () => {
    const input = edited(
      {
        facts: () => facts(),
        manifest: { ...manifest, init: undefined, monit: false, runtime: 'static' } as Manifest,
        config: [SITE],
      },
      (site) => {
        site.plan.changes.push({
          action: 'reload',
          kind: 'monit',
          target: 'api-orders',
          reasons: [],
        });
      },
    );
    const script = scriptOf(input);
    expect(script).toContain('monit_ready api-orders ||');
    expect(script).not.toContain('monit_checked api-orders');
  });
});

describe('a node site behind nginx', () => {
  const nginxBack = 'nginx -t && reload_nginx';
  const undoLines = (script: string) =>
    script.split('\n').filter((line) => line.includes('|| say "WARNING	undo step'));

  it('a site that was there already: undo stops the new release before nginx takes the port', () => {
    const changedSite = file('etc/nginx/sites-enabled/api-orders', 'server { listen 3000; }\n');
    const oldSite = deployedWith([...CONFIG, SITE]);
    const script = scriptOf(
      applyInput({
        facts: oldSite,
        manifest: BEHIND_NGINX,
        config: [...CONFIG, changedSite, file('etc/extra.conf', 'new\n')],
        release: 'def456def456',
      }),
    );
    const undo = undoLines(script);
    expect(undo.at(-1)).toContain(`{ ${nginxBack}; }`);
    expect(script).not.toContain('port_free "$port" 100');
  });

  it('a site this deploy puts there: nginx lets go of the port first', () => {
    const script = scriptOf(
      applyInput({
        facts: deployedFacts,
        manifest: BEHIND_NGINX,
        config: [...CONFIG, SITE],
        release: 'def456def456',
      }),
    );
    expect(script).toContain('port_free "$port" 100');
  });

  it('an unchanged site: no check for another default site on its port', () => {
    const script = scriptOf(
      applyInput({
        facts: deployedWith([...CONFIG, SITE]),
        manifest: BEHIND_NGINX,
        config: [...CONFIG, SITE],
        release: 'def456def456',
      }),
    );
    expect(script).toContain('service_control & control_pid=$!');
    expect(script).not.toContain('listener_elsewhere 3000');
  });

  const frontGate = 'wait_front http';
  const firstBehind: Scenario = {
    facts: () => facts(),
    manifest: BEHIND_NGINX,
    config: [...CONFIG, SITE],
  };
  it('asks nginx for the health path, or / when svc.yaml names none', () => {
    expect(scriptOf(applyInput(firstBehind))).toContain(`${frontGate}://127.0.0.1:3000/ok '' `);
    const input = applyInput(firstBehind);
    input.manifest = { ...input.manifest, health: undefined } as Manifest;
    expect(scriptOf(input)).toContain(`${frontGate}://127.0.0.1:3000/ '' `);
  });

  const noFrontGate: [string, (input: ApplyInput) => void][] = [
    [
      'no port',
      (input) => {
        input.manifest = { ...input.manifest, port: undefined } as Manifest;
      },
    ],
    [
      'a pidfile health check',
      (input) => {
        input.operations = input.operations.map((op) =>
          op.kind === 'health' ? { kind: 'health', pidfile: '/run/x.pid', timeoutSeconds: 5 } : op,
        );
      },
    ],
    ['no health check', withoutOps((op) => op.kind !== 'health')],
  ];
  it.each(noFrontGate)('%s: nothing is asked through nginx', (_why, edit) => {
    expect(scriptOf(edited(firstBehind, edit))).not.toContain(frontGate);
  });
});

describe('a prune with no new release', () => {
  it('ships no release files', () => {
    const host = deployedFacts();
    host.releases = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'abc123abc123'];
    for (const id of host.releases)
      host.paths.set(`/var/www/api-orders/releases/${id}`, {
        path: `/var/www/api-orders/releases/${id}`,
        type: 'dir',
        mode: 0o755,
        owner: 'root',
        group: 'root',
      });
    host.history = host.releases.map((id) => ({ id, status: 'good' as const, at: 'then' }));
    const input = applyInput({ facts: () => host, release: 'def456def456' });
    expect(input.plan.changes.some((c) => c.kind === 'release' && c.action === 'delete')).toBe(
      true,
    );
    input.plan.changes = input.plan.changes.filter(
      (change) => !(change.kind === 'release' && change.action === 'create'),
    );
    const bundle = build(input);
    expect(bundle.entries.filter((entry) => entry.path.startsWith('release/'))).toEqual([]);
  });
});

describe('a service with a cutover', () => {
  const SWITCH: Scenario = {
    facts: () => facts([{ path: NGINX_BINARY, type: 'file', mode: 0o755 }]),
    manifest: { ...manifest, cutover: 'switch', monit: false } as Manifest,
    config: [
      file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node x\n'),
      file('etc/nginx/sites-enabled/api-orders.conf', 'upstream u { server 127.0.0.1:1; }\n'),
    ],
  };
  it('is switched when the plan says switch, and only then', () => {
    const started = 'say "STEP	slot a (port 13000) started and healthy"';
    expect(scriptOf(applyInput(SWITCH))).toContain(started);
    const unswitched = edited(SWITCH, (input) => {
      input.plan.changes = input.plan.changes.filter((change) => change.action !== 'switch');
    });
    expect(scriptOf(unswitched)).not.toContain(started);
  });
});

// The survivors of `stryker run --mutate src/core/apply-script.ts` (issue 17), one case each.
describe('what decides the switch, the release id and the history record', () => {
  const CURRENT = '/var/www/api-orders/current';
  const SWITCH: Scenario = {
    facts: () => facts([{ path: NGINX_BINARY, type: 'file', mode: 0o755 }]),
    manifest: { ...manifest, cutover: 'switch', monit: false } as Manifest,
    config: [
      file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node x\n'),
      file('etc/nginx/sites-enabled/api-orders.conf', 'upstream u { server 127.0.0.1:1; }\n'),
    ],
  };
  const STARTED = 'say "STEP	slot a (port 13000) started and healthy"';
  const notSwitched = (input: ApplyInput) => {
    input.plan.changes = input.plan.changes.filter((change) => change.action !== 'switch');
  };

  it("another operation at current's path, listed before its link, does not stand in for it", () => {
    const input = edited(FIRST, (crowded) => {
      crowded.operations = [
        { kind: 'dir', path: CURRENT, mode: 0o755, owner: 'root', group: 'root' },
        ...crowded.operations,
      ];
    });
    expect(build(input).releaseId).toBe('abc123abc123');
  });

  it('only the service change marked switch makes a switch: another change so marked does not', () => {
    const input = edited(SWITCH, (marked) => {
      notSwitched(marked);
      marked.plan.changes.push({
        action: 'switch',
        kind: 'monit',
        target: 'api-orders',
        reasons: [],
      });
    });
    const script = scriptOf(input);
    expect(script).not.toContain(STARTED);
    expect(script).not.toContain('slot_started()');
  });

  it('a switch change for a service without a cutover restarts it in place', () => {
    const input = edited(SWITCH, (plain) => {
      plain.operations = plain.operations.map((op) =>
        op.kind === 'service' ? { ...op, cutover: undefined } : op,
      );
    });
    const script = scriptOf(input);
    expect(script).not.toContain(STARTED);
    expect(script).toContain('service_control & control_pid=$!');
  });

  it("a switch service whose monit check alone changed: monit is waited on for both slots' checks", () => {
    const input = edited(
      {
        ...SWITCH,
        manifest: { ...manifest, cutover: 'switch', monit: true } as Manifest,
        config: [...SWITCH.config!, file('etc/monit/conf.d/api-orders', 'check process x\n')],
      },
      notSwitched,
    );
    const ready = lines(scriptOf(input)).filter((line) => line.startsWith('monit_ready '));
    expect(ready).toEqual([
      'monit_ready api-orders-a || { say "FAIL	monit did not load the check for api-orders-a"; exit 1; }',
      'monit_ready api-orders-b || { say "FAIL	monit did not load the check for api-orders-b"; exit 1; }',
    ]);
  });

  it('the history record of a rollback (a pinned release) says rollback, of a deploy deploy', () => {
    const begins = (script: string) => lines(script).filter((line) => /^hist_begin /.test(line));
    const deploy = applyInput({ facts: deployedFacts, release: 'def456def456' });
    expect(begins(scriptOf(deploy)).map((line) => line.split(' ')[1])).toEqual(['deploy']);
    const rollback = edited({ facts: deployedFacts, release: 'def456def456' }, (pinned) => {
      pinned.operations = pinned.operations.map((op) =>
        op.kind === 'release' ? { ...op, pinned: true as const } : op,
      );
    });
    expect(begins(scriptOf(rollback)).map((line) => line.split(' ')[1])).toEqual(['rollback']);
  });

  it('the history directory is named in its failure line without the characters that would end the string', () => {
    const input = applyInput({
      facts: () => facts(),
      manifest: { ...manifest, name: 'api-"or$d`e\\rs' } as Manifest,
    });
    expect(scriptOf(input)).toContain(
      `say "FAIL	svc cannot keep its history in /var/lib/svc/api-orders/history (not root's own private directory, or not writable)"; exit 1; }`,
    );
  });
});
