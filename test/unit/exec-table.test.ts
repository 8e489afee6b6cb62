// `svc exec`'s decisions as tables: which hosts (--host), what the run exits with and which lines
// it prints, and the script's shape (the argv quoted once, the tty only when asked).
import { describe, expect, it } from 'vitest';
import { EXEC_NOT_RUN, execResult, selectHosts, type ExecOutcome } from '../../src/cli/exec.js';
import { execScript, EXEC_REFUSED } from '../../src/core/exec-script.js';
import { shellCommand } from '../../src/core/quote.js';
import type { HostSpec } from '../../src/core/targets.js';

const spec = (name: string) => ({ name }) as HostSpec;

describe('--host', () => {
  const hosts = [spec('h1'), spec('h2')];
  it.each<[string, string | undefined, string[] | string]>([
    ['absent: every host', undefined, ['h1', 'h2']],
    ['one of them', 'h2', ['h2']],
    ['not one of them', 'h3', "--host: h3 is not one of the target's hosts (h1, h2)"],
  ])('%s', (_name, only, expected) => {
    if (typeof expected === 'string') expect(() => selectHosts(hosts, only)).toThrow(expected);
    else expect(selectHosts(hosts, only).map((host) => host.name)).toEqual(expected);
  });
});

describe('what svc exec exits with', () => {
  it.each<[string, ExecOutcome[], number, string[]]>([
    ['one host, 0', [{ host: 'h1', code: 0 }], 0, []],
    ['one host: its status as it is, nothing said', [{ host: 'h1', code: 7 }], 7, []],
    [
      'one host svc could not reach: 255 and why',
      [{ host: 'h1', code: EXEC_NOT_RUN, error: 'connect timed out' }],
      255,
      ['h1: connect timed out'],
    ],
    [
      'several, all 0',
      [
        { host: 'h1', code: 0 },
        { host: 'h2', code: 0 },
      ],
      0,
      [],
    ],
    [
      'several, one failed: 1 and which',
      [
        { host: 'h1', code: 0 },
        { host: 'h2', code: 3 },
      ],
      1,
      ['h2: exited with status 3'],
    ],
    [
      'several, one unreachable',
      [
        { host: 'h1', code: EXEC_NOT_RUN, error: 'host key changed' },
        { host: 'h2', code: 0 },
      ],
      1,
      ['h1: host key changed'],
    ],
    [
      'several, Ctrl-C before h2 began: 130, h1 told as usual',
      [
        { host: 'h1', code: 130 },
        { host: 'h2', code: 130, error: 'not started: interrupted', notStarted: true },
      ],
      130,
      ['h1: exited with status 130'],
    ],
    [
      'one, Ctrl-C while it connected: 130, no error line',
      [{ host: 'h1', code: 130, error: 'not started: interrupted', notStarted: true }],
      130,
      [],
    ],
  ])('%s', (_name, outcomes, code, lines) => {
    expect(execResult(outcomes)).toEqual({ code, lines });
  });
});

describe('the exec script', () => {
  const argv = ['printf', '%s', "a'b", '$(id)', 'x\ny', ''];
  it('quotes the argv once, enters current as the user, sources the env file', () => {
    const script = execScript({ name: 'api-orders', user: 'api-orders' }, argv);
    expect(script.slice(script.lastIndexOf('\nexec ') + 1)).toBe(
      `exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "HOME=$sa_home" "USER=$sa_user" "LOGNAME=$sa_user" SHELL=/bin/sh /bin/sh -c "$sa_run" sh "$sa_tool" "$sa_uid" "$sa_gid" "$sa_user" "$live" "$envf" ${shellCommand(argv)}\n`,
    );
    expect(script).toContain('live=/var/www/api-orders/current\nenvf=/etc/default/api-orders\n');
    expect(script).toContain(`exit ${EXEC_REFUSED}; }`);
    expect(script).not.toContain('TERM=');
  });

  it('passes TERM on only for a pty', () => {
    const script = execScript({ name: 'api-orders', user: 'api-orders' }, ['sh'], { term: true });
    expect(script).toContain('SHELL=/bin/sh ${TERM:+"TERM=$TERM"} /bin/sh -c');
  });

  it('refuses an empty command (the CLI requires one)', () => {
    expect(() => execScript({ name: 'api-orders', user: 'api-orders' }, [])).toThrow(
      'execScript: no command',
    );
  });
});
