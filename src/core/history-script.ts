// The sh side of a service's history (history-record.ts has the line format): the functions the
// deploy script and the lifecycle scripts use to append their record, and the script `svc
// history` runs to read it back. Every record is written by the script that does the work:
//
//   hist_begin ACTION OPERATOR VERSION   before anything is changed: checks the history's
//       directories, and leaves a pending record (result interrupted) that names this shell;
//   hist_end RESULT REASON               appends the real record and drops the pending one;
//   hist_later                           a first deploy's pending record, once its plan made
//                                        /var/lib/svc/NAME; hist_drop: no record (the release
//                                        phase, whose deploy records it).
//
// A run killed outright (SIGKILL, a reboot) never reaches hist_end: its pending record is
// appended by the next run that writes (once its shell is gone), and `svc history` shows it
// meanwhile, as running while that shell lives. Appends and rotations take the history's own
// flock: start, stop and restart do not take the deploy lock, so two runs can end at once.
// Root writes only in /var/lib/svc/NAME/history, each directory on the way checked to be root's
// alone (not a link, owner 0, writable by neither group nor others), the file 0600.
import { hostLayout } from './layout.js';
import { shellQuote as q } from './quote.js';
import type { HistoryAction, HistoryWho } from './history-record.js';
import type { Operation } from './operations.js';
import { HISTORY_FORMAT, REASON_MAX, UNKNOWN_WHO } from './history-record.js';
import { REMOVE_OWN_FILE } from './script-file.js';

/** Records kept per service and host: past this, the oldest are rotated out. */
export const HISTORY_LIMIT = 1000;

/** /var/lib/svc/NAME/history: root's 0700 directory holding `records` (0600). */
export const historyDir = (service: string) => `${hostLayout(service).records}/history`;
export const historyFile = (service: string) => `${historyDir(service)}/records`;

const dollar = (expression: string) => '${' + expression + '}';

/**
 * The functions, for a script that has `set -eu` and nothing else of svc's: every variable they
 * use starts with hist_. `say` (the deploy's protocol) keeps hist_fail, the last FAIL line's text,
 * and hist_step; a lifecycle script sets hist_fail itself before it exits.
 */
export function historyFunctions(service: string, limit = HISTORY_LIMIT): string {
  const tab = '\t';
  const dir = q(historyDir(service));
  const file = q(historyFile(service));
  return [
    `hist_records=${q(hostLayout(service).records)}`,
    `hist_current=${q(hostLayout(service).current)}`,
    'hist_open=0 hist_fail= hist_step= hist_exited= hist_pending= hist_cut=',
    // The release `current` points at: its ID, `-` when there is no link, `?` when it is not one.
    'hist_release() {',
    '  hist_id=$(readlink -- "$hist_current" 2>/dev/null) || hist_id=',
    // `releases/ID`, or its absolute path (as layout.ts's liveReleaseOf takes it).
    `  hist_id=${dollar('hist_id#releases/')}; hist_id=${dollar(`hist_id#${q(`${hostLayout(service).releases}/`)}`)}`,
    `  case $hist_id in '') hist_id=- ;; *[!0-9a-f]*) hist_id='?' ;; *) [ ${dollar('#hist_id')} -eq 12 ] || hist_id='?' ;; esac`,
    '}',
    // Whole seconds since boot: a clock set back or forward mid-run does not change a duration.
    `hist_now() { IFS=. read -r hist_up hist_rest < /proc/uptime; printf %s "$hist_up"; }`,
    // The start time of process $1 into $hist_st (empty when gone): with the pid, one process for good.
    'hist_started() {',
    '  hist_st=',
    '  { read -r hist_stat < "/proc/$1/stat"; } 2>/dev/null || return 0',
    `  set -- ${dollar('hist_stat##*) ')}`,
    '  shift 19 && hist_st=$1',
    '}',
    // A reason as kept: one line, no control characters, bounded (a cut multibyte character at the
    // end is the reader's to show).
    // A reason that is already so (printable ASCII, short: the empty one of every success) is
    // kept by the shell itself, without the pipeline's three processes.
    'hist_clean() {',
    `  case $1 in *[![:print:]]*) ;; *) [ ${dollar('#1')} -gt ${REASON_MAX} ] || { printf %s "$1"; return 0; } ;; esac`,
    `  printf %s "$1" | tr '\\t\\r\\n' '   ' | tr -d '\\000-\\037\\177' | head -c ${REASON_MAX}`,
    '}',
    // A directory of svc's state, made root's 0700 when missing; 1 when it is not root's alone.
    // One this mkdir made is root's 0700 by construction (its parent was checked first): no stat.
    'hist_private() {',
    '  if [ ! -d "$1" ] && mkdir -m 0700 -- "$1" 2>/dev/null; then return 0; fi',
    // Two runs may make it at once: whichever mkdir loses, the directory is there to be checked.
    '  [ -d "$1" ] && [ ! -L "$1" ] || return 1',
    `  case $(stat -c '%u %a' -- "$1") in '0 '*[2367]? | '0 '*[2367]) return 1 ;; '0 '*) return 0 ;; *) return 1 ;; esac`,
    '}',
    // hist_line RESULT SECONDS REASON AFTER
    'hist_line() {',
    `  printf '${HISTORY_FORMAT}${tab}%s${tab}%s${tab}%s${tab}%s${tab}%s${tab}%s${tab}%s${tab}%s${tab}%s' "$hist_at" "$hist_action" "$hist_operator" "$hist_version" "$hist_before" "$4" "$1" "$2" "$3"`,
    '}',
    // hist_append LINE: under the history's lock, the pending records of runs that are gone first,
    // then LINE; then the oldest lines past the limit go (a temporary name, renamed over). Every
    // path written is spelt out (apply-files.test.ts holds root's writes to svc's own state).
    // hist_check DIR...: each a directory (not a link) that is root's alone, with one stat.
    'hist_check() {',
    '  for hist_d do [ -d "$hist_d" ] && [ ! -L "$hist_d" ] || return 1; done',
    `  hist_m=$(stat -c '%u:%a' -- "$@") || return 1`,
    '  hist_d=$#',
    '  set -- $hist_m',
    '  [ $# -eq "$hist_d" ] || return 1',
    '  for hist_m do',
    `    case $hist_m in 0:*[2367]? | 0:*[2367]) return 1 ;; 0:*) ;; *) return 1 ;; esac`,
    '  done',
    '}',
    // Those that are there are checked with one stat; a missing one is made only after its parent
    // was checked, so root never makes a directory through a link or where another user writes.
    'hist_dirs() {',
    `  set -- "${dollar('hist_records%/*')}" "$hist_records" ${dir}`,
    '  if [ -d "$3" ]; then hist_check "$@"',
    '  elif [ -d "$2" ]; then hist_check "$1" "$2" && hist_private "$3"',
    '  else hist_private "$1" && hist_private "$2" && hist_private "$3"; fi',
    '}',
    'hist_append() {',
    '  hist_dirs || return 1',
    `  if [ -L ${file} ] || { [ -e ${file} ] && [ ! -f ${file} ]; }; then return 1; fi`,
    '  (',
    '    umask 077',
    `    exec 8>>${dir}/lock`,
    '    flock -w 30 8 || exit 1',
    `    for hist_p in ${dir}/pending.*; do`,
    '      [ -f "$hist_p" ] && [ ! -L "$hist_p" ] && [ "$hist_p" != "$hist_pending" ] || continue',
    '      { IFS= read -r hist_l; read -r hist_pid hist_pst; } < "$hist_p" || { rm -f -- "$hist_p"; continue; }',
    '      hist_started "$hist_pid"',
    '      if [ -n "$hist_st" ] && [ "$hist_st" = "$hist_pst" ]; then continue; fi',
    `      printf '%s\\n' "$hist_l" >> ${file} || exit 1`,
    '      rm -f -- "$hist_p"',
    '    done',
    `    printf '%s\\n' "$1" >> ${file} || exit 1`,
    // This run's pending record goes under the same lock: never folded in beside its real one.
    '    [ -z "$hist_pending" ] || rm -f -- "$hist_pending"',
    `    [ ! -L ${file} ] && chmod 0600 -- ${file}`,
    `    if [ "$(wc -l < ${file})" -gt ${limit} ]; then`,
    `      rm -f -- ${file}.svc-new`,
    `      { tail -n ${limit} -- ${file} > ${file}.svc-new && mv -f -T -- ${file}.svc-new ${file}; } || rm -f -- ${file}.svc-new`,
    '    fi',
    '  )',
    '}',
    // hist_begin ACTION OPERATOR VERSION: the directories checked, the pending record in place.
    'hist_begin() {',
    '  hist_action=$1 hist_operator=$2 hist_version=$3',
    '  hist_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
    '  hist_t0=$(hist_now)',
    '  hist_release; hist_before=$hist_id',
    // later: a deploy whose plan makes /var/lib/svc/NAME (a first deploy: a mkdir that fails on
    // anything there) leaves it to the plan; until it exists there is no pending record (the
    // deploy calls hist_later once the plan has made it), and hist_end makes it if the deploy
    // ended before it did.
    `  if [ "${dollar('4-')}" = later ] && [ ! -e "$hist_records" ] && [ ! -L "$hist_records" ]; then hist_open=1; return 0; fi`,
    '  hist_pend',
    '}',
    // The directories checked, and the pending record that names this shell.
    'hist_pend() {',
    '  hist_dirs || return 1',
    '  hist_started $$',
    `  hist_pending=${dir}/pending.$$`,
    '  rm -f -- "$hist_pending" "$hist_pending.new" || return 1',
    `  (umask 077; printf '%s\\n%s %s\\n' "$(hist_line interrupted - 'killed before it could record how it ended' '?')" "$$" "$hist_st" > ${dir}/pending."$$".new) || return 1`,
    '  mv -f -T -- "$hist_pending.new" "$hist_pending" || return 1',
    '  hist_open=1',
    '}',
    // hist_later: a first deploy, once its plan has made /var/lib/svc/NAME: its pending record
    // now, so that a shell killed from here on still leaves its record.
    'hist_later() {',
    '  [ "$hist_open" = 1 ] && [ -z "$hist_pending" ] || return 0',
    '  hist_pend',
    '}',
    // hist_drop: a run whose record another run writes (the release phase of a deploy: the
    // deploy's own script records it) ends without one: its pending record goes.
    'hist_drop() {',
    '  [ -z "$hist_pending" ] || rm -f -- "$hist_pending"',
    '  hist_open=0 hist_pending=',
    '}',
    // hist_end RESULT REASON: the record appended, the pending one dropped.
    'hist_end() {',
    '  [ "$hist_open" = 1 ] || return 0',
    '  hist_release',
    '  hist_append "$(hist_line "$1" "$(( $(hist_now) - hist_t0 ))" "$(hist_clean "$2")" "$hist_id")" || return 1',
    '  hist_open=0',
    '}',
    // hist_exit STATUS, from the EXIT trap: how a run that did not record its end ended.
    'hist_exit() {',
    '  [ "$hist_open" = 1 ] || return 0',
    '  case $1 in',
    `    0) hist_end done '' ;;`,
    // The gate's word on the new release (the EXITED line: how, tenths of a second it lived; the
    // undo's own gate reuses the gate's variables) when no FAIL line said more.
    `    77) hist_x=${dollar('hist_exited#EXITED?')}; hist_how=${dollar('hist_x%%	*')}; hist_ds=${dollar('hist_x##*	')}`,
    `        case $hist_ds in ''|*[!0-9]*) ;; *) [ -n "$hist_fail" ] || hist_fail="the new release exited${dollar('hist_how:+ ($hist_how)')} $((hist_ds / 10)).$((hist_ds % 10)) s after start" ;; esac`,
    `        hist_end 'rolled back' "${dollar('hist_fail:-the new release failed its health check')}" ;;`,
    // hist_cut: what a run that is not undone (start, stop, restart) left, said by its INT trap.
    `    130) hist_end interrupted "${dollar('hist_cut:-interrupted (Ctrl-C or svc unlock --force): what it had applied was undone')}" ;;`,
    `    *) hist_end failed "${dollar('hist_fail:-exit $1' + dollar('hist_step:+ after $hist_step'))}" ;;`,
    '  esac || :',
    '}',
  ].join('\n');
}

/**
 * The shell words that start a record: hist_begin with the action and who acts, quoted. `later`:
 * a deploy, whose plan may make /var/lib/svc/NAME itself.
 */
export function historyBegin(
  action: HistoryAction,
  who: HistoryWho = UNKNOWN_WHO,
  later = false,
): string {
  return `hist_begin ${action} ${q(who.operator)} ${q(who.version)}${later ? ' later' : ''}`;
}

/**
 * `svc history`: the newest `limit` records, then the pending ones, each said alive or not. Read
 * as root (the file is root's); nothing is written, so no lock is needed: rotation renames, and a
 * reader has the old file or the new one.
 */
export function historyReadScript(service: string, limit: number): string {
  const dir = historyDir(service);
  return [
    'set -eu',
    'export LC_ALL=C',
    `hist_started() { hist_st=; { read -r hist_stat < "/proc/$1/stat"; } 2>/dev/null || return 0; set -- ${dollar('hist_stat##*) ')}; shift 19 && hist_st=$1; }`,
    `printf 'B\\tsvc-history\\t1\\n'`,
    // The host's clock, for svc to measure its skew against its own (history-record.ts).
    `printf 'C\\t%s\\n' "$(date -u +%s)"`,
    `if [ -f ${q(`${dir}/records`)} ]; then tail -n ${limit} -- ${q(`${dir}/records`)} | sed 's/^/R\t/'; fi`,
    `for p in ${q(dir)}/pending.*; do`,
    '  [ -f "$p" ] && [ ! -L "$p" ] || continue',
    '  { IFS= read -r l; read -r pid pst; } < "$p" || continue',
    '  hist_started "$pid"',
    '  if [ -n "$hist_st" ] && [ "$hist_st" = "$pst" ]; then alive=1; else alive=0; fi',
    `  printf 'P\\t%s\\t%s\\n' "$alive" "$l"`,
    'done',
    `printf 'E\\tsvc-history\\n'`,
    '',
  ].join('\n');
}

/**
 * For `svc status`: the last deploy or rollback line of the history that changed something (not
 * one that found nothing to change, `unchanged`), or nothing.
 */
export function lastDeployLine(service: string): string {
  return `grep -E '^${HISTORY_FORMAT}\t[^\t]*\t(deploy|rollback)\t' ${q(historyFile(service))} 2>/dev/null | grep -v -E '^([^\t]*\t){7}unchanged\t' | tail -n 1 || true`;
}

/** What a deploy's record calls it: a rollback pins a release already on the host. */
export function deployAction(operations: readonly Operation[]): 'deploy' | 'rollback' {
  const release = operations.find((op) => op.kind === 'release');
  return release?.kind === 'release' && release.pinned === true ? 'rollback' : 'deploy';
}

/**
 * A deploy (or rollback) whose plan changes nothing on the host: no apply script runs there, only
 * this, which appends its record, `unchanged` (release before and after the same). It writes
 * nothing else; `svc plan` never runs it.
 */
export function historyUnchangedScript(
  service: string,
  action: 'deploy' | 'rollback',
  who: HistoryWho = UNKNOWN_WHO,
): string {
  const dir = historyDir(service);
  return [
    'set -eu',
    'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'umask 022',
    historyFunctions(service),
    `${historyBegin(action, who)} || { echo ${q(`svc cannot keep its history in ${dir} (not root's own private directory, or not writable)`)} >&2; exit 1; }`,
    `hist_end unchanged '' || { echo ${q(`the record could not be appended to ${dir}/records`)} >&2; exit 1; }`,
    '',
  ].join('\n');
}

/** The verdict svc writes to a held fact script (heldFactScript) when the host has nothing to change. */
export const VERDICT_UNCHANGED = 'unchanged';
/** What a held fact script prints once the `unchanged` record is appended. */
export const RECORDED_LINE = 'R\tsvc-recorded';

/**
 * `svc deploy`'s fact script in the one round trip of a no-op deploy (issue 14): read by exact
 * length (ssh.ts holdStdin), so its stdin after the script is svc's. The facts run with
 * /dev/null for stdin (they read none); then the shell waits for svc's verdict. `unchanged`
 * appends the record historyUnchangedScript would (same functions, in a subshell, as root: every
 * run is) and prints RECORDED_LINE; anything else, or the end of stdin (svc done with the host,
 * killed, or the connection lost), ends it writing nothing. The facts' output, and so their
 * digest, is the same as without the wait. `svc plan` and --dry-run never run this.
 */
export function heldFactScript(
  facts: string,
  service: string,
  action: 'deploy' | 'rollback',
  who: HistoryWho = UNKNOWN_WHO,
): string {
  return [
    // The script's own file (ssh.ts mktemp) goes first: nothing is left behind however it ends.
    REMOVE_OWN_FILE,
    'exec 3<&0 </dev/null',
    facts.replace(/\n$/, ''),
    // Only a whole line counts: svc killed while writing it leaves a part, and no record.
    'IFS= read -r svc_verdict <&3 || svc_verdict=',
    'exec 3<&-',
    `[ "$svc_verdict" = ${VERDICT_UNCHANGED} ] || exit 0`,
    `( ${historyUnchangedScript(service, action, who).replace(/\n$/, '')}\n) || exit $?`,
    `printf '${RECORDED_LINE.replace('\t', '\\t')}\\n'`,
    '',
  ].join('\n');
}
