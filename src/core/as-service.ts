// Running a command as the service user, with the service's environment, in a release directory:
// what `svc exec` and release commands (svc.yaml `release:`) share. Root (sudo) reads the env file
// (root's, 0600: the service user cannot read it) and only then drops to the user, through the
// first of setpriv, runuser, su and chroot --userspec that really switches on this host (probed
// with `id -u`, as logs-script.ts does). The directory is entered as the user, so the kernel's
// permission check is theirs. Every value travels as a positional parameter of a constant script:
// none is ever pasted into shell text. Pure: this module only makes text.
import { shellQuote as q } from './quote.js';

/** The tools that switch to the service user, in the order tried. */
export const SWITCHERS = ['setpriv', 'runuser', 'su', 'chroot'] as const;

/** A command's exit status when the env file could not be read, or the directory entered. */
export const AS_SERVICE_EXIT = { envFile: 125, directory: 126 } as const;

/** The PATH the command starts with, as a service unit's (the env file may not set PATH). */
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// $1 tool, $2 uid, $3 gid, $4 user, $5 directory, $6 env file ('' for none), then the command.
// The argv is built first and the env file sourced last, so nothing the file defines (a legacy
// config/ env file may hold lower-case names) can change what runs: only `exec "$@"` follows.
// su passes the words after the user name to its shell (-s /bin/sh -c), $0 first.
const RUN_AS = `tool=$1 uid=$2 gid=$3 user=$4 dir=$5 envf=$6; shift 6
enter='cd -- "$0" || exit ${AS_SERVICE_EXIT.directory}; exec "$@"'
case $tool in
  setpriv) set -- setpriv --reuid="$uid" --regid="$gid" --init-groups -- /bin/sh -c "$enter" "$dir" "$@" ;;
  runuser) set -- runuser -u "$user" -- /bin/sh -c "$enter" "$dir" "$@" ;;
  su) set -- su -s /bin/sh -c "$enter" -- "$user" "$dir" "$@" ;;
  chroot) set -- chroot --userspec="$uid:$gid" / /bin/sh -c "$enter" "$dir" "$@" ;;
  *) exit ${AS_SERVICE_EXIT.envFile} ;;
esac
# (a missing file would end sh with its own status: a dot script that cannot be read is fatal)
if [ -n "$envf" ]; then [ -r "$envf" ] || exit ${AS_SERVICE_EXIT.envFile}; set -a; . "$envf"; set +a; fi
exec "$@"`;

/**
 * sh: `sa_run`, the constant script above, and `as_service_pick USER`: how root becomes USER on
 * this host (sa_tool, sa_uid, sa_gid, sa_home, sa_user), or 1 when no tool can. Each tool is
 * probed through sa_run itself, the very path the command will take.
 */
export const AS_SERVICE = String.raw`sa_run=${q(RUN_AS)}
as_service_pick() {
  sa_user=$1
  sa_uid=$(id -u -- "$sa_user" 2>/dev/null) && sa_gid=$(id -g -- "$sa_user" 2>/dev/null) || return 1
  sa_home=$(getent passwd "$sa_user" 2>/dev/null | cut -d: -f6) || sa_home=
  [ -n "$sa_home" ] || sa_home=/
  for sa_tool in ${SWITCHERS.join(' ')}; do
    [ "$(env -i PATH=${BASE_PATH} /bin/sh -c "$sa_run" sh "$sa_tool" "$sa_uid" "$sa_gid" "$sa_user" / '' id -u 2>/dev/null)" = "$sa_uid" ] && return 0
  done
  return 1
}`;

/**
 * The words (shell text) that run `command` (already shell text: quoted words or "$@") as the
 * picked user in `dir` with `envFile` sourced, from a clean environment (PATH, HOME, USER,
 * LOGNAME, SHELL, and TERM when `term`), as a service unit starts from one. `dir` and `envFile`
 * are shell text too (quoted values, or "$var").
 */
export function asServiceCommand(
  dir: string,
  envFile: string,
  command: string,
  options: { term?: boolean } = {},
): string {
  return [
    'env -i',
    `PATH=${BASE_PATH}`,
    '"HOME=$sa_home" "USER=$sa_user" "LOGNAME=$sa_user" SHELL=/bin/sh',
    ...(options.term ? ['${TERM:+"TERM=$TERM"}'] : []),
    '/bin/sh -c "$sa_run" sh "$sa_tool" "$sa_uid" "$sa_gid" "$sa_user"',
    dir,
    envFile,
    command,
  ].join(' ');
}

/** The one line said when no tool can switch to the user. */
export function noSwitcherLine(user: string): string {
  return `cannot run as ${user}: it does not exist on this host, or none of ${SWITCHERS.join(', ')} can switch to it`;
}
