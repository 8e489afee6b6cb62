// `svc top`'s one remote command per host and refresh: a read-only sh script that reads /proc for
// the service's process tree and asks the init system, monit and the health URL, printing one
// record per line (top-sample.ts parses them strictly). Every value from the manifest is
// shell-quoted; everything the host or the service controls (release name, monit's word, the
// init system's state) leaves the host hex-encoded, and everything else is a number.
import { hostLayout } from './layout.js';
import { lifecyclePreamble } from './lifecycle.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';

export const TOP_FORMAT = 'svc-top 1';

/**
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

/**
 * fds: every open descriptor of the tree (`ls -lq`: a name's newline or tab shows as `?`, so a
 * file the service names cannot add lines); established: the tree's sockets (their inodes) that
 * the service's network namespace lists as ESTABLISHED (st 01) in /proc/net/tcp and tcp6.
 */
const DESCRIPTORS = String.raw`descriptors() {
  set --; for p in $pids; do set -- "$@" "/proc/$p/fd"; done
  { ls -lq "$@" 2>/dev/null; echo ' NET'; cat "/proc/$pid/net/tcp" "/proc/$pid/net/tcp6" 2>/dev/null; } | awk '
    $0 == " NET" { net = 1; next }
    !net { if ($1 ~ /^l/) fds++; if ($NF ~ /^socket:\[[0-9]+\]$/) { i = $NF; gsub(/[^0-9]/, "", i); sock[i] = 1 }; next }
    $4 == "01" && ($10 in sock) { est++ }
    END { printf "D\t%d\t%d\n", fds, est }'
}`;

/**
 * Restarts since the last deploy, by monit: `'NAME' trying to restart` lines in monit's log (the
 * file monitrc's `set log` names; its last 1 MiB) stamped after the deploy finished (the mtime of
 * svc's records, written once the deploy is healthy and done), except the one that follows a
 * `restart on user request` (svc restart). A death, and a failed health check, both log it;
 * the deploy's own start (before the records are written) and svc start do not count. Compared
 * as ISO 8601 text in the host's own zone, to the second (strictly after); a log in another
 * format (no ISO 8601 stamp on any line), or no deploy, is unknown (-). A line cut by the
 * 1 MiB, or a message's continuation line, is skipped.
 */
const MONIT_RESTARTS = String.raw`monit_restarts() {
  log=$(sed -n 's/^[[:space:]]*set[[:space:]][[:space:]]*log\(file\)\{0,1\}[[:space:]][[:space:]]*\(\/[^[:space:]]*\).*/\2/p' /etc/monit/monitrc /etc/monitrc 2>/dev/null | head -n 1)
  deployed=$(stat -c %Y "$records" 2>/dev/null) && [ -n "$log" ] && [ -f "$log" ] || { echo -; return; }
  since=$(date -d "@$deployed" +%Y-%m-%dT%H:%M:%S%z) || { echo -; return; }
  tail -c 1048576 "$log" | grep -F -- "'$name' " | awk -v since="[$since]" -v who="'$name'" '
    substr($0, 1, 6) !~ /^\[[0-9][0-9][0-9][0-9]-$/ { other++; next }
    { iso++ }
    index($0, who " restart on user request") { asked = 1; next }
    index($0, who " trying to restart") { if (asked) asked = 0; else if (substr($0, 1, length(since)) > since) n++ }
    END { print (other && !iso ? "-" : n + 0) }'
}`;

export interface TopScriptOptions {
  /** Seconds between the first reading of CPU time and the rest (0: the caller keeps the last). */
  gap: number;
}

export function topScript(manifest: Manifest, options: TopScriptOptions): string {
  const url =
    manifest.port !== undefined
      ? `http://127.0.0.1:${manifest.appPort ?? manifest.port}${manifest.health ?? '/'}`
      : '';
  const watched = manifest.monit || manifest.init === 'monit';
  const gap = Math.max(0, Math.min(10, options.gap));
  return [
    lifecyclePreamble(manifest),
    'set +e',
    TREE,
    DESCRIPTORS,
    MONIT_RESTARTS,
    `records=${q(`${hostLayout(manifest.name).records}/installed.json`)}`,
    `echo 'B ${TOP_FORMAT}'`,
    `printf 'K\\t%s\\t%s\\n' "$(getconf CLK_TCK 2>/dev/null || echo 100)" "$(getconf PAGESIZE 2>/dev/null || echo 4096)"`,
    'pid=$(main_pid)',
    ...(gap > 0
      ? [
          `printf 'T0\\t%s\\n' "$(uptime_now)"`,
          '[ -z "$pid" ] || tree "$pid" C',
          `sleep ${gap}`,
          'pid=$(main_pid)',
        ]
      : []),
    `printf 'T\\t%s\\n' "$(uptime_now)"`,
    `printf 'S\\t%s\\n' "\${pid:--}"`,
    'out=; [ -z "$pid" ] || out=$(tree "$pid" P)',
    '[ -z "$out" ] || printf "%s\\n" "$out"',
    'pids=$(printf "%s\\n" "$out" | cut -f 2)',
    'if [ -n "$pids" ]; then descriptors; else printf "D\\t-\\t-\\n"; fi',
    `release=$(readlink "$current" 2>/dev/null | sed 's#^releases/##')`,
    `printf 'F\\t%s\\t%s\\t%s\\n' "$(printf %s "$release" | hex)" "$(stat -c %Y "$current" 2>/dev/null || echo -)" "$(date +%s)"`,
    // The init system's word for the unit (systemd: active/running; OpenRC, upstart: their status).
    'restarts=-; state=',
    'if [ "$init" = systemd ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then',
    '  show=$(systemctl show -p ActiveState -p SubState -p NRestarts -- "$name" 2>/dev/null)',
    `  state=$(printf '%s\\n' "$show" | sed -n 's/^ActiveState=//p')/$(printf '%s\\n' "$show" | sed -n 's/^SubState=//p')`,
    `  restarts=$(printf '%s\\n' "$show" | sed -n 's/^NRestarts=//p' | tr -cd 0-9); [ -n "$restarts" ] || restarts=-`,
    'elif [ "$init" = openrc ] && command -v rc-service >/dev/null 2>&1; then',
    `  state=$(rc-service "$name" status 2>/dev/null | sed -n 's/.*status: *//p' | head -n 1)`,
    'elif [ "$init" = upstart ] && command -v initctl >/dev/null 2>&1; then',
    `  state=$(initctl status "$name" 2>/dev/null | sed -n 's/^[^ ]* \\([^,]*\\).*/\\1/p' | head -n 1)`,
    'fi',
    'field I "$state"',
    'monit=',
    'if command -v monit >/dev/null 2>&1; then',
    `  monit=$(monit status "$name" 2>/dev/null | sed -n 's/^  status *//p' | head -n 1)`,
    ...(watched
      ? [
          '  more=$(monit_restarts)',
          '  if [ "$more" != - ]; then if [ "$restarts" = - ]; then restarts=$more; else restarts=$((restarts + more)); fi; fi',
        ]
      : []),
    'fi',
    'field M "$monit"',
    `printf 'R\\t%s\\n' "$restarts"`,
    ...(url
      ? [
          't0=$(date +%s%N)',
          `code=$(http_code ${q(url)} | tr -cd 0-9)`,
          't1=$(date +%s%N)',
          // A date without %N (busybox) prints no digits: the latency is then unknown.
          `case "$t0$t1" in *[!0-9]*) ms=-;; *) ms=$(( (t1 - t0) / 1000000 ));; esac`,
          `printf 'H\\t%s\\t%s\\n' "\${code:-0}" "$ms"`,
        ]
      : [`printf 'H\\t-\\t-\\n'`]),
    "echo 'E'",
    '',
  ].join('\n');
}
