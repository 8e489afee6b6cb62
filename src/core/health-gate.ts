// The health gate of the apply script: after (re)starting the service, wait until it answers, or
// notice that the process this start began has died, within a poll interval of its death, not
// the health timeout later. Pure text: sh functions for the script, and the lines that call them.
//
// How a death is seen: under systemd, from the unit's own record (ExecMainStartTimestamp after the
// one it had before this start, and an ExecMainExitTimestamp after that), with the exit status
// systemd gives. Under the others (monit's launcher, OpenRC, upstart), from the service's pid
// (the pidfile; under OpenRC supervise-daemon's record of its child, layout.ts): a pid
// other than the one it held before this start that is gone (or a zombie) when first seen, or a
// process seen alive that is gone since; no exit status is known then, and none is invented.
import { expand } from './facts.js';
import { hostLayout, servicePidFile } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';

/** Lines of the service's log sent back when a start fails: its last lines from this start. */
export const LOG_TAIL_LINES = 20;

export const HEALTH = String.raw`# http_ok URL [HOST]: URL itself answers 200 within 2 s, asked with that Host header when one is
# given: a whole response (its head and body) within the 2 s, so a status line followed by
# nothing, or by a head that never ends, is no answer. Exactly 200 whatever the client: a
# redirect is neither followed (its Location may name another machine) nor taken for an answer,
# nor is a 204. The client is chosen once: curl, else GNU wget (busybox's follows redirects,
# always), else node; each bounded by a clock of its own (wget's -T is per read, so coreutils'
# timeout bounds it as a whole).
http_client=
http_bound=
http_ok() {
  if [ -z "$http_client" ]; then
    if command -v curl >/dev/null 2>&1; then http_client=curl
    elif wget --version 2>/dev/null | grep -q '^GNU Wget'; then http_client=wget
    else http_client=node; fi
    if command -v timeout >/dev/null 2>&1; then http_bound='timeout 3'; fi
  fi
  case $http_client in
    curl)
      if [ -n "${'$'}{2-}" ]; then set -- "$1" -H "Host: $2"; else set -- "$1"; fi
      # curl prints the status it read even when the transfer then times out (exit 28).
      http_status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$@") && [ "$http_status" = 200 ] ;;
    wget)
      if [ -n "${'$'}{2-}" ]; then set -- "$1" --header "Host: $2"; else set -- "$1"; fi
      http_head=$($http_bound wget -S -O /dev/null -T 2 -t 1 --max-redirect=0 "$@" 2>&1) &&
        [ "$(printf '%s
' "$http_head" | awk '$1 ~ /^HTTP\// { print $2; exit }')" = 200 ] ;;
    *) node -e 'const h=process.argv[2],r=require("http").get(process.argv[1],h?{headers:{host:h}}:{},s=>{s.resume();s.on("end",()=>process.exit(s.statusCode===200?0:1))});r.on("error",()=>process.exit(1));setTimeout(()=>{r.destroy();process.exit(1)},2000)' "$1" "${'$'}{2-}" ;;
  esac
}
# Hundredths of a second since boot into $up_cs (the shell's own read, no process).
uptime_cs() {
  IFS=. read -r up_cs frac rest < /proc/uptime || { up_cs=0; return 0; }
  frac=${expand('frac%% *')}; up_cs=$((up_cs * 100 + ${expand('frac#0')}))
}
# Process $1 is alive (not gone, not a zombie): its start time (clock ticks since boot) in $start,
# its parent's pid in $ppid.
proc_alive() {
  start= ppid=
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  set -- ${expand('stat##*) ')}
  case $1 in Z|X|x) return 1 ;; esac
  ppid=$2; shift 19 && start=$1
}
ticks=$(getconf CLK_TCK 2>/dev/null) || ticks=100
case $ticks in ''|*[!0-9]*|0) ticks=100 ;; esac
# The pid in a pidfile into $pid (digits only, else empty), read by the shell itself.
read_pid() {
  pid=
  if [ -r "$1" ]; then read -r pid < "$1" || :; fi
  case $pid in ''|*[!0-9]*) pid= ;; esac
}
pid_ok() { read_pid "$1"; [ -n "$pid" ] && proc_alive "$pid"; }
# The service's log, read as the service user: its directory is that user's, so root never opens
# a path there (a link would be followed with root's rights).
as_service() {
  [ -n "$gate_uid" ] || return 1
  setpriv --reuid="$gate_uid" --regid="$gate_gid" --clear-groups -- "$@"
}
log_size() {
  size=$(as_service stat -L -c %s -- "$gate_log" 2>/dev/null) || size=0
  case $size in ''|*[!0-9]*) size=0 ;; esac
}
# The log's last lines written since gate_begin (from its start if it was set aside or rotated).
# Bounded before root's side reads it: only a regular file (a FIFO would hang undo, a link to
# /dev/zero would never end), at most its last 64 KiB; sent: the last 4 KiB (the crash is last).
log_tail() {
  log_size; from=$gate_offset; [ "$size" -ge "$from" ] || from=0
  [ "$size" -le $((from + 65536)) ] || from=$((size - 65536))
  as_service sh -c '[ -f "$1" ] && exec tail -c "+$2" -- "$1"' sh "$gate_log" "$((from + 1))" 2>/dev/null | head -c 65536 | tail -n ${LOG_TAIL_LINES} | tail -c 4096
}
gate_pidfile= gate_unit= gate_log= gate_uid= gate_gid= gate_offset=0
before_pid= began_cs=0 sd_before=0 seen_pid= seen_start= seen_cs=0 exit_how= exit_ds=
# gate_begin PIDFILE UNIT LOG USER, just before a start: what the start is measured against.
# An empty PIDFILE and UNIT: no death is looked for (only the health check decides).
gate_begin() {
  gate_pidfile=$1 gate_unit=$2 gate_log=$3
  gate_uid=$(id -u -- "$4" 2>/dev/null) || gate_uid=
  gate_gid=$(id -g -- "$4" 2>/dev/null) || gate_gid=
  read_pid "$1"; before_pid=$pid
  seen_pid= seen_start= exit_how= exit_ds=
  uptime_cs; began_cs=$up_cs
  sd_before=0; [ -z "$2" ] || { sd_show; sd_before=$sd_start; }
  log_size; gate_offset=$size
}
# The unit's main process as systemd recorded it: start and exit (microseconds since boot), how.
sd_show() {
  sd_start=0 sd_exit=0 sd_code= sd_status=
  for kv in $(systemctl show -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic -p ExecMainCode -p ExecMainStatus -- "$gate_unit" 2>/dev/null); do
    case $kv in
      ExecMainStartTimestampMonotonic=*) sd_start=${expand('kv#*=')} ;;
      ExecMainExitTimestampMonotonic=*) sd_exit=${expand('kv#*=')} ;;
      ExecMainCode=*) sd_code=${expand('kv#*=')} ;;
      ExecMainStatus=*) sd_status=${expand('kv#*=')} ;;
    esac
  done
  case $sd_start in ''|*[!0-9]*) sd_start=0 ;; esac
  case $sd_exit in ''|*[!0-9]*) sd_exit=0 ;; esac
  case $sd_status in ''|*[!0-9]*) sd_status= ;; esac
}
# 0 when the process this start began has ended: $exit_how (status N, signal N, or empty when
# unknown) and $exit_ds (tenths of a second it lived) say how.
gate_died() {
  if [ -n "$gate_unit" ]; then
    sd_show
    [ "$sd_start" -gt "$sd_before" ] && [ "$sd_exit" -ge "$sd_start" ] || return 1
    case $sd_code:$sd_status in
      1:?*) exit_how="status $sd_status" ;;
      [23]:?*) exit_how="signal $sd_status" ;;
      *) exit_how= ;;
    esac
    exit_ds=$(( (sd_exit - sd_start) / 100000 ))
    return 0
  fi
  [ -n "$gate_pidfile" ] || return 1
  if [ -n "$seen_pid" ]; then
    if proc_alive "$seen_pid" && [ "$start" = "$seen_start" ]; then return 1; fi
    from=$seen_cs
  else
    read_pid "$gate_pidfile"
    [ -n "$pid" ] && [ "$pid" != "$before_pid" ] || return 1
    if proc_alive "$pid"; then
      seen_pid=$pid seen_start=$start seen_cs=$((start * 100 / ticks))
      return 1
    fi
    from=$began_cs
  fi
  uptime_cs; exit_how=; exit_ds=$(( (up_cs - from) / 10 ))
  [ "$exit_ds" -ge 0 ] || exit_ds=0
  return 0
}
# A live process other than the old one (a health check must not be answered by the release
# being replaced); 2 when the process this start began died first, 1 after $3 seconds.
wait_new_pid() { # pidfile old-pid seconds
  uptime_s; end=$((up_s + $3))
  while :; do
    ! gate_died || return 2
    read_pid "$1"
    if [ -n "$pid" ] && [ "$pid" != "$2" ] && proc_alive "$pid"; then return 0; fi
    uptime_s; [ "$up_s" -lt "$end" ] || return 1
    sleep 0.05
  done
}
# 0 once healthy, 2 when the process died first, 1 after $3 seconds.
wait_healthy() { # kind target seconds
  uptime_s; end=$((up_s + $3))
  while :; do
    if [ "$1" = url ]; then http_ok "$2" && return 0; else pid_ok "$2" && sleep 1 && pid_ok "$2" && return 0; fi
    ! gate_died || return 2
    uptime_s; [ "$up_s" -lt "$end" ] || return 1
    sleep 0.1
  done
}`;

/**
 * gate_begin for a start of this service. `watch`: look for the process's death (the forward
 * gate always; the rollback's only where the init system itself records it, systemd, since under
 * the others a pid in the pidfile may still be a start monit began before the undo).
 */
export function gateBegin(manifest: Manifest, watch: 'always' | 'recorded'): string {
  const layout = hostLayout(manifest.name);
  const unit = manifest.init === 'systemd' ? manifest.name : '';
  const pidfile =
    unit === '' && watch === 'always' ? servicePidFile(manifest.name, manifest.init) : '';
  return `gate_begin ${q(pidfile)} ${q(unit)} ${q(layout.logFile)} ${q(manifest.user)}`;
}
