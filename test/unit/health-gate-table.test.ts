// The health gate's other sh functions run by a real sh (src/core/health-gate.ts): the clock, a
// process's start time, systemd's record of the unit (systemctl stubbed as a shell function that
// prints what systemd prints), how a death is told, and the gate_begin line for each init system.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gateBegin, HEALTH } from '../../src/core/health-gate.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

const sh = (body: string, ...args: string[]) =>
  execFileSync('sh', ['-c', `${HEALTH}\n${body}`, 'sh', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });

describe('the clock and processes', () => {
  it('uptime_cs: hundredths of a second since boot, as /proc/uptime says', () => {
    const [whole, frac] = readFileSync('/proc/uptime', 'utf8').split(' ')[0]!.split('.');
    const before = Number(whole) * 100 + Number(frac);
    const measured = Number(sh('uptime_cs; echo "$up_cs"'));
    expect(measured).toBeGreaterThanOrEqual(before);
    expect(measured - before).toBeLessThan(1000);
  });

  it("proc_alive: a live process's start time, in clock ticks since boot (field 22 of its stat)", () => {
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
    expect(sh('proc_alive "$1" && echo "alive $start"', String(process.pid))).toBe(
      `alive ${start}\n`,
    );
  });

  it('proc_alive: a pid that is gone is not alive', () => {
    expect(sh('proc_alive 2147483646 || echo "gone [$start]"')).toBe('gone []\n');
  });
});

describe('systemd: what its record of the unit says', () => {
  const systemctl = (values: Record<string, string>) =>
    `systemctl() { printf '%s\\n' ${Object.entries(values)
      .map(([key, value]) => `'${key}=${value}'`)
      .join(' ')}; }`;
  const record = (start: string, exit: string, code: string, status: string) =>
    systemctl({
      ExecMainStartTimestampMonotonic: start,
      ExecMainExitTimestampMonotonic: exit,
      ExecMainCode: code,
      ExecMainStatus: status,
    });

  it.each([
    ['a full record', record('5', '9', '1', '3'), '5 9 1 3'],
    ['numbers only', record('5x', '', '2', '-1'), '0 0 2 '],
    ['nothing', systemctl({}), '0 0  '],
  ])('sd_show: %s', (_, stub, values) => {
    expect(
      sh(`${stub}\ngate_unit=app; sd_show; echo "$sd_start $sd_exit $sd_code $sd_status"`),
    ).toBe(`${values}\n`);
  });

  const deaths: [string, string, string][] = [
    [
      'exited with a status, 2.5 s after its start',
      record('1000', '2501000', '1', '3'),
      'died [status 3] [25]',
    ],
    ['killed by a signal', record('1000', '1001000', '2', '9'), 'died [signal 9] [10]'],
    ['dumped core', record('1000', '1001000', '3', '11'), 'died [signal 11] [10]'],
    ['ended, how unknown', record('1000', '1001000', '0', '0'), 'died [] [10]'],
    ['ended, status not reported', record('1000', '1001000', '1', ''), 'died [] [10]'],
    ['still running (no exit since its start)', record('1000', '500', '0', '0'), 'alive'],
    ['not started again since gate_begin', record('100', '200', '1', '1'), 'alive'],
  ];
  it.each(deaths)('gate_died: %s', (_, stub, said) => {
    const body = `${stub}
gate_unit=app gate_pidfile= sd_before=100
if gate_died; then echo "died [$exit_how] [$exit_ds]"; else echo alive; fi`;
    expect(sh(body)).toBe(`${said}\n`);
  });
});

describe('gate_begin', () => {
  it.each([
    [
      'systemd, forward',
      { init: 'systemd' as const },
      'always',
      "gate_begin '' api-orders /var/log/api-orders/api-orders.log api-orders",
    ],
    [
      'systemd, rollback',
      { init: 'systemd' as const },
      'recorded',
      "gate_begin '' api-orders /var/log/api-orders/api-orders.log api-orders",
    ],
    [
      "openrc, forward: supervise-daemon's child pid",
      { init: 'openrc' as const },
      'always',
      "gate_begin /run/openrc/options/api-orders/child_pid '' /var/log/api-orders/api-orders.log api-orders",
    ],
    [
      'openrc, rollback: nothing watched',
      { init: 'openrc' as const },
      'recorded',
      "gate_begin '' '' /var/log/api-orders/api-orders.log api-orders",
    ],
    [
      'monit alone, forward',
      { init: undefined },
      'always',
      "gate_begin /run/api-orders.pid '' /var/log/api-orders/api-orders.log api-orders",
    ],
    [
      'another user, quoted',
      { init: 'openrc' as const, user: "o'neil" },
      'always',
      "gate_begin /run/openrc/options/api-orders/child_pid '' /var/log/api-orders/api-orders.log 'o'\\''neil'",
    ],
  ] as const)('%s', (_, change, watch, line) => {
    expect(gateBegin({ ...base, ...change }, watch)).toBe(line);
  });
});
