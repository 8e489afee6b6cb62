// ps_children (apply-script.ts NGINX_RELOAD) when a process ends between the glob of
// /proc/[0-9]*/stat and the read of its file: the other processes are still listed. Debian's awk
// is mawk, which stops at a file it cannot open (exit 2): reading the files with awk itself lost
// every process after the vanished one (nginx-reload failed so in CI). A real sh, cat and awk
// read a /proc of the test's own: a tmpfs mounted over /proc in a private mount namespace
// (unshare, as root), with a stat entry that is a dangling link, as a process gone meanwhile.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NGINX_RELOAD } from '../../src/core/apply-script.js';

/** The stat line of a process: PID (NAME) STATE PPID, then the fields nobody reads here. */
const stat = (pid: number, name: string, ppid: number) =>
  `${pid} (${name}) S ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100\n`;

/**
 * Runs `body` after NGINX_RELOAD with /proc replaced by `entries` (pid -> stat text, or null for a
 * stat that vanished). Returns what it printed.
 */
function withProc(entries: Record<number, string | null>, body: string): string {
  const setup = Object.entries(entries).map(([pid, text]) =>
    text === null
      ? `mkdir /proc/${pid} && ln -s /nonexistent/${pid} /proc/${pid}/stat`
      : `mkdir /proc/${pid} && printf '%s' '${text}' > /proc/${pid}/stat`,
  );
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /proc',
    ...setup,
    'set +e',
    NGINX_RELOAD,
    body,
  ].join('\n');
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

const pids = (text: string) => text.trim().split(/\s+/).filter(Boolean).map(Number);

describe('ps_children with a process gone between the glob and the read', () => {
  it('lists the children after the vanished entry too', () => {
    const out = withProc(
      {
        100: stat(100, 'nginx', 1),
        101: stat(101, 'nginx', 100),
        102: null,
        103: stat(103, 'nginx', 100),
        104: stat(104, 'other', 1),
        105: stat(105, 'a) S 100 x', 104),
      },
      'ps_children 100',
    );
    expect(pids(out)).toStrictEqual([101, 103]);
  });

  it('lists them when the vanished entry is the first', () => {
    const out = withProc(
      { 10: null, 20: stat(20, 'nginx', 1), 21: stat(21, 'nginx', 20) },
      'ps_children 20',
    );
    expect(pids(out)).toStrictEqual([21]);
  });
});
