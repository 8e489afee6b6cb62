// Release commands (svc.yaml `release:`) on two real sandbox hosts: they run as the service user,
// in the new release, with the service's environment (an env: value and a secret), once with
// `on: first` and on each host with `on: every`; a failing one stops the deploy with its last
// lines and no host switched or restarted; a retry runs it again; a timeout kills its process
// group; a deploy that changes nothing runs none (its facts and its history record per host).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const SECRET = 's3cret-value-7d1f';
const MARKER = `/var/db/${NAME}/release-marker`;
const HOSTS = ['sbx-1', 'sbx-2'];

let sbx: Sandbox;
let work: string;
let project: string;

const svc = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home'), ...env });

function onHost(host: string, command: string): string {
  const result = sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const marker = (host: string) => onHost(host, `cat ${MARKER} 2>/dev/null || :`);
const live = (host: string) => onHost(host, `readlink /var/www/${NAME}/current`).trim();
const pid = (host: string) => onHost(host, `cat /run/${NAME}.pid`).trim();

/** svc.yaml's release: set to this (undefined: none). */
function setRelease(release: object | undefined): void {
  const file = join(project, 'svc.yaml');
  const data = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (release === undefined) delete data.release;
  else data.release = release;
  writeFileSync(file, stringify(data));
}

/** A new release: a file of the project changes. */
let releases = 0;
function newRelease(): void {
  writeFileSync(join(project, 'VERSION'), `${++releases}\n`);
}

// Who runs it, what it sees, where: one line per run, appended to a file the service user owns.
const RECORD = [
  '/bin/sh',
  '-c',
  `printf '%s %s %s %s\\n' "$(id -un)" "$GREETING" "$DB_PASSWORD" "$(pwd -P)" >> ${MARKER}`,
];

// Fails (status 3, two lines of output, one with an escape sequence) until /var/db/NAME/pass exists.
const PASS_ONLY_WITH_FILE = [
  '/bin/sh',
  '-c',
  `test -e /var/db/${NAME}/pass || { echo first line; printf 'red \\033[31m!\\n'; exit 3; }`,
];

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-release-'));
  project = join(work, NAME);
  execFileSync(
    SVC,
    [
      'new',
      NAME,
      '--yes',
      '--init',
      'monit',
      '--cutover',
      'restart',
      '--dir',
      project,
      '--env',
      'GREETING=hello',
      '--env',
      `DB_PASSWORD=${SECRET}`,
    ],
    { env: { ...process.env, CI: '1', HOME: join(work, 'home') } },
  );
  // The first deploy without release commands: the hosts have a live release to keep.
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('release commands', () => {
  it('on: first runs once, on the first host, as the service user, with env: and secrets, in the new release', async () => {
    setRelease({ run: [RECORD] });
    newRelease();
    const plan = await svc(['plan', 'sandbox']);
    expect(plan.stdout).toContain('release commands: 1, on the first host (sbx-1)\n');
    const json = JSON.parse((await svc(['plan', 'sandbox', '--json'])).stdout) as object;
    expect(json).toMatchObject({ release: { commands: 1, on: 'first', hosts: ['sbx-1'] } });
    const deployed = await svc(['deploy', 'sandbox', '--yes']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    const release = live('sbx-1');
    expect(live('sbx-2')).toBe(release);
    expect(marker('sbx-1')).toBe(`${NAME} hello ${SECRET} /var/www/${NAME}/${release}\n`);
    expect(marker('sbx-2')).toBe('');
    // The secret is the command's to see, never svc's to print.
    expect(deployed.stdout + deployed.stderr).not.toContain(SECRET);
  }, 120_000);

  it('a deploy that changes nothing runs none: its facts and its history record per host', async () => {
    const again = await svc(['deploy', 'sandbox', '--yes'], { SVC_TRACE_SSH: '1' });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain('release commands');
    // Per host: the plan's facts, then the `unchanged` record (svc history), nothing else. Two
    // commands: release commands make the deploy plan every host first, so no fact command is
    // held for its verdict (history-gaps.test.ts has the one-command form).
    for (const host of HOSTS)
      expect(
        again.stderr.split('\n').filter((line) => line.startsWith(`svc-trace: ${host} exec `)),
      ).toEqual([
        `svc-trace: ${host} exec gathering facts`,
        `svc-trace: ${host} exec recording the deploy`,
      ]);
    expect(again.stderr.match(/svc-trace: \S+ exec /g)).toHaveLength(4);
    expect(marker('sbx-1').split('\n')).toHaveLength(2);
  }, 120_000);

  it('on: every runs on each host before its own cutover', async () => {
    setRelease({ run: [RECORD], on: 'every' });
    newRelease();
    const plan = await svc(['plan', 'sandbox']);
    expect(plan.stdout).toContain(
      'release commands: 1, on each host before its own cutover (sbx-1, sbx-2)\n',
    );
    const deployed = await svc(['deploy', 'sandbox', '--yes']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    for (const host of HOSTS) {
      const lines = marker(host).trim().split('\n');
      expect(lines.at(-1)).toBe(`${NAME} hello ${SECRET} /var/www/${NAME}/${live(host)}`);
    }
  }, 120_000);

  it('a failing one stops the deploy with its last lines: no host switched or restarted', async () => {
    setRelease({ run: [RECORD, PASS_ONLY_WITH_FILE] });
    newRelease();
    const before = Object.fromEntries(HOSTS.map((host) => [host, [live(host), pid(host)]]));
    const failed = await svc(['deploy', 'sandbox', '--yes']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('sbx-1: release command 2 of 2 (/bin/sh -c ');
    expect(failed.stdout).toContain(
      ') exited with status 3; nothing was switched or restarted\n' +
        '    its last output lines:\n' +
        '      first line\n' +
        '      red \\x1b[31m!\n',
    );
    // The table names the release still live on the failed host.
    expect(failed.stdout).toMatch(
      new RegExp(`\\nsbx-1 +failed +${before['sbx-1']![0]!.slice(9)} `),
    );
    expect(failed.stdout).toMatch(/\nsbx-2 +skipped /);
    expect(failed.stdout).toContain('sbx-2: not started: the release commands failed on sbx-1');
    for (const host of HOSTS) expect([live(host), pid(host)]).toEqual(before[host]);
  }, 120_000);

  it('a retry runs them again', async () => {
    // The same release (the release directory the failed run made is on sbx-1 already): the
    // failing command now passes, and the first one runs again.
    const runs = marker('sbx-1').split('\n').length;
    const second = marker('sbx-2');
    onHost('sbx-1', `touch /var/db/${NAME}/pass`);
    const retried = await svc(['deploy', 'sandbox', '--yes', '--retry-failed']);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(marker('sbx-1').split('\n')).toHaveLength(runs + 1);
    expect(marker('sbx-2')).toBe(second);
  }, 120_000);

  it('on: every, failing: each host fails before its cutover and keeps its live release', async () => {
    setRelease({ run: [['/bin/sh', '-c', 'echo no; exit 9']], on: 'every' });
    newRelease();
    const before = Object.fromEntries(HOSTS.map((host) => [host, [live(host), pid(host)]]));
    const failed = await svc(['deploy', 'sandbox', '--yes', '--batch', '1']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      "sbx-1: release command 1 of 1 (/bin/sh -c 'echo no; exit 9') exited with status 9; nothing was switched or restarted\n    its last output lines:\n      no\n",
    );
    expect(failed.stdout).toContain('sbx-2: not started: the release commands failed on sbx-1');
    for (const host of HOSTS) expect([live(host), pid(host)]).toEqual(before[host]);
  }, 120_000);

  it('a command printing far more than is shown: the host keeps 1-3 MiB of it, and its last lines are shown', async () => {
    const printed = `/var/db/${NAME}/printed`;
    const measured = `/var/db/${NAME}/measured`;
    // 60 MB of whole lines, then two more; it waits (while svc's files are measured) before its last one.
    setRelease({
      run: [
        [
          '/bin/sh',
          '-c',
          `yes 0123456789 | head -c 60000006; echo penultimate; : > ${printed}; while [ ! -e ${measured} ]; do sleep 0.1; done; echo the last line; exit 4`,
        ],
      ],
    });
    newRelease();
    onHost('sbx-1', `rm -f ${printed} ${measured}`);
    const before = live('sbx-1');
    const deploying = svc(['deploy', 'sandbox', '--yes']);
    try {
      const there = () => sbx.ssh('sbx-1', `test -e ${printed}`, { user: 'root' }).code === 0;
      expect(await eventually(there, 60)).toBe(true);
      // Every file of the command's output in the deploy's stage, and their sizes.
      const sizes = onHost(
        'sbx-1',
        `find /var/lib/svc -path '/var/lib/svc/stage.${NAME}.*' -name 'release.out*' -type f -printf '%s %m %u\\n'`,
      )
        .trim()
        .split('\n')
        .map((line) => line.split(' '));
      const total = sizes.reduce((sum, [size]) => sum + Number(size), 0);
      expect(total).toBeGreaterThanOrEqual(1024 * 1024);
      expect(total).toBeLessThanOrEqual(3 * 1024 * 1024);
      for (const [, mode, owner] of sizes) expect([mode, owner]).toEqual(['600', 'root']);
    } finally {
      onHost('sbx-1', `touch ${measured}`);
    }
    const failed = await deploying;
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      ') exited with status 4; nothing was switched or restarted\n    its last output lines:\n',
    );
    expect(failed.stdout).toContain('      0123456789\n      penultimate\n      the last line\n');
    expect(live('sbx-1')).toBe(before);
  }, 180_000);

  it('a process the command started outside its session, still holding its output, holds the deploy 5 s at most', async () => {
    const escaped = `/var/db/${NAME}/escaped`;
    setRelease({
      run: [
        [
          '/bin/sh',
          '-c',
          // It waits until the other has left its session (the group's TERM would end it before).
          `setsid sh -c 'echo $$ > ${escaped}; exec sleep 120' & while [ ! -s ${escaped} ]; do sleep 0.1; done; echo started`,
        ],
      ],
    });
    newRelease();
    const started = Date.now();
    try {
      const deployed = await svc(['deploy', 'sandbox', '--yes']);
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
      // It was still there, holding the output, when the deploy ended.
      expect(
        onHost('sbx-1', `kill -0 "$(cat ${escaped})" && ls -l /proc/"$(cat ${escaped})"/fd/1`),
      ).toMatch(/release\.fifo/);
    } finally {
      onHost('sbx-1', `kill "$(cat ${escaped})" 2>/dev/null; rm -f ${escaped}`);
    }
  }, 120_000);

  it('a timeout stops the command and everything it started', async () => {
    setRelease({
      run: [['/bin/sh', '-c', 'sleep 300 & echo started; sleep 301']],
      timeout: 2,
    });
    const before = live('sbx-1');
    const started = Date.now();
    const failed = await svc(['deploy', 'sandbox', '--yes']);
    expect(failed.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(failed.stdout).toContain(
      'did not finish within 2 s and was stopped (its process group killed); nothing was switched or restarted\n    its last output lines:\n      started\n',
    );
    expect(live('sbx-1')).toBe(before);
    expect(onHost('sbx-1', `pgrep -u ${NAME} -x sleep || echo none`)).toBe('none\n');
  }, 120_000);
});
