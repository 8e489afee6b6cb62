// Release commands (svc.yaml `release:`) under `cutover: switch` on two real light sandbox hosts
// (`init: monit`, the host's own nginx in front of two slots): they run in the new release, as
// the service user, before any traffic moves (the public port still answered by the live release,
// `current` not moved yet, the idle slot not started); a failing one leaves the live slot serving
// untouched (same process, same upstream file, nothing started in the idle slot) on every host;
// with `--parallel` and `on: every` each host runs them before its own switch, and a failure
// stops each host on its own before its switch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import { RELEASE_HEADER, patchServer } from '../helpers/cutover-releases.js';

const NAME = 'api-relsw';
const PORT = 3251;
const SLOTS = { a: 13251, b: 23251 } as const;
const MARKER = `/var/db/${NAME}/release-marker`;
const HOSTS = ['sbx-1', 'sbx-2'];

let sbx: Sandbox | undefined;
let work = '';
let project = '';
let server = '';

const sandbox = (): Sandbox => {
  if (!sbx) throw new Error('the sandbox did not start');
  return sbx;
};
const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sandbox().env, HOME: join(work, 'home') });
function onHost(host: string, command: string): string {
  const result = sandbox().ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}
const marker = (host: string) => onHost(host, `cat ${MARKER} 2>/dev/null || :`);
const current = (host: string) => onHost(host, `readlink /var/www/${NAME}/current`).trim();
const upstream = (host: string) => onHost(host, `cat /var/lib/svc/${NAME}/upstream.conf`);
const liveSlot = (host: string): 'a' | 'b' => (upstream(host).includes(`:${SLOTS.a};`) ? 'a' : 'b');
/** The slot's own process, when one lives. */
const slotPid = (host: string, slot: 'a' | 'b') =>
  onHost(
    host,
    `p=$(cat /run/${NAME}@${SLOTS[slot]}.pid 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p" || :`,
  ).trim();
const answering = (host: string) =>
  onHost(host, `curl -fsS -D - -o /dev/null --max-time 3 http://127.0.0.1:${PORT}/`).match(
    /^x-release: (\S+)/im,
  )?.[1];
/** Everything that says what serves on a host: it must not change when the commands fail. */
const serving = (host: string) => {
  const live = liveSlot(host);
  const idle = live === 'a' ? 'b' : 'a';
  return {
    current: current(host),
    upstream: upstream(host),
    livePid: slotPid(host, live),
    idlePid: slotPid(host, idle),
    answering: answering(host),
  };
};

/** svc.yaml's release: set to this. */
function setRelease(release: object): void {
  const file = join(project, 'svc.yaml');
  const data = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  data.release = release;
  writeFileSync(file, stringify(data));
}
function newRelease(id: string): void {
  writeFileSync(join(project, 'release-id.txt'), `${id}\n`);
  writeFileSync(join(project, 'server.js'), patchServer(server, id));
}

// What the command sees as it runs: who, where, what `current` is, which release answers the
// public port, and whether anything listens on the idle slot's port.
const RECORD = [
  '/bin/sh',
  '-c',
  [
    `a=$(curl -fsS -D - -o /dev/null --max-time 3 http://127.0.0.1:${PORT}/ | sed -n 's/^${RELEASE_HEADER}: *//Ip' | tr -d '\\r')`,
    `printf '%s %s %s answered-by=%s\\n' "$(id -un)" "$(pwd -P)" "$(readlink /var/www/${NAME}/current)" "$a" >> ${MARKER}`,
  ].join('; '),
];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'svc-release-switch-'));
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
      'switch',
      '--port',
      `${PORT}`,
      '--dir',
      project,
    ],
    { env: { ...process.env, CI: '1', HOME: join(work, 'home') } },
  );
  server = readFileSync(join(project, 'server.js'), 'utf8');
  sbx = await startSandbox({ count: 2 });
  // The first deploy without release commands: the hosts have a live slot to keep.
  newRelease('r1');
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  try {
    await sbx?.down();
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}, 150_000);

describe('release commands under cutover: switch', () => {
  it('run in the new release before any traffic moves (on: first)', async () => {
    setRelease({ run: [RECORD] });
    newRelease('r2');
    const before = current('sbx-1');
    const deployed = await svc(['deploy', 'sandbox', '--yes']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    const release = current('sbx-1');
    expect(release).not.toBe(before);
    // As the service user, in the new release's directory; `current` still the old release and
    // the public port still answered by it.
    expect(marker('sbx-1')).toBe(`${NAME} /var/www/${NAME}/${release} ${before} answered-by=r1\n`);
    expect(marker('sbx-2')).toBe('');
    for (const host of HOSTS) expect(answering(host)).toBe('r2');
  }, 180_000);

  it('a failing one leaves the live slot serving untouched on every host', async () => {
    setRelease({ run: [RECORD, ['/bin/sh', '-c', 'echo migration failed; exit 4']] });
    newRelease('r3');
    const before = Object.fromEntries(HOSTS.map((host) => [host, serving(host)]));
    for (const host of HOSTS) {
      expect(before[host]!.livePid).toMatch(/^\d+$/);
      expect(before[host]!.idlePid).toBe('');
    }
    const failed = await svc(['deploy', 'sandbox', '--yes']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      "sbx-1: release command 2 of 2 (/bin/sh -c 'echo migration failed; exit 4') exited with status 4; nothing was switched or restarted\n    its last output lines:\n      migration failed\n",
    );
    expect(failed.stdout).toContain('sbx-2: not started: the release commands failed on sbx-1');
    for (const host of HOSTS) expect(serving(host)).toEqual(before[host]);
  }, 180_000);

  it('--parallel with on: every: each host runs them before its own switch', async () => {
    setRelease({ run: [RECORD], on: 'every' });
    newRelease('r4');
    const before = Object.fromEntries(HOSTS.map((host) => [host, current(host)]));
    const lines = Object.fromEntries(HOSTS.map((host) => [host, marker(host)]));
    const deployed = await svc(['deploy', 'sandbox', '--yes', '--parallel', '2']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    for (const host of HOSTS) {
      const release = current(host);
      expect(release).not.toBe(before[host]);
      const added = marker(host).slice(lines[host]!.length);
      // Each host once, in its new release, while its own public port still answered r2.
      expect(added).toBe(`${NAME} /var/www/${NAME}/${release} ${before[host]} answered-by=r2\n`);
      expect(answering(host)).toBe('r4');
    }
  }, 180_000);

  it('--parallel with on: every, failing: every host stops before its own switch', async () => {
    setRelease({ run: [['/bin/sh', '-c', 'echo no; exit 9']], on: 'every' });
    newRelease('r5');
    const before = Object.fromEntries(HOSTS.map((host) => [host, serving(host)]));
    const failed = await svc(['deploy', 'sandbox', '--yes', '--parallel', '2']);
    expect(failed.code).toBe(1);
    // Both were in flight at once: each fails on its own, with its own lines.
    for (const host of HOSTS)
      expect(failed.stdout).toContain(
        `${host}: release command 1 of 1 (/bin/sh -c 'echo no; exit 9') exited with status 9; nothing was switched or restarted\n    its last output lines:\n      no\n`,
      );
    for (const host of HOSTS) expect(serving(host)).toEqual(before[host]);
  }, 180_000);
});
