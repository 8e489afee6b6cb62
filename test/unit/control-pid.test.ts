// The pid `svc start|restart` prints comes from the host's last line (`field pid ...`): only
// digits reach the terminal; a host that sends anything else (an escape sequence, nothing) gets `?`.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { controlPid, lifecyclePreamble } from '../../src/core/lifecycle.js';
import { manifest } from '../helpers/plan-fixtures.js';

/** What the control script's own `field pid VALUE` prints, after `before` (other output). */
function hostSays(value: string, before = ''): string {
  const script = `${lifecyclePreamble(manifest)}\nprintf %s "$1"\nfield pid "$2"\n`;
  return execFileSync('sh', ['-c', script, 'sh', before, value], { encoding: 'utf8' });
}

describe('controlPid', () => {
  it.each(['1', '4242', '4194304'])('reads %s as the host wrote it', (pid) => {
    expect(controlPid(hostSays(pid, 'api-orders restarted\n'))).toBe(pid);
  });

  it.each([
    ['an escape sequence', '\u001b[2J12'],
    ['a newline inside', '12\n13'],
    ['nothing', ''],
    ['a negative number', '-1'],
    ['too many digits', '12345678901'],
  ])('shows ? for %s', (_, value) => {
    expect(controlPid(hostSays(value))).toBe('?');
  });

  it('shows ? when the host sent no pid line, or hex that is not', () => {
    expect(controlPid('api-orders restarted\n')).toBe('?');
    expect(controlPid('pid\t3g\n')).toBe('?');
    expect(controlPid('pid\t313\n')).toBe('?');
  });
});
