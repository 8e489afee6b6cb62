// The remote script of `svc logs`, run by a real sh as root on a scratch host (test/helpers/
// apply-run.ts): each refusal is its own line and exit code, the log is read as the service user
// through whichever switcher works, and -f ends when its stdin does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGS_EXIT, USER_SWITCHERS, logsScript } from '../../src/core/logs-script.js';
import { ScratchHost } from '../helpers/apply-run.js';
import { manifest } from '../helpers/plan-fixtures.js';

const LOG = '/var/log/api-orders/api-orders.log';
const LINES = 'one\ntwo\nthree\n';

let host: ScratchHost;
beforeAll(() => {
  host = ScratchHost.create();
  host.sh(
    'useradd --system --no-create-home api-orders && useradd --system --no-create-home other',
  );
}, 60_000);
afterAll(() => host?.dispose());

/** The log directory as the service user has it, then `setup`, then the script. */
function logs(setup: string, options: { lines?: number; follow?: boolean; user?: string } = {}) {
  const script = logsScript(
    { ...manifest, user: options.user ?? 'api-orders' },
    options.lines ?? 2,
    options.follow ?? false,
  );
  return host.run(
    [
      'rm -rf /var/log/api-orders /usr/local/sbin/setpriv /usr/local/sbin/runuser /usr/local/sbin/su /usr/local/sbin/chroot',
      'mkdir -p /var/log/api-orders && chown api-orders:api-orders /var/log/api-orders',
      setup,
      `sh -c ${shq(script)} </dev/null`,
    ].join('\n'),
  );
}
const shq = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** A switcher that exists but does not work (a variant without the option, say). */
const broken = (name: string) =>
  `printf '#!/bin/sh\\nexit 1\\n' > /usr/local/sbin/${name} && chmod 755 /usr/local/sbin/${name}`;

describe('logsScript', () => {
  it.each([
    ['a log', `printf '${LINES}' > ${LOG} && chown api-orders ${LOG}`, 0, 'two\nthree\n', ''],
    ['no log yet', '', LOGS_EXIT.noLog, '', `no log yet: ${LOG}\n`],
    [
      'a link at the log',
      `ln -s /etc/shadow ${LOG}`,
      LOGS_EXIT.refused,
      '',
      `${LOG} is a symbolic link, not a log: svc logs does not follow links in the service user's directory\n`,
    ],
    [
      'a dangling link at the log',
      `ln -s /nowhere ${LOG}`,
      LOGS_EXIT.refused,
      '',
      `${LOG} is a symbolic link, not a log: svc logs does not follow links in the service user's directory\n`,
    ],
    [
      'a FIFO at the log',
      `mkfifo ${LOG}`,
      LOGS_EXIT.refused,
      '',
      `${LOG} is not a regular file: svc logs reads only a regular file\n`,
    ],
    [
      'a directory at the log',
      `mkdir ${LOG}`,
      LOGS_EXIT.refused,
      '',
      `${LOG} is not a regular file: svc logs reads only a regular file\n`,
    ],
    [
      'a log only root can read',
      `printf '${LINES}' > ${LOG} && chmod 600 ${LOG}`,
      LOGS_EXIT.unreadable,
      '',
      `${LOG} is not readable by api-orders: svc logs reads it as the service user, never as root\n`,
    ],
  ])('%s', (_, setup, code, stdout, stderr) => {
    expect(logs(setup)).toEqual({ code, stdout, stderr });
  });

  it('a service user the host does not have', () => {
    expect(logs(`printf '${LINES}' > ${LOG}`, { user: 'nobody-here' })).toEqual({
      code: LOGS_EXIT.noSwitcher,
      stdout: '',
      stderr: 'the service user nobody-here does not exist on this host\n',
    });
  });

  it.each([
    ['setpriv', ['setpriv']],
    ['runuser', ['setpriv', 'runuser']],
    ['su', ['setpriv', 'runuser', 'su']],
  ])('reads as the user when only the switchers after %s work', (_, disabled) => {
    const setup = [
      `printf '${LINES}' > ${LOG} && chown api-orders ${LOG} && chmod 600 ${LOG}`,
      ...disabled.map(broken),
    ].join('\n');
    expect(logs(setup, { lines: 1 })).toEqual({ code: 0, stdout: 'three\n', stderr: '' });
  });

  it('refuses when no switcher works, naming them all', () => {
    const setup = [
      `printf '${LINES}' > ${LOG}`,
      ...['setpriv', 'runuser', 'su', 'chroot'].map(broken),
    ].join('\n');
    expect(logs(setup)).toEqual({
      code: LOGS_EXIT.noSwitcher,
      stdout: '',
      stderr: `cannot read the log as api-orders: none of ${USER_SWITCHERS.join(', ')} can switch to that user on this host\n`,
    });
  });

  it('a switcher that runs as someone else is not taken for working', () => {
    // `su` that ignores the user: root's id, not the service user's.
    const fakeSu = `printf '#!/bin/sh\\nexec /usr/bin/id -u\\n' > /usr/local/sbin/su && chmod 755 /usr/local/sbin/su`;
    const setup = [
      `printf '${LINES}' > ${LOG} && chown api-orders ${LOG} && chmod 600 ${LOG}`,
      broken('setpriv'),
      broken('runuser'),
      fakeSu,
    ].join('\n');
    expect(logs(setup, { lines: 1 })).toEqual({ code: 0, stdout: 'three\n', stderr: '' });
  });

  it('reads as the service user: a log readable by another user only is refused', () => {
    const setup = `printf '${LINES}' > ${LOG} && chown other ${LOG} && chmod 600 ${LOG}`;
    expect(logs(setup).code).toBe(LOGS_EXIT.unreadable);
  });

  it('-f: prints the last lines, then ends cleanly when its stdin ends', () => {
    const setup = `printf '${LINES}' > ${LOG} && chown api-orders ${LOG}`;
    const result = logs(setup, { follow: true, lines: 3 });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('removes itself when run from its temporary file, and only then', () => {
    const script = logsScript(manifest, 1, false);
    const run = host.run(
      [
        `f=$(mktemp /tmp/svc-run.XXXXXXXX); printf '%s' ${shq(script)} > "$f"; sh "$f" >/dev/null 2>&1; [ -e "$f" ] && echo kept || echo removed`,
        `g=$(mktemp /tmp/other.XXXXXXXX); printf '%s' ${shq(script)} > "$g"; sh "$g" >/dev/null 2>&1; [ -e "$g" ] && echo kept || echo removed; rm -f "$g"`,
      ].join('\n'),
    );
    expect(run.stdout).toBe('removed\nkept\n');
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s lines', (lines) => {
    expect(() => logsScript(manifest, lines, false)).toThrow(`lines must be positive: ${lines}`);
  });

  it('a user name with shell characters stays one word', () => {
    expect(logs(`printf '${LINES}' > ${LOG}`, { user: "x'; echo pwned; '" })).toEqual({
      code: LOGS_EXIT.noSwitcher,
      stdout: '',
      stderr: "the service user x'; echo pwned; ' does not exist on this host\n",
    });
  });
});
