// remote/each-host.ts's decisions after Ctrl-C, as tables: a host script's result is "interrupted"
// only when Ctrl-C cut it short (its trap's 130, or dead of the signal), never when it failed for
// its own reason while Ctrl-C was pending; and the run exits 130 only when some host was cut
// short or kept from starting. lifecycle-interrupt.test.ts drives the real scripts.
import { describe, expect, it } from 'vitest';
import { EXIT, SvcError } from '../../src/core/errors.js';
import type { HostSpec } from '../../src/core/targets.js';
import { hostsExit, runChecked, type HostOutcomeOf } from '../../src/remote/each-host.js';
import type { HostConnection } from '../../src/remote/ssh.js';

/** A connection whose one script ends with `code` and `stderr` (only run and the name are read). */
const ending = (code: number, stderr: string) =>
  ({
    endpoint: { name: 'web1' },
    run: () => Promise.resolve({ code, stdout: Buffer.from('out'), stderr: Buffer.from(stderr) }),
  }) as unknown as HostConnection;

const aborted = () => {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
};

describe('runChecked after Ctrl-C', () => {
  it.each<[string, number, string, AbortSignal | undefined, string, number | undefined]>([
    [
      'its trap said how it left the service: that line, 130',
      130,
      'stopping\ninterrupted during the stop: the service was stopped\n',
      aborted(),
      'web1: interrupted during the stop: the service was stopped',
      EXIT.interrupted,
    ],
    [
      'dead of the signal (no status): interrupted while STEP, 130',
      -1,
      '',
      aborted(),
      'web1: interrupted while stopping api',
      EXIT.interrupted,
    ],
    [
      'failed for its own reason (exit 1) while Ctrl-C was pending: that reason',
      1,
      "a\nthe init system's stop failed\n",
      aborted(),
      "web1: stopping api failed (exit 1): a | the init system's stop failed",
      EXIT.error,
    ],
    [
      '130 without Ctrl-C: a failure like any other',
      130,
      'x\n',
      undefined,
      'web1: stopping api failed (exit 130): x',
      EXIT.error,
    ],
  ])('%s', async (_name, code, stderr, signal, message, exitCode) => {
    const run = runChecked(ending(code, stderr), 'script', 'stopping api', signal);
    await expect(run).rejects.toThrow(SvcError);
    await expect(run).rejects.toMatchObject({ message, exitCode });
  });

  it('a script that ended well after Ctrl-C: its output', async () => {
    expect(await runChecked(ending(0, ''), 'script', 'stopping api', aborted())).toBe('out');
  });
});

describe('what a run over hosts exits with', () => {
  const host = { name: 'h' } as HostSpec;
  const ok: HostOutcomeOf<string> = { host, ok: true, value: '' };
  const failed: HostOutcomeOf<string> = { host, ok: false, error: 'x' };
  const cut: HostOutcomeOf<string> = { host, ok: false, error: 'x', interrupted: true };
  it.each<[string, HostOutcomeOf<string>[], number]>([
    ['all well (also when Ctrl-C came as they finished)', [ok, ok], EXIT.ok],
    ['one failed', [ok, failed], EXIT.error],
    ['one cut short by Ctrl-C', [ok, cut], EXIT.interrupted],
    ['one cut short, one failed', [failed, cut], EXIT.interrupted],
    ['none', [], EXIT.ok],
  ])('%s', (_name, results, code) => {
    expect(hostsExit(results)).toBe(code);
  });
});
