// Where the service's process is (src/core/service-process.ts), run by the real sh: a pidfile's
// content as tables of cases (only a live pid counts: no 0, no garbage, no process that is gone),
// systemctl show's lines read by key, and under cutover: switch the slot the upstream file names
// at each call (so a long-lived reader follows a switch), with the other slot's process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotPidfile, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import type { Manifest } from '../../src/core/manifest.js';
import { serviceProcessFunctions } from '../../src/core/service-process.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-service-process-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The functions (set -eu, as the lifecycle scripts run them), then `body`; its stdout. */
function sh(manifest: Manifest, body: string, moved: [string, string][] = []): string {
  let script = [
    'set -eu',
    `name=${manifest.name} init=${manifest.init ?? 'none'} pidfile=${join(dir, 'pid')}`,
    serviceProcessFunctions(manifest),
    body,
  ].join('\n');
  for (const [from, to] of moved) script = script.replaceAll(from, to);
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('the pid a pidfile names', () => {
  const plain: Manifest = { ...base, init: 'monit' };
  const cases: [string, string | undefined, string][] = [
    ['a live pid', `${process.pid}\n`, String(process.pid)],
    ['a live pid without a newline, with spaces', `  ${process.pid}  `, String(process.pid)],
    ['no pidfile', undefined, ''],
    ['an empty pidfile', '', ''],
    ['0 (kill -0 0 would ask the whole process group)', '0\n', ''],
    ['a leading zero', `0${process.pid}\n`, ''],
    ['not a number', 'abc\n', ''],
    ['a number and more', `${process.pid}x\n`, ''],
    ['ten digits or more', '1234567890\n', ''],
    ['a process that is gone', '4194304\n', ''],
  ];
  it.each(cases)('%s', (_, content, want) => {
    rmSync(join(dir, 'pid'), { force: true });
    if (content !== undefined) writeFileSync(join(dir, 'pid'), content);
    expect(sh(plain, 'service_pid; printf "[%s]" "$pid"; printf "[%s]" "$(main_pid)"')).toBe(
      `[${want}][${want}]`,
    );
  });
});

describe("systemctl show's lines", () => {
  const show = 'MainPID=42\nActiveState=active\nSubState=running\nNRestarts=3\nX_ActiveState=no';
  it.each([
    ['MainPID', '42'],
    ['ActiveState', 'active'],
    ['SubState', 'running'],
    ['NRestarts', '3'],
    ['State', ''],
    ['Missing', ''],
  ])('%s is %o', (key, want) => {
    expect(sh(base, `show='${show}'; prop ${key}; printf '[%s]' "$v"`)).toBe(`[${want}]`);
  });
});

describe('cutover: switch', () => {
  const manifest: Manifest = {
    ...base,
    name: 'api-sp',
    init: 'monit',
    monit: true,
    port: 3000,
    cutover: 'switch',
  };
  const [a, b] = slotsOf(manifest);
  const moved = (): [string, string][] =>
    [upstreamFile(manifest.name), slotPidfile(manifest.name, a), slotPidfile(manifest.name, b)].map(
      (path) => [path, join(dir, path.replaceAll('/', '_'))],
    );
  const at = (path: string) => join(dir, path.replaceAll('/', '_'));
  const report =
    'service_pid; idle_slot_pid; printf "%s|%s|%s|%s|%s|%s\\n" "$slot" "$name" "$check" "$pid" "${idle_slot:-}" "$idle_pid"';

  it('follows the upstream file at each call, and names the other slot while it runs', () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(at(slotPidfile(manifest.name, a)), `${process.pid}\n`);
      writeFileSync(at(slotPidfile(manifest.name, b)), `${other.pid}\n`);
      const switchTo = (slot: typeof a) =>
        `printf '%s' '${upstreamText(manifest.name, slot).replaceAll("'", "'\\''")}' > ${at(upstreamFile(manifest.name))}`;
      const out = sh(
        manifest,
        [
          `rm -f ${at(upstreamFile(manifest.name))}`,
          report,
          switchTo(a),
          report,
          switchTo(b),
          report,
          `printf 'server 127.0.0.1:9;\\n' > ${at(upstreamFile(manifest.name))}`,
          report,
        ].join('\n'),
        moved(),
      );
      expect(out.split('\n')).toStrictEqual([
        // No switch deploy yet: the service's own names, no slot.
        `|api-sp||||`,
        `a|api-sp|api-sp-a|${process.pid}|b|${other.pid}`,
        `b|api-sp|api-sp-b|${other.pid}|a|${process.pid}`,
        // A port that is neither slot's: no slot, as before the first switch.
        `|api-sp||||`,
        '',
      ]);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
