// The apply script records a new release's file list in svc's root-only state once the release
// has its name, ships the list in the tar stream, and removes a pruned release's list with it.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import { resolveHomePaths, type Operation } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import { releaseFilesOf, releaseFilesText } from '../../src/core/release-files.js';
import {
  recordMissingReleaseFiles,
  recordReleaseFiles,
  releaseFilesEntry,
  RELEASE_FILES_ENTRY,
} from '../../src/core/release-record.js';
import {
  SALT,
  deployedFacts,
  facts,
  file,
  manifest,
  operations,
} from '../helpers/plan-fixtures.js';

const SERVER = file('server.js', 'x');

function bundle(hostFacts: HostFacts, withFiles = true) {
  const ops: Operation[] = resolveHomePaths(operations(), hostFacts.login.home).map((op) =>
    op.kind === 'release' && withFiles ? { ...op, local: [SERVER] } : op,
  );
  const plan = planHost('web1', ops, hostFacts, 'f'.repeat(64));
  const input: ApplyInput = {
    manifest,
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
  return buildApply(input, [{ path: 'server.js', mode: 0o644, content: SERVER.content }]);
}

const lines = (script: string) => script.split('\n');

describe('recording a release file list', () => {
  it('ships the list beside the release, and writes it after the release got its name', () => {
    const { script, entries } = bundle(facts());
    expect(() => execFileSync('sh', ['-n'], { input: script })).not.toThrow();
    expect(entries.map((entry) => entry.path)).toEqual([
      'release/server.js',
      RELEASE_FILES_ENTRY,
      'overlay/0/.api-orders.svc-new',
      'overlay/1/.api-orders.service.svc-new',
      'overlay/2/.api-orders.svc-new',
    ]);
    const list = entries.find((entry) => entry.path === RELEASE_FILES_ENTRY)!;
    expect(list.mode).toBe(0o600);
    expect(new TextDecoder().decode(list.content)).toBe(releaseFilesText(releaseFilesOf([SERVER])));
    const all = lines(script);
    const renamed = all.indexOf(
      'mv -f -T -- /var/www/api-orders/releases/.abc123abc123.partial /var/www/api-orders/releases/abc123abc123',
    );
    const written = all.indexOf(
      'mv -f -T -- /var/lib/svc/api-orders/releases/.abc123abc123.svc-new /var/lib/svc/api-orders/releases/abc123abc123',
    );
    expect(renamed).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(renamed);
    expect(all.slice(renamed + 1, written + 1).join('\n')).toBe(
      recordReleaseFiles('api-orders', 'abc123abc123').join('\n'),
    );
  });

  it('the list goes to a temporary name in a root-only directory, then is renamed', () => {
    // NAME/ checked at hist_begin or made by this run: made if missing, no stat; releases/
    // checked when there. No rm first: cp --remove-destination removes what is there.
    expect(recordReleaseFiles('api-orders', 'abc123abc123')).toEqual([
      '[ -d /var/lib/svc/api-orders ] && [ ! -L /var/lib/svc/api-orders ] || mkdir -m 0700 -- /var/lib/svc/api-orders',
      expect.stringMatching(
        /^if \[ -d \/var\/lib\/svc\/api-orders\/releases \] && \[ ! -L \/var\/lib\/svc\/api-orders\/releases \]; then\n[^]*stat -c[^]*\nelse mkdir -m 0700 -- \/var\/lib\/svc\/api-orders\/releases; fi$/,
      ),
      'cp -p -P -T --remove-destination -- "$stage/release-files" /var/lib/svc/api-orders/releases/.abc123abc123.svc-new',
      'mv -f -T -- /var/lib/svc/api-orders/releases/.abc123abc123.svc-new /var/lib/svc/api-orders/releases/abc123abc123',
    ]);
  });

  it('a release without its files (a rollback) ships and records no list', () => {
    const { script, entries } = bundle(facts(), false);
    expect(entries.map((entry) => entry.path)).not.toContain(RELEASE_FILES_ENTRY);
    expect(script).not.toContain('/var/lib/svc/api-orders/releases/');
    expect(releaseFilesEntry(undefined)).toEqual([]);
  });

  it('a redeploy of a release already there records its list only where the host lacks it', () => {
    const { script, entries } = bundle(deployedFacts());
    expect(() => execFileSync('sh', ['-n'], { input: script })).not.toThrow();
    expect(entries.map((entry) => entry.path)).toContain(RELEASE_FILES_ENTRY);
    const guarded = recordMissingReleaseFiles(
      'api-orders',
      'abc123abc123',
      '/var/www/api-orders/releases/abc123abc123',
    );
    expect(guarded.split('\n')[0]).toBe(
      'if [ -d /var/www/api-orders/releases/abc123abc123 ] && [ ! -L /var/www/api-orders/releases/abc123abc123 ] && [ ! -e /var/lib/svc/api-orders/releases/abc123abc123 ]; then',
    );
    // Before the service is touched: with the files, not after a restart that may roll back.
    const all = script.indexOf(guarded);
    expect(all).toBeGreaterThan(0);
    expect(all).toBeLessThan(script.indexOf('say "STEP\tfiles in place"'));
    expect(script.split('$stage/release-files')).toHaveLength(2);
  });

  it('a pruned release takes its list with it', () => {
    const old = ['000000000001', '000000000002', '000000000003', '000000000004', '000000000005'];
    const host = deployedFacts();
    host.releases = [...old, 'abc123abc123'];
    host.history = old.map((id) => ({ id, status: 'good', at: '2026-01-01T00:00:00Z' }));
    const { script } = bundle({
      ...host,
      paths: new Map([...host.paths].filter(([path]) => !path.includes('abc123abc123'))),
    });
    const all = lines(script);
    // Unless `current` leads into it when the host comes to it (pruneRelease's guard).
    expect(all).toContain(
      'else rm -rf -- /var/www/api-orders/releases/000000000001; rm -f -- /var/lib/svc/api-orders/releases/000000000001; fi',
    );
    expect(script).not.toContain('releases/000000000002\n');
  });

  it('the records keep the mark of every release still on the host, past 20 deploys', () => {
    const host = deployedFacts();
    // 'old00000000b' failed its gate first of all, then 24 good deploys of ten releases.
    const ids = Array.from({ length: 10 }, (_, index) => `r0000000000${index}`);
    host.releases = ['old00000000b', ...ids.slice(-3), 'abc123abc123'];
    host.history = [
      { id: 'old00000000b', status: 'bad', at: 't0' },
      ...Array.from({ length: 24 }, (_, index) => ({
        id: ids[index % 10]!,
        status: 'good' as const,
        at: `t${index + 1}`,
      })),
    ];
    const { script } = bundle({
      ...host,
      paths: new Map([...host.paths].filter(([path]) => !path.includes('abc123abc123'))),
    });
    // Twice: the rollback function's records (a failed gate), then the healthy deploy's.
    const written = [
      ...script.matchAll(/' '(\{.*\})' > \/var\/lib\/svc\/api-orders\/installed\.json\.svc-new$/gm),
    ].map((match) => (JSON.parse(match[1]!) as { history: { id: string }[] }).history);
    const last20 = Array.from({ length: 20 }, (_, index) => ids[(index + 4) % 10]);
    expect(written.map((history) => history.map((entry) => entry.id))).toEqual([
      // Nothing pruned: the bad release is still there, and so is its mark.
      ['old00000000b', ...last20],
      // The healthy deploy prunes the bad release: its mark goes with it.
      last20,
    ]);
  });
});
