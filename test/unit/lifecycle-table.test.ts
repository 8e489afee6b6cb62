// The lifecycle commands' scripts and parsers (src/core/lifecycle.ts). The parsers as tables of
// outputs, each with the exact status or error line; the status, releases and unlock scripts run
// by a real sh against a scratch copy of the layout (only the path variables are moved there), so
// what the parser expects is what the script prints.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPaths } from '../../src/core/apply-script.js';
import { hostLayout, servicePidFile } from '../../src/core/layout.js';
import {
  controlScript,
  parseReleases,
  parseStatus,
  releasesScript,
  statusScript,
  stopHolderScript,
  unlockScript,
  type ServiceStatus,
} from '../../src/core/lifecycle.js';
import type { Manifest } from '../../src/core/manifest.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

const hex = (text: string) => Buffer.from(text).toString('hex');
const status = (values: Record<string, string>) =>
  Object.entries(values)
    .map(([key, value]) => `${key}\t${hex(value)}`)
    .join('\n');
const ALL = { release: 'abc', pid: '42', uptime: '7', health: '200', monit: 'OK', last: '' };
const LAST = '1\t2026-12-06T08:01:02Z\tdeploy\tana@laptop\t0.4.0\t-\tabcabcabcabc\tdeployed\t9\t';
const worker: Manifest = { ...base, port: undefined, health: undefined };
const site: Manifest = { ...base, runtime: 'static', init: undefined, monit: false };

describe('parseStatus', () => {
  const cases: [string, string, Manifest, ServiceStatus][] = [
    [
      'everything reported',
      status(ALL),
      base,
      { release: 'abc', running: true, pid: 42, uptimeSeconds: 7, health: 200, monit: 'OK' },
    ],
    [
      'nothing running, no release, no monit',
      status({ release: '', pid: '', uptime: '', health: '000', monit: '', last: '' }),
      base,
      { release: '-', running: false, health: 0 },
    ],
    [
      'a worker (no port): no health',
      status({ ...ALL, health: '' }),
      worker,
      { release: 'abc', running: true, pid: 42, uptimeSeconds: 7, monit: 'OK' },
    ],
    [
      'values that are not numbers are not taken for numbers',
      status({ ...ALL, pid: '42x', uptime: '7 ', health: 'ok' }),
      base,
      { release: 'abc', running: false, health: 0, monit: 'OK' },
    ],
    [
      'a static site is running when its health path answers 200',
      status({ ...ALL, pid: '' }),
      site,
      { release: 'abc', running: true, uptimeSeconds: 7, health: 200, monit: 'OK' },
    ],
    [
      'a static site answering 503 is not running, whatever the pid',
      status({ ...ALL, health: '503' }),
      site,
      { release: 'abc', running: false, pid: 42, uptimeSeconds: 7, health: 503, monit: 'OK' },
    ],
    [
      'lines in any order, around blank space',
      `\n${status({ last: '', monit: 'Not monitored', health: '0', uptime: '', pid: '', release: 'r1' })}\n\n`,
      base,
      { release: 'r1', running: false, health: 0, monit: 'Not monitored' },
    ],
    [
      "the history's last deploy",
      status({ ...ALL, last: LAST }),
      base,
      {
        release: 'abc',
        running: true,
        pid: 42,
        uptimeSeconds: 7,
        health: 200,
        monit: 'OK',
        lastDeploy: {
          at: '2026-12-06T08:01:02Z',
          action: 'deploy',
          operator: 'ana@laptop',
          svcVersion: '0.4.0',
          before: '-',
          after: 'abcabcabcabc',
          result: 'deployed',
          seconds: 9,
          reason: '',
        },
      },
    ],
    [
      'a last line that is not a record is no last deploy',
      status({ ...ALL, last: LAST.replace('deploy\t', 'deploy\u001b\t') }),
      base,
      { release: 'abc', running: true, pid: 42, uptimeSeconds: 7, health: 200, monit: 'OK' },
    ],
  ];
  it.each(cases)('%s', (_, output, manifest, want) => {
    expect(parseStatus(output, 'web1', manifest)).toStrictEqual(want);
  });

  const errors: [string, string, string][] = [
    ['an unknown key', `${status(ALL)}\nshell\t00`, 'web1: unexpected status output "shell\\t00"'],
    ['a line without a value', `${status(ALL)}\npid`, 'web1: unexpected status output "pid"'],
    [
      'a third field',
      `${status(ALL)}\npid\t34\tx`,
      'web1: unexpected status output "pid\\t34\\tx"',
    ],
    [
      'a value that is not hex',
      `${status(ALL)}\npid\t3g`,
      'web1: unexpected status output "pid\\t3g"',
    ],
    [
      'a value with an odd length',
      `${status(ALL)}\npid\t343`,
      'web1: unexpected status output "pid\\t343"',
    ],
    ['upper-case hex', `${status(ALL)}\npid\t3A`, 'web1: unexpected status output "pid\\t3A"'],
    [
      'hex after other text',
      `${status(ALL)}\npid\tzz34`,
      'web1: unexpected status output "pid\\tzz34"',
    ],
    [
      'a long bad line, cut at 60 characters',
      `${status(ALL)}\n${'x'.repeat(100)}`,
      `web1: unexpected status output "${'x'.repeat(60)}"`,
    ],
    [
      'a missing key',
      status({ release: 'abc', pid: '42', uptime: '7', health: '200', last: '' }),
      'web1: status output lacks monit',
    ],
    [
      'no history field (an older script)',
      status({ release: 'abc', pid: '42', uptime: '7', health: '200', monit: '' }),
      'web1: status output lacks last',
    ],
    [
      'a missing first key',
      status(ALL).replace(/^release.*\n/, ''),
      'web1: status output lacks release',
    ],
  ];
  it.each(errors)('refuses %s', (_, output, message) => {
    expect(() => parseStatus(output, 'web1', base)).toThrow(new Error(message));
  });

  it('decodes any bytes of a value', () => {
    expect(parseStatus(status({ ...ALL, monit: 'Ünïcode\tand tab' }), 'web1', base).monit).toBe(
      'Ünïcode\tand tab',
    );
  });
});

describe('parseReleases', () => {
  const record = (history: { id: string; status: 'good' | 'bad'; at: string }[]) =>
    Buffer.from(JSON.stringify({ version: 1, history })).toString('base64');
  const A = 'aaaaaaaaaaaa';
  const B = 'bbbbbbbbbbbb';
  const C = 'cccccccccccc';
  const cases: [string, string, ReturnType<typeof parseReleases>][] = [
    ['nothing', 'C\t\n', []],
    [
      'releases without history, in the order listed; the current one marked',
      `C\treleases/${B}\nX\t${B}\nX\t${A}\n`,
      [
        { id: B, current: true },
        { id: A, current: false },
      ],
    ],
    [
      'an absolute current link',
      `C\t/var/www/x/releases/${A}\nX\t${A}\n`,
      [{ id: A, current: false }],
    ],
    [
      'names that are not release ids are not releases',
      `C\t\nX\tabc\nX\t${A}x\nX\t${A.toUpperCase()}\nX\tx${A}\nX\t${A}\n`,
      [{ id: A, current: false }],
    ],
    [
      'ordered by their last deploy, with its status and time',
      `C\treleases/${A}\nX\t${A}\nX\t${B}\nX\t${C}\nR\t${record([
        { id: A, status: 'good', at: 't1' },
        { id: B, status: 'bad', at: 't2' },
        { id: A, status: 'good', at: 't3' },
      ])}\n`,
      [
        { id: C, current: false },
        { id: B, current: false, status: 'bad', at: 't2' },
        { id: A, current: true, status: 'good', at: 't3' },
      ],
    ],
    [
      'records without a history',
      `C\t\nX\t${A}\nR\t${Buffer.from('{"version":1}').toString('base64')}\n`,
      [{ id: A, current: false }],
    ],
    ['an unknown tag is ignored', `Q\t${A}\nX\t${A}`, [{ id: A, current: false }]],
  ];
  it.each(cases)('%s', (_, output, rows) => {
    expect(parseReleases(output)).toStrictEqual(rows);
  });
});

describe('the scripts, run by a real sh', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svc-lifecycle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The script with each layout path moved below the scratch dir. */
  const moved = (script: string, name: string, init: Manifest['init'] = 'openrc') => {
    const layout = hostLayout(name);
    const { lockFile, holderFile } = lockPaths(name);
    let text = script;
    // A Set: under every init system but OpenRC the service's pid file is the pidfile itself.
    for (const path of new Set([
      layout.releases,
      layout.current,
      servicePidFile(name, init),
      layout.pidfile,
      layout.records,
      lockFile,
      holderFile,
    ]))
      text = text.replaceAll(path, `${dir}${path}`);
    return text;
  };
  const run = (script: string) =>
    execFileSync('sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });

  it('status: nothing deployed', () => {
    const manifest: Manifest = { ...base, name: 'svc-none', init: 'openrc', port: 1 };
    const output = run(moved(statusScript(manifest), manifest.name));
    expect(parseStatus(output, 'h', manifest)).toStrictEqual({
      release: '-',
      running: false,
      health: 0,
    });
  });

  it('status: a release live and a process in the pidfile', () => {
    const manifest: Manifest = { ...base, name: 'svc-live', init: 'openrc', port: 1 };
    const layout = hostLayout(manifest.name);
    mkdirSync(`${dir}${layout.releases}/abc123abc123`, { recursive: true });
    symlinkSync('releases/abc123abc123', `${dir}${layout.current}`);
    // Under OpenRC the service's own pid is supervise-daemon's child_pid, not the pidfile.
    const pidfile = servicePidFile(manifest.name, manifest.init);
    mkdirSync(`${dir}${dirname(pidfile)}`, { recursive: true });
    writeFileSync(`${dir}${pidfile}`, `${process.pid}\n`);
    const parsed = parseStatus(run(moved(statusScript(manifest), manifest.name)), 'h', manifest);
    expect(parsed).toMatchObject({
      release: 'abc123abc123',
      running: true,
      pid: process.pid,
      health: 0,
    });
    expect(parsed.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('status: a worker asks no health URL', () => {
    const script = statusScript(worker);
    expect(script).toContain(`field health ''`);
    expect(script).not.toContain('http_code http');
    expect(statusScript(base)).toContain(`field health "$(http_code http://127.0.0.1:3000/ok)"`);
    expect(statusScript({ ...base, health: undefined })).toContain(
      `field health "$(http_code http://127.0.0.1:3000/)"`,
    );
  });

  it('releases: what is there, the current one and the history', () => {
    const name = 'svc-rel';
    const layout = hostLayout(name);
    mkdirSync(`${dir}${layout.releases}/aaaaaaaaaaaa`, { recursive: true });
    mkdirSync(`${dir}${layout.releases}/bbbbbbbbbbbb`);
    writeFileSync(`${dir}${layout.releases}/cccccccccccc`, 'a file, not a release');
    symlinkSync('releases/bbbbbbbbbbbb', `${dir}${layout.current}`);
    mkdirSync(`${dir}${layout.records}`, { recursive: true });
    writeFileSync(
      `${dir}${layout.records}/installed.json`,
      JSON.stringify({ history: [{ id: 'bbbbbbbbbbbb', status: 'good', at: 't' }] }),
    );
    const script = moved(releasesScript({ ...base, name }), name);
    expect(parseReleases(run(script))).toStrictEqual([
      { id: 'aaaaaaaaaaaa', current: false },
      { id: 'bbbbbbbbbbbb', current: true, status: 'good', at: 't' },
    ]);
    expect(run(moved(releasesScript({ ...base, name: 'svc-empty' }), 'svc-empty'))).toBe('C\t\n');
  });

  it('unlock: no lock, a stale holder note, a held lock', () => {
    const name = 'svc-lock';
    const { lockFile, holderFile } = lockPaths(name);
    const script = moved(unlockScript({ ...base, name }), name);
    expect(run(script)).toBe('NONE\n');
    mkdirSync(join(dir, lockFile, '..'), { recursive: true });
    writeFileSync(`${dir}${lockFile}`, '');
    expect(run(script)).toBe('NONE\n');
    writeFileSync(`${dir}${holderFile}`, '{"pid":1}');
    expect(run(script)).toBe('NONE STALE\n');
    expect(run(script)).toBe('NONE\n');
    writeFileSync(`${dir}${holderFile}`, '{"pid":2}');
    const held = execFileSync('flock', [`${dir}${lockFile}`, 'sh', '-c', script], {
      encoding: 'utf8',
    });
    expect(held).toBe(`HOLDER\t${Buffer.from('{"pid":2}').toString('base64')}\n`);
  });

  it('stopping a holder: TERM only to the process started when the note says', () => {
    const name = 'svc-stop';
    const { lockFile } = lockPaths(name);
    mkdirSync(join(dir, lockFile, '..'), { recursive: true });
    writeFileSync(`${dir}${lockFile}`, '');
    const script = moved(stopHolderScript({ ...base, name }, 999999, '12345'), name);
    expect(script).toContain(`if [ "$start" = 12345 ]; then kill -TERM 999999; fi`);
    expect(run(script)).toBe('RELEASED\n');
    expect(stopHolderScript({ ...base, name }, 7, "1'2")).toContain(
      `if [ "$start" = '1'\\''2' ]; then kill -TERM 7; fi`,
    );
  });
});

describe('stopping the deploy that holds the lock, by a real sh', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svc-holder-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => mkdirSync(`${dir}/var/lib`, { recursive: true }));
  const startOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]!;
  };
  const script = (pid: number, start: string) => {
    const { lockFile } = lockPaths('svc-holder');
    // The history (under /var/lib/svc/svc-holder) is moved into the scratch directory too.
    return stopHolderScript({ ...base, name: 'svc-holder' }, pid, start)
      .replaceAll(lockFile, `${dir}/holder.lock`)
      .replaceAll(hostLayout('svc-holder').records, `${dir}/var/lib/svc/svc-holder`);
  };

  it.each([
    ['its start time matches: TERM, and the lock is waited for', true, 'SIGTERM'],
    ['another start time (a reused pid): left alone', false, null],
  ] as const)('%s', async (_, same, signal) => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    try {
      const pid = child.pid!;
      const start = same ? startOf(pid) : `${startOf(pid)}1`;
      // Held for a moment by another process: the script waits for it (one round of its loop).
      const holder = spawn('flock', [`${dir}/holder.lock`, 'sleep', '1.5'], { stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const output = execFileSync('sh', ['-c', script(pid, start)], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(output).toBe('RELEASED\n');
      await new Promise((resolve) => holder.on('exit', resolve));
      if (signal !== null) expect(await exited).toBe(signal);
      else expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain('(sleep)');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('every script ends its last line', () => {
    const manifest = { ...base };
    for (const text of [
      statusScript(manifest),
      releasesScript(manifest),
      unlockScript(manifest),
      stopHolderScript(manifest, 1, '2'),
      controlScript(manifest, 'start'),
    ])
      expect(text.endsWith('\n')).toBe(true);
  });
});

describe('controlScript', () => {
  it('refuses a service without a process', () => {
    expect(() => controlScript(site, 'start')).toThrow(
      new Error('api-orders runs no process of its own'),
    );
  });

  it.each([
    [
      'start',
      'monit start api-orders >&4 2>&1 </dev/null 4>&- &',
      'end=$(( $(date +%s) + 60 ))',
      '[ -n "$now" ]',
      'not running after 60 s',
    ],
    [
      'restart',
      'monit restart api-orders >&4 2>&1 </dev/null 4>&- &',
      'end=$(( $(date +%s) + 60 ))',
      '[ "$now" != "$before" ]',
      'not running after 60 s',
    ],
    [
      'stop',
      'monit stop api-orders >&4 2>&1 </dev/null 4>&- &',
      'end=$(( $(date +%s) + 45 ))',
      'while [ -n "$(main_pid)" ]',
      'still running after 45 s',
    ],
  ] as const)(
    '%s: through monit, then waits for the state asked for',
    (action, command, end, until, failure) => {
      const script = controlScript(base, action);
      const lines = script.split('\n');
      expect(lines).toContain(command);
      expect(lines).toContain(end);
      expect(script).toContain(until);
      expect(script).toContain(`{ hist_fail='${failure}'; echo "${failure}" >&2; exit 1; }`);
      expect(lines.slice(-2)).toEqual(['field pid "$(main_pid)"', '']);
      expect(lines).toContain('before=$(main_pid)');
      execFileSync('sh', ['-n'], { input: script });
    },
  );

  it('through the init system when monit does not watch it', () => {
    const script = controlScript({ ...base, monit: false, stopTimeout: 5 }, 'stop');
    expect(script.split('\n')).toContain('systemctl stop api-orders >&4 2>&1 </dev/null 4>&- &');
    expect(script).toContain('still running after 20 s');
  });

  it('quotes every value it sets', () => {
    const script = controlScript({ ...base, init: 'openrc' }, 'start');
    const lines = script.split('\n');
    const at = lines.indexOf('name=api-orders');
    expect(lines.slice(at, at + 4)).toEqual([
      'name=api-orders',
      'init=openrc',
      'pidfile=/run/openrc/options/api-orders/child_pid',
      'current=/var/www/api-orders/current',
    ]);
  });
});
