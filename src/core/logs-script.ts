// The remote script of `svc logs`. /var/log/NAME belongs to the service user, so whatever sits at
// NAME.log is that user's choice: a link to /etc/shadow, a FIFO, a root-only file. The script runs
// as root (sudo), so it refuses a link at the log path itself and then opens the log only as the
// service user: the kernel's permission check is that user's, and a link swapped in after the
// check still gets "Permission denied". Pure: every value is shell-quoted here.
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';
import { trapOnce } from './signal-trap.js';
import { REMOVE_OWN_FILE } from './script-file.js';

/** The tools that switch to the service user, in the order tried; the first that works is used. */
export const USER_SWITCHERS = ['setpriv', 'runuser', 'su', 'chroot --userspec'] as const;

/** Exit codes of the script, for the tests and the CLI. */
export const LOGS_EXIT = {
  noLog: 3,
  refused: 4,
  noSwitcher: 5,
  unreadable: 6,
  tailEnded: 7,
} as const;

// Each candidate is probed with `id -u` as the user: a tool that is missing, or a variant that
// lacks an option (busybox setpriv has no --reuid, busybox chroot no --userspec), or one
// that did not really switch, prints something else and the next is tried. The chosen command
// prefix is left in "$@". su runs `exec "$0" "$@"` so the argv after the user name is passed as
// words, never as shell text; `--` ends su's options (util-linux su reads options after the user).
const SWITCH_USER = String.raw`uid=$(id -u "$user" 2>/dev/null) && gid=$(id -g "$user" 2>/dev/null) ||
  fail "the service user $user does not exist on this host" ${LOGS_EXIT.noSwitcher}
as_user_works() { [ "$("$@" id -u 2>/dev/null)" = "$uid" ]; }
if command -v setpriv >/dev/null 2>&1 && as_user_works setpriv --reuid="$uid" --regid="$gid" --clear-groups --; then
  set -- setpriv --reuid="$uid" --regid="$gid" --clear-groups --
elif command -v runuser >/dev/null 2>&1 && as_user_works runuser -u "$user" --; then
  set -- runuser -u "$user" --
elif command -v su >/dev/null 2>&1 && as_user_works su -s /bin/sh -c 'exec "$0" "$@"' -- "$user"; then
  set -- su -s /bin/sh -c 'exec "$0" "$@"' -- "$user"
elif command -v chroot >/dev/null 2>&1 && as_user_works chroot --userspec="$uid:$gid" /; then
  set -- chroot --userspec="$uid:$gid" /
else
  fail "cannot read the log as $user: none of ${USER_SWITCHERS.join(', ')} can switch to that user on this host" ${LOGS_EXIT.noSwitcher}
fi`;

// -f: tail runs in the background and a watcher reads this shell's stdin, which svc holds open
// while it follows. When svc ends it (Ctrl-C), or svc dies, or the connection drops, sshd closes
// it, the watcher stops tail, and nothing is left running on the host. An INT or TERM relayed by
// sshd and sudo does the same. stdin is moved to fd 3 first: an asynchronous command's stdin is
// /dev/null in a non-interactive shell. svc sent the script itself ahead, read by exact length, so
// the watcher sees only what comes after it: nothing, then the end.
const FOLLOW = String.raw`exec 3<&0 </dev/null
"$@" tail -n "$lines" -F -- "$log" 3<&- &
tail_pid=$!
sh -c 'cat >/dev/null; kill "$1" 2>/dev/null' sh "$tail_pid" <&3 >/dev/null 2>&1 3<&- &
watch_pid=$!
exec 3<&-
${trapOnce('kill "$tail_pid" "$watch_pid" 2>/dev/null; exit 0')}
set +e
wait "$tail_pid" 2>/dev/null
code=$?
kill "$watch_pid" 2>/dev/null
# 143: TERM, from the watcher or the trap. Anything else: tail ended on its own.
[ "$code" = 143 ] || fail "tail stopped following $log (exit $code)" ${LOGS_EXIT.tailEnded}
exit 0`;

/**
 * Prints the last `lines` lines of the service log (then, with `follow`, what is appended, until
 * stdin ends), read as the service user. Each refusal is one line on stderr and its own exit code.
 */
export function logsScript(manifest: Manifest, lines: number, follow: boolean): string {
  if (!Number.isInteger(lines) || lines < 1) throw new Error(`lines must be positive: ${lines}`);
  const log = hostLayout(manifest.name).logFile;
  return [
    'set -eu',
    // With -f, $0 is this script's temporary file (remote/ssh.ts, holdStdin): it removes itself.
    REMOVE_OWN_FILE,
    'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `fail() { printf '%s\\n' "$1" >&2; exit "$2"; }`,
    `user=${q(manifest.user)}`,
    `log=${q(log)}`,
    `lines=${lines}`,
    // A dangling link is not -e: ask -L first.
    `if [ -L "$log" ]; then fail "$log is a symbolic link, not a log: svc logs does not follow links in the service user's directory" ${LOGS_EXIT.refused}; fi`,
    `if [ ! -e "$log" ]; then fail "no log yet: $log" ${LOGS_EXIT.noLog}; fi`,
    // A FIFO would hang tail; a directory or device is no log either.
    `if [ ! -f "$log" ]; then fail "$log is not a regular file: svc logs reads only a regular file" ${LOGS_EXIT.refused}; fi`,
    SWITCH_USER,
    `if ! "$@" test -r "$log"; then fail "$log is not readable by $user: svc logs reads it as the service user, never as root" ${LOGS_EXIT.unreadable}; fi`,
    follow ? FOLLOW : `exec "$@" tail -n "$lines" -- "$log"`,
    '',
  ].join('\n');
}
