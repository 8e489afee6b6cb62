// monit_checked (the apply script's last wait under monit), slot_settled (a switch's, for the
// live slot's check) and slot_unwatched (a kept-warm slot's) run by a real sh against a stand-in
// `monit` that answers a given sequence of states: it returns on the first settled state only.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MONIT_WAIT } from '../../src/core/apply-script.js';
import { SLOT_GONE } from '../../src/core/cutover-script.js';

const dir = mkdtempSync(join(tmpdir(), 'svc-monit-checked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs monit_checked with monit answering `states` in turn (the last one from then on). */
function checked(
  states: string[],
  call = 'monit_checked api-orders',
): { code: number; asked: number } {
  const bin = mkdtempSync(join(dir, 'bin-'));
  const count = join(bin, 'count');
  writeFileSync(count, '0');
  const answers = states.map((state, i) => `${i + 1}) s='${state}' ;;`).join('\n');
  writeFileSync(
    join(bin, 'monit'),
    `#!/bin/sh
[ "$1" = status ] || exit 0
n=$(($(cat '${count}') + 1)); echo "$n" > '${count}'
case $n in
${answers}
*) s='${states.at(-1)}' ;;
esac
printf 'Process %s\\n  status                       %s\\n  monitoring status            Monitored\\n' "$2" "$s"
`,
  );
  chmodSync(join(bin, 'monit'), 0o755);
  let code = 0;
  try {
    execFileSync('sh', ['-c', `${MONIT_WAIT}\n${SLOT_GONE}\n${call}`], {
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
  } catch (error) {
    code = (error as { status: number }).status;
  }
  return { code, asked: Number(readFileSync(count, 'utf8')) };
}

describe('monit_checked', () => {
  it.each([
    ['OK at once', ['OK'], 1],
    ['Does not exist, then OK', ['Does not exist', 'OK'], 2],
    ['Initializing, then Running', ['Initializing', 'Running'], 2],
    ['a start still pending, then OK', ['Not monitored - start pending', 'OK'], 2],
    ['an unmonitor pending, then Not monitored', ['OK - unmonitor pending', 'Not monitored'], 2],
    ['a failed check is settled too', ['Does not exist', 'Execution failed'], 2],
  ])('%s', (_, states, asked) => {
    expect(checked(states)).toEqual({ code: 0, asked });
  });
});

describe('slot_settled', () => {
  it.each([
    ['settled at once', ['OK'], 1],
    ['a start pending, then OK', ['Not monitored - start pending', 'OK'], 2],
    ['a restart pending twice, then OK', ['OK - restart pending', 'OK - restart pending', 'OK'], 3],
  ])('%s', (_, states, asked) => {
    expect(checked(states, 'slot_settled api-orders-a')).toEqual({ code: 0, asked });
  });

  it('gives up after 5 s of pending, with status 1', () => {
    expect(checked(['Not monitored - start pending'], 'slot_settled api-orders-a')).toEqual({
      code: 1,
      asked: 101,
    });
  });
});

// Real monit's answers right after `monit unmonitor`: test/reliability/monit-unmonitor.test.ts.
describe('slot_unwatched', () => {
  it.each([
    ['done at once', ['Not monitored'], 1],
    ['an unmonitor pending, then Not monitored', ['OK - unmonitor pending', 'Not monitored'], 2],
  ])('%s', (_, states, asked) => {
    expect(checked(states, 'slot_unwatched api-orders-a')).toEqual({ code: 0, asked });
  });
});
