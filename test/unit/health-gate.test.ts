// The health gate's shell functions, run by a real sh: what a failed start sends back from the
// service's log is bounded before root reads it, whatever the service user left at the log's path.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEALTH, LOG_TAIL_LINES } from '../../src/core/health-gate.js';

const dir = mkdtempSync(join(tmpdir(), 'svc-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** log_tail on LOG, with as_service running the command as this user (no setpriv needed). */
function logTail(log: string, offset = 0): string {
  const script = `${HEALTH}
as_service() { "$@"; }
gate_uid=0 gate_log="$1" gate_offset=$2
log_tail`;
  return execFileSync('sh', ['-c', script, 'sh', log, String(offset)], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe('log_tail', () => {
  it('sends the last lines written since the start, at most 20', () => {
    const log = join(dir, 'plain.log');
    const before = 'old line\n'.repeat(5);
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    writeFileSync(log, `${before}${lines.join('\n')}\n`);
    expect(logTail(log, before.length).trimEnd().split('\n')).toEqual(lines.slice(-LOG_TAIL_LINES));
  });

  it('reads at most the last 64 KiB of a huge log, and sends at most 4 KiB', () => {
    const log = join(dir, 'huge.log');
    writeFileSync(log, 'x'.repeat(8 * 1024 * 1024) + '\nlast\n');
    const tail = logTail(log);
    expect(tail.length).toBeLessThanOrEqual(4096);
    expect(tail.endsWith('last\n')).toBe(true);
  });

  it('gives nothing, at once, for a FIFO (which would hold up undo)', () => {
    const fifo = join(dir, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    expect(logTail(fifo)).toBe('');
  });

  it('gives nothing for a link to /dev/zero (which would never end)', () => {
    const link = join(dir, 'zero.log');
    symlinkSync('/dev/zero', link);
    expect(logTail(link)).toBe('');
  });
});
