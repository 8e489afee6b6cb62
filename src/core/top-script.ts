// `svc top`'s reader on a host: one long-lived, read-only sh per host and connection, sent once,
// that answers each request line on its stdin (`first`, `next`: one per refresh, svc's one remote
// command per host per refresh) with one sample of the service, and ends when its stdin ends (svc
// quits, is killed, or the connection drops). top-sample.ts parses a sample strictly. A sample
// reads /proc for the service's process tree (the live slot's under cutover: switch,
// service-process.ts) and asks the init system, monit and the health URL. It costs the host a
// few processes (one cat, one ls and one awk for the tree, its descriptors and connections; curl; under
// systemd systemctl); the rest is sh's own builtins, and what changes only with a deploy or an
// event (the live release; monit's word and restart count) is read again only when its file
// changed. Every value from the manifest is shell-quoted; everything the host or the service
// controls (release name, monit's word, the init system's state) leaves the host hex-encoded,
// and everything else is a number.
import { isSwitch } from './cutover.js';
import { AWK_LINK_TARGET, CHOOSE_LS_FLAGS } from './fd-listing.js';
import { hostLayout } from './layout.js';
import { lifecyclePreamble } from './lifecycle.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';
import { exitTrapOnce, trapOnce } from './signal-trap.js';
import { PRIVATE_TMP_FUNCTION } from './private-tmp.js';
import { REMOVE_OWN_FILE } from './script-file.js';

export const TOP_FORMAT = 'svc-top 1';

/** svc's request lines: a first sample (it reads CPU twice, 1 s apart), and every later one. */
export const TOP_REQUEST = { first: 'first\n', next: 'next\n' } as const;

/**
 * svc trace's tree (svc top's reader has its own, SCAN, that also counts descriptors).
 * The tree under $1 from one read of every /proc/PID/stat (one `cat`, not one per process), as
 * `TAG pid start ticks threads rss`: start in clock ticks since boot, ticks = utime + stime +
 * cutime + cstime (children already reaped count too), rss in pages. The command name, which the
 * service chooses and may hold spaces, parentheses and newlines, is cut off at the last ") ",
 * and lines are joined until 22 fields follow it (a name has at most 15 bytes: never that many).
 */
export const TREE = String.raw`tree() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" -v tag="$2" '
    { buf = (buf == "" ? $0 : buf "\n" $0); r = buf; sub(/.*\) /, "", r); n = split(r, f, " ")
      if (n < 22) { if (++held > 16) { buf = ""; held = 0 }; next }
      p = buf; sub(/ .*/, "", p); buf = ""; held = 0
      if (p !~ /^[0-9]+$/) next
      kids[f[2]] = kids[f[2]] " " p
      data[p] = f[20] "\t" (f[12] + f[13] + f[14] + f[15]) "\t" f[18] "\t" f[22] }
    END { if (!(root in data)) exit
      q[1] = root; seen[root] = 1; head = 1; tail = 1
      while (head <= tail && tail < 4096) {
        p = q[head++]; printf "%s\t%s\t%s\n", tag, p, data[p]
        m = split(kids[p], c, " "); for (i = 1; i <= m; i++) if (!(c[i] in seen)) { seen[c[i]] = 1; q[++tail] = c[i] } } }'
}
uptime_now() { cut -d ' ' -f 1 /proc/uptime; }`;

/** awk, on one `ls -l` line of an fd directory: the socket it is (fd-listing.ts), into sock[]. */
const SOCKET_OF_LINE = `${AWK_LINK_TARGET}; if (target ~ /^socket:\\[[0-9]+\\]$/) { gsub(/[^0-9]/, "", target); sock[target] = 1 }`;

/**
 * fds: every open descriptor of the tree (`ls -lq`, busybox's `ls -l`: a name's newline or tab
 * shows as `?`, so a file the service names cannot add lines); established: the tree's sockets (their inodes) that
 * the service's network namespace lists as ESTABLISHED (st 01) in /proc/PID/net/tcp and tcp6
 * (read by awk itself, no cat; a process gone meanwhile fails it: the counts are then unknown).
 */
const DESCRIPTORS = String.raw`tree_pids() {
  # $pids: the second field of $out's process lines (C or P), split by sh: IFS a newline, no globs.
  pids=; set -f; IFS='
'
  for l in $out; do case $l in [CP]"$tab"*) l=${'$'}{l#*"$tab"}; pids="$pids ${'$'}{l%%"$tab"*}" ;; esac; done
  IFS=$ifs; set +f
}
descriptors() {
  set --; for p in $pids; do set -- "$@" "/proc/$p/fd"; done
  # A host without IPv6 has no tcp6: awk reads nothing in its place.
  t4=/proc/$pid/net/tcp; t6=/proc/$pid/net/tcp6
  [ -r "$t4" ] || t4=/dev/null; [ -r "$t6" ] || t6=/dev/null
  ls $ls_q "$@" 2>/dev/null | awk '
    FILENAME == "-" { if ($1 ~ /^l/) { fds++; ${SOCKET_OF_LINE} }; next }
    $4 == "01" && ($10 in sock) { est++ }
    END { printf "D\t%d\t%d\n", fds, est }' - "$t4" "$t6" 2>/dev/null || printf 'D\t-\t-\n'
}`;

/**
 * `scan ROOT TAG PIDS`: the tree under ROOT, as TREE prints it, and its descriptors, in ONE awk
 * fed by one cat and one ls. cat reads every /proc/PID/stat, then ROOT's /proc/ROOT/net/tcp and
 * tcp6 (a process gone meanwhile is skipped by cat; awk must not open /proc files itself: mawk
 * ends on a read error, and a process that exits between open and read gives one, so under
 * process churn a whole sample was lost); then comes a marker line and the `ls -lq` of PIDS' fd
 * directories (the previous sample's tree; a name's newline or tab shows as `?`).
 * Stat records are joined as TREE joins them (a command name, at most 15 bytes, may hold
 * newlines; the pid is the record's first field, the fields follow the name's last ") "); the
 * tcp tables start at their header line, which no stat record holds (longer than a name and
 * without ") "), and give the sockets ESTABLISHED (st 01) in the service's network namespace.
 * At the marker awk walks the tree, then counts the descriptors of processes still in it and
 * their established sockets. The D record only when ROOT is among PIDS (a process that joined
 * the tree since counts from the next sample); else the caller lists the new tree's descriptors
 * itself (descriptors).
 */
const SCAN_MARK = 'svc-top: descriptors follow';
const SCAN = String.raw`scan() {
  s_root=$1 s_tag=$2 s_pids=$3
  set --; for p in $s_pids; do set -- "$@" "/proc/$p/fd"; done
  {
    cat /proc/[0-9]*/stat "/proc/$s_root/net/tcp" "/proc/$s_root/net/tcp6" 2>/dev/null
    echo '${SCAN_MARK}'
    [ $# -eq 0 ] || ls $ls_q "$@" 2>/dev/null
  } | awk -v root="$s_root" -v tag="$s_tag" -v listed="$s_pids" '
    function walk() {
      walked = 1
      if (!(root in data)) return
      q[1] = root; seen[root] = 1; head = 1; tail = 1
      while (head <= tail && tail < 4096) {
        p = q[head++]; printf "%s\t%s\t%s\n", tag, p, data[p]
        k = split(kids[p], c, " "); for (i = 1; i <= k; i++) if (!(c[i] in seen)) { seen[c[i]] = 1; q[++tail] = c[i] } }
      k = split(listed, l, " "); for (i = 1; i <= k; i++) if (l[i] == root) counted = 1
      cur = l[1]
    }
    walked { if ($0 ~ /^\/proc\/[0-9]+\/fd:$/) { cur = $0; gsub(/[^0-9]/, "", cur) }
      else if ((cur in seen) && $1 ~ /^l/) { fds++; ${SOCKET_OF_LINE} }
      next }
    $0 == "${SCAN_MARK}" { walk(); next }
    /^ *sl +local_address / { tcp = 1; buf = ""; next }
    tcp { if ($4 == "01") estab[$10] = 1; next }
    { buf = (buf == "" ? $0 : buf "\n" $0); r = buf; sub(/.*\) /, "", r); m = split(r, x, " ")
      if (m < 22) { if (++held > 16) { buf = ""; held = 0 }; next }
      p = buf; sub(/ .*/, "", p); buf = ""; held = 0
      if (p !~ /^[0-9]+$/) next
      kids[x[2]] = kids[x[2]] " " p
      data[p] = x[20] "\t" (x[12] + x[13] + x[14] + x[15]) "\t" x[18] "\t" x[22] }
    END {
      if (!walked) walk()
      if (!counted || !(root in data)) exit
      for (s in sock) if (s in estab) est++
      printf "D\t%d\t%d\n", fds, est
    }'
}`;

/** The characters `hexs` encodes itself; anything else goes through od. */
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 /_.:()-';

/**
 * `hexs TEXT` sets $enc to TEXT hex-encoded: with sh's builtins (a `case` per character) when
 * TEXT holds only PLAIN characters, as the init systems' and monit's words do, else with od.
 */
const HEXS = [
  'hexs() {',
  '  enc=; s=$1',
  `  case $s in *[!"${PLAIN}"]*) enc=$(printf %s "$s" | od -An -v -tx1 | tr -d ' \\n'); return ;; esac`,
  '  while [ -n "$s" ]; do',
  '    r=${s#?}; c=${s%"$r"}; s=$r',
  '    case $c in',
  ...[...PLAIN].map(
    (c) => `      ${q(c)}) enc=\${enc}${c.charCodeAt(0).toString(16).padStart(2, '0')} ;;`,
  ),
  '    esac',
  '  done',
  '}',
].join('\n');

/** monit's log file, from monitrc's `set log` (or `set logfile`). */
const MONIT_LOG = String.raw`monit_log() {
  sed -n 's/^[[:space:]]*set[[:space:]][[:space:]]*log\(file\)\{0,1\}[[:space:]][[:space:]]*\(\/[^[:space:]]*\).*/\2/p' /etc/monit/monitrc /etc/monitrc 2>/dev/null | head -n 1
}`;

/**
 * Restarts since the last deploy, by monit: `'CHECK' trying to restart` lines in monit's log
 * ($log; its last 1 MiB) stamped after the deploy finished (the mtime of svc's records, written
 * once the deploy is healthy and done), except the one that follows a `restart on user request`
 * (svc restart). A death, and a failed health check, both log it; the deploy's own start (before
 * the records are written) and svc start do not count. Compared as ISO 8601 text in the host's
 * own zone, to the second (strictly after); a log in another format (no ISO 8601 stamp on any
 * line), or no deploy, is unknown (-). A line cut by the 1 MiB, or a message's continuation
 * line, is skipped. CHECK is the live slot's check under cutover: switch.
 */
const MONIT_RESTARTS = String.raw`monit_restarts() {
  deployed=$(stat -c %Y "$records" 2>/dev/null) && [ -n "$log" ] && [ -f "$log" ] || { echo -; return; }
  since=$(date -d "@$deployed" +%Y-%m-%dT%H:%M:%S%z) || { echo -; return; }
  tail -c 1048576 "$log" | grep -F -- "'$1' " | awk -v since="[$since]" -v who="'$1'" '
    substr($0, 1, 6) !~ /^\[[0-9][0-9][0-9][0-9]-$/ { other++; next }
    { iso++ }
    index($0, who " restart on user request") { asked = 1; next }
    index($0, who " trying to restart") { if (asked) asked = 0; else if (substr($0, 1, length(since)) > since) n++ }
    END { print (other && !iso ? "-" : n + 0) }'
}
fresh() { [ ! -e "$1" ] || [ "$tmp/seen" -nt "$1" ]; }
monit_now() {
  if [ -n "$tmp" ] && [ "$monit" = OK ] && [ "$monit_for" = "$1 $pid" ] && [ $((u - monit_at)) -lt 30 ] &&
    [ -n "$log" ] && fresh "$log" && fresh "$records" && fresh /etc/monit/monitrc && fresh /etc/monitrc; then
    return
  fi
  # The mark first: a line monit writes from now on makes its log newer than the mark.
  [ -z "$tmp" ] || : > "$tmp/seen"
  log=$(monit_log)
  out=$(monit status "$1" 2>/dev/null); line_after "  status"; monit=$v
  more=$(monit_restarts "$1")
  monit_for="$1 $pid"; monit_at=$u
}`;

/**
 * The live release and when `current` was switched to it: readlink and stat only when `current`
 * no longer leads to the directory it did (test -ef compares the two directories' inodes).
 */
const RELEASE = String.raw`release_info() {
  if [ -n "$rel_dir" ] && [ "$current" -ef "$rel_dir" ]; then return; fi
  if [ "$rel_dir" = none ] && [ ! -e "$current" ] && [ ! -h "$current" ]; then return; fi
  target=$(readlink "$current" 2>/dev/null) || target=
  release=${'$'}{target#releases/}
  deployed_at=$(stat -c %Y "$current" 2>/dev/null) || deployed_at=-
  case $target in "") rel_dir=none ;; /*) rel_dir=$target ;; *) rel_dir=${'$'}{current%/*}/$target ;; esac
}`;

/** The health URL's status and how long it took (ms), into $code and $ms. */
function healthFunction(url: string): string {
  return [
    'health() {',
    '  if [ -n "$have_curl" ]; then',
    `    h=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 3 ${q(url)} 2>/dev/null) || :`,
    '    code=${h%% *}; t=${h#* }; ms=-',
    '    case $t in [0-9]*.[0-9]*)',
    '      sec=${t%%.*}; frac=${t#*.}000; frac=${frac%"${frac#???}"}',
    // No leading zeros: sh's arithmetic reads 012 as octal.
    '      while :; do case $frac in 0?*) frac=${frac#0} ;; *) break ;; esac; done',
    '      case $sec$frac in *[!0-9]*) ;; *) ms=$((sec * 1000 + frac)) ;; esac ;;',
    '    esac',
    '  else',
    // No curl: wget or node (lifecycle.ts http_code), timed by date (busybox has no %N: unknown).
    '    t0=$(date +%s%N)',
    `    code=$(http_code ${q(url)} | tr -cd 0-9)`,
    '    t1=$(date +%s%N)',
    '    case "$t0$t1" in *[!0-9]*) ms=- ;; *) ms=$(( (t1 - t0) / 1000000 )) ;; esac',
    '  fi',
    '  case $code in "" | *[!0-9]*) code=0 ;; esac',
    '}',
  ].join('\n');
}

/** A line of $out (a command's output) that starts with $1: the rest of it, into $v. */
const LINE_AFTER = String.raw`line_after() {
  v="
$out"
  case $v in *"
$1"*) v=${'$'}{v#*"
$1"}; v=${'$'}{v%%"
"*}; v=${'$'}{v#"${'$'}{v%%[! ]*}"} ;; *) v= ;; esac
}`;

/** The init system's word for the unit (systemd: active/running; OpenRC, upstart: their status). */
const INIT_STATE = String.raw`init_state() {
  state= restarts=-
  if [ -n "$show" ]; then
    prop ActiveState; state=$v; prop SubState; state=$state/$v
    prop NRestarts; case $v in "" | *[!0-9]*) ;; *) restarts=$v ;; esac
  elif [ "$init" = openrc ] && [ -n "$have_rc" ]; then
    out=$(rc-service "$name${'$'}{slot:+.$slot}" status 2>/dev/null)
    v=${'$'}{out#*status: }; [ "$v" != "$out" ] && state=${'$'}{v%%"
"*} && state=${'$'}{state#"${'$'}{state%%[! ]*}"}
  elif [ "$init" = upstart ] && [ -n "$have_initctl" ]; then
    out=$(initctl status "$name" ${'$'}{slot:+"SLOT=$slot"} 2>/dev/null); v=${'$'}{out%%"
"*}
    case $v in *" "*) v=${'$'}{v#* }; state=${'$'}{v%%,*} ;; esac
  fi
}`;

export function topReader(manifest: Manifest): string {
  const url =
    manifest.port !== undefined
      ? `http://127.0.0.1:${manifest.appPort ?? manifest.port}${manifest.health ?? '/'}`
      : '';
  const watched = manifest.monit || manifest.init === 'monit';
  const sample = [
    'sample() {',
    `  echo 'B ${TOP_FORMAT}'`,
    `  printf 'K\\t%s\\t%s\\n' "$ticks" "$page"`,
    '  service_pid',
    '  if [ "$1" = first ]; then',
    `    up=; { read -r up _; } 2>/dev/null < /proc/uptime || :; printf 'T0\\t%s\\n' "$up"`,
    '    out=; [ -z "$pid" ] || out=$(scan "$pid" C "")',
    `    [ -z "$out" ] || { printf '%s\\n' "$out"; tree_pids; }`,
    '    sleep 1; service_pid',
    '  fi',
    `  up=; { read -r up _; } 2>/dev/null < /proc/uptime || :; printf 'T\\t%s\\n' "$up"`,
    `  printf 'S\\t%s\\n' "\${pid:--}"`,
    // The tree, and the descriptors of the previous sample's tree ($pids) still in it.
    '  out=; [ -z "$pid" ] || out=$(scan "$pid" P "$pids")',
    '  if [ -n "$out" ]; then',
    `    printf '%s\\n' "$out"`,
    '    case $out in *"D$tab"*) tree_pids ;; *) tree_pids; descriptors ;; esac',
    `  else pids=; printf 'D\\t-\\t-\\n'; fi`,
    '  release_info; hexs "$release"',
    '  u=${up%.*}; case $u in "" | *[!0-9]*) u=$up0 ;; esac',
    `  printf 'F\\t%s\\t%s\\t%s\\n' "$enc" "$deployed_at" "$((now0 + u - up0))"`,
    ...(isSwitch(manifest)
      ? [
          `  idle_slot_pid; printf 'L\\t%s\\t%s\\t%s\\n' "\${slot:--}" "\${idle_slot:--}" "\${idle_pid:--}"`,
        ]
      : []),
    `  init_state; hexs "$state"; printf 'I\\t%s\\n' "$enc"`,
    // monit is asked only where svc set it to watch the service: it has no check otherwise.
    '  if [ -n "$have_monit" ] && [ -n "$watched" ]; then',
    '    monit_now "${check:-$name}"',
    '    if [ "$more" != - ]; then if [ "$restarts" = - ]; then restarts=$more; else restarts=$((restarts + more)); fi; fi',
    '  else monit=; fi',
    `  hexs "$monit"; printf 'M\\t%s\\n' "$enc"`,
    `  printf 'R\\t%s\\n' "$restarts"`,
    ...(url ? [`  health; printf 'H\\t%s\\t%s\\n' "$code" "$ms"`] : [`  printf 'H\\t-\\t-\\n'`]),
    "  echo 'E'",
    '}',
  ].join('\n');
  return [
    lifecyclePreamble(manifest),
    // A reader that lives for hours: an unset name or a failing command must not end it.
    'set +eu',
    // $0 is this script's temporary file (remote/ssh.ts, holdStdin): it removes itself.
    REMOVE_OWN_FILE,
    PRIVATE_TMP_FUNCTION,
    SCAN,
    DESCRIPTORS,
    HEXS,
    MONIT_LOG,
    MONIT_RESTARTS,
    RELEASE,
    LINE_AFTER,
    INIT_STATE,
    ...(url ? [healthFunction(url)] : []),
    sample,
    `records=${q(`${hostLayout(manifest.name).records}/installed.json`)}`,
    // What does not change while svc top runs, read once.
    "tab=$(printf '\\t'); ifs=$IFS",
    'ticks=$(getconf CLK_TCK 2>/dev/null) || ticks=100; page=$(getconf PAGESIZE 2>/dev/null) || page=4096',
    // The host's clock: read once, then carried by /proc/uptime (no date per sample).
    'up0=; { read -r up0 _; } 2>/dev/null < /proc/uptime || :; up0=${up0%.*}; now0=$(date +%s)',
    'case $up0$now0 in "" | *[!0-9]*) up0=0; now0=0 ;; esac',
    'have_curl=; have_monit=; have_rc=; have_initctl=',
    'command -v curl >/dev/null 2>&1 && have_curl=1',
    'command -v monit >/dev/null 2>&1 && have_monit=1',
    'command -v rc-service >/dev/null 2>&1 && have_rc=1',
    'command -v initctl >/dev/null 2>&1 && have_initctl=1',
    CHOOSE_LS_FLAGS,
    `rel_dir= release= deployed_at=- more=- monit= monit_for= monit_at=0 log= watched=${watched ? 1 : ''}`,
    // A private directory for the mark monit_now compares monit's log with; gone at the end, or
    // swept by the next svc top when a SIGKILL ended this one (private-tmp.ts).
    'tmp=$(private_tmp top 2>/dev/null) || tmp=',
    exitTrapOnce('[ -z "$tmp" ] || rm -rf -- "$tmp"'),
    trapOnce('exit 1'),
    // One sample per request line; the end of stdin ends the reader.
    'while IFS= read -r ask; do',
    '  case $ask in first | next) sample "$ask" ;; *) echo "svc top: unknown request" >&2; exit 2 ;; esac',
    'done',
    '',
  ].join('\n');
}
