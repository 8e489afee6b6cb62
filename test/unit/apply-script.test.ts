// The apply script generator: every script it writes parses with a real sh, quotes hostile paths,
// and carries only the files the plan needs.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  manifest,
  operations,
  SALT,
} from '../helpers/plan-fixtures.js';

function bundle(hostFacts: HostFacts, config = CONFIG, forManifest: Manifest = manifest) {
  const ops = resolveHomePaths(operations(config, forManifest), hostFacts.login.home);
  const plan = planHost('web1', ops, hostFacts, 'f'.repeat(64));
  const input: ApplyInput = {
    manifest: forManifest,
    operations: ops,
    plan,
    facts: hostFacts,
    factRequest: buildFactRequest(manifest, ops, 'deploy', false, SALT),
    holder: '{"who":"test"}',
    lockWaitSeconds: 0,
    healthTimeoutSeconds: 5,
    now: '2026-11-27T00:00:00.000Z',
    nonce: 'n0nce',
  };
  return buildApply(input, [
    { path: 'server.js', mode: 0o644, content: new TextEncoder().encode('x') },
  ]);
}

const parses = (script: string) => execFileSync('sh', ['-n'], { input: script, encoding: 'utf8' });

describe('buildApply', () => {
  it('writes a script sh can parse, for a first deploy', () => {
    const { script, entries, releaseId } = bundle(facts());
    expect(() => parses(script)).not.toThrow();
    expect(releaseId).toBe('abc123abc123');
    expect(entries.map((entry) => entry.path)).toEqual([
      'release/server.js',
      // Each under its temporary file's name, for install -t (apply-files.ts overlayEntry).
      'overlay/0/.api-orders.svc-new',
      'overlay/1/.api-orders.service.svc-new',
      'overlay/2/.api-orders.svc-new',
    ]);
    expect(script).toContain(
      `if [ "$digest" != ${'f'.repeat(64)} ]; then say "STALE"; exit 76; fi`,
    );
  });

  it('ships only what changed, and quotes a hostile path everywhere it appears', () => {
    const hostile = "etc/it's $(reboot) `id`.conf";
    const config = [...CONFIG, file(hostile, 'x\n')];
    const { script, entries } = bundle(deployedFacts(), config);
    expect(() => parses(script)).not.toThrow();
    expect(entries.map((entry) => entry.path)).toEqual([
      "overlay/0/.it's $(reboot) `id`.conf.svc-new",
    ]);
    expect(script).toContain(`"$stage/"'overlay/0/.it'\\''s $(reboot) \`id\`.conf.svc-new'`);
    expect(script).toContain(`'/etc/it'\\''s $(reboot) \`id\`.conf'`);
    expect(script).toContain(`'/etc/.it'\\''s $(reboot) \`id\`.conf.svc-new'`);
  });

  it('never puts a secret file in the script itself', () => {
    const { script } = bundle(facts());
    expect(script).not.toContain('hunter2');
  });

  it('writes nothing when nothing changed but still parses', () => {
    const { script, entries } = bundle(deployedFacts());
    expect(entries).toEqual([]);
    expect(() => parses(script)).not.toThrow();
  });

  /** The lines of the script's undo() function. */
  const undoLines = (script: string) => {
    const body = /^undo\(\) \{\n([\s\S]*?)\n\}$/m.exec(script)?.[1];
    expect(body).toBeDefined();
    return body!.split('\n');
  };
  const firstLine = (lines: string[], text: string) => {
    const index = lines.findIndex((line) => line.includes(text));
    expect(index, `${text} in undo()`).toBeGreaterThanOrEqual(0);
    return index;
  };

  const UNITS: Record<InitSystem, { unit: string; stop: string; unregister?: string }> = {
    systemd: {
      unit: 'etc/systemd/system/api-orders.service',
      stop: 'systemctl stop api-orders',
      unregister: 'systemctl disable --quiet api-orders',
    },
    openrc: {
      unit: 'etc/init.d/api-orders',
      stop: 'rc-service api-orders stop',
      unregister: 'rc-update del api-orders default',
    },
    upstart: { unit: 'etc/init/api-orders.conf', stop: 'initctl stop api-orders' },
    monit: {
      unit: 'usr/local/lib/svc/api-orders/ctl',
      stop: '/usr/local/lib/svc/api-orders/ctl stop',
    },
  };

  it.each(Object.keys(UNITS) as InitSystem[])(
    'undoing a first deploy (%s) stops the service while its unit and check exist, then removes them',
    (init) => {
      const { unit, stop, unregister } = UNITS[init];
      const config = [
        file('etc/default/api-orders', 'SECRET=hunter2\n', 0o600),
        file(unit, '#!/bin/sh\n', 0o755),
        file('etc/monit/conf.d/api-orders', 'check process api-orders\n'),
      ];
      const hostInit = init === 'monit' ? 'none' : init;
      const { script } = bundle(facts([], { init: hostInit }), config, { ...manifest, init });
      expect(() => parses(script)).not.toThrow();
      const lines = undoLines(script);
      const forgetCheck = firstLine(lines, 'monit reload && monit_gone');
      expect(firstLine(lines, 'rm -f -- /etc/monit/conf.d/api-orders')).toBeLessThan(forgetCheck);
      const stopped = firstLine(lines, stop);
      const unitRemoved = firstLine(lines, `rm -f -- /${unit}`);
      expect(forgetCheck).toBeLessThan(stopped);
      expect(stopped).toBeLessThan(unitRemoved);
      if (unregister) {
        const unregistered = firstLine(lines, unregister);
        expect(stopped).toBeLessThan(unregistered);
        expect(unregistered).toBeLessThan(unitRemoved);
      }
      if (init === 'systemd')
        expect(firstLine(lines, 'daemon-reload')).toBeGreaterThan(unitRemoved);
    },
  );

  it('undoing a redeploy puts the files back first, then restarts the previous release', () => {
    const changed = CONFIG.map((local) =>
      local.path.endsWith('.service')
        ? file(local.path, '[Service]\nExecStart=/bin/false\n')
        : local,
    );
    const lines = undoLines(bundle(deployedFacts(), changed).script);
    const restored = firstLine(lines, '/etc/systemd/system/api-orders.service.svc-old');
    expect(restored).toBeLessThan(firstLine(lines, 'systemctl restart api-orders'));
    expect(lines.join('\n')).not.toContain('systemctl stop');
  });

  it('asks for a start again only once its first request has ended (never two at once)', () => {
    const { script } = bundle(facts());
    expect(script).toContain('service_control & control_pid=$!');
    expect(script).toContain('proc_alive "$control_pid" || { service_control & control_pid=$!; }');
    expect(script.match(/service_control &/g)).toHaveLength(2);
  });
});
