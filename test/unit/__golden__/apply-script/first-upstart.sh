# releaseId: abc123abc123; previousId: -
# plan problems: []
# entry: release/server.js 644 2d711642b726
# entry: overlay/0/.api-orders.svc-new 600 6728a4a2930d
# entry: overlay/1/.api-orders.conf.svc-new 600 a8076d3d28d2
# entry: overlay/2/.api-orders.svc-new 600 573a4ab6e82c
set -eu
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
# Once it has its input, the script finishes (or undoes) what it began whatever becomes of svc's
# connection: what commands print goes to a root-only file on the host (its tail is sent back when
# something fails), and only the protocol goes to the channel (fd 3), each line from a subshell,
# so a channel that is gone kills that subshell with SIGPIPE, never the script. (Ignoring SIGPIPE
# instead would pass the ignoring on to the install step and the daemons started here.)
# Neither this script's own temporary file ($0, core/script-file.ts), which sh holds
# open, nor that output file keeps a name beyond this line: whatever ends this shell (a SIGKILL,
# a power cut), nothing of the deploy stays in /tmp. The output is read back through /proc.
output=$(mktemp)
exec 3>&1 1>>"$output" 2>&1
case "$0" in /tmp/svc-run.*) rm -f -- "$output" "$0" ;; *) rm -f -- "$output" ;; esac
output=/proc/$$/fd/1
# The last FAIL, STEP and EXITED are kept for the history's record (history-script.ts).
say() {
  case $* in "FAIL	"*) hist_fail=$*; hist_fail=${hist_fail#FAIL?} ;; "STEP	"*) hist_step=$*; hist_step=${hist_step#STEP?} ;; "EXITED	"*) hist_exited=$* ;; esac
  (printf '%s\n' "$*" >&3) 2>/dev/null || :
}
hex() { od -An -v -tx1 | tr -d ' \n'; }
# Whole seconds since boot into $up_s, read by the shell itself: the polling loops below run while
# other hosts' services start on the same CPUs, so they avoid a process per iteration.
uptime_s() { IFS=. read -r up_s rest 2>/dev/null < /proc/uptime || up_s=$(date +%s); }
proc_start() {
  start=
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 0
  set -- ${stat##*) }
  shift 19 && start=$1
}
stage=
holder=
checking=
applying=0
activated=0
# The lock needs no removing: the kernel releases it with the last descriptor, also when this
# shell is killed.
cleanup() {
  status=$?
  # A second signal (Ctrl-C again, svc unlock --force) must not cut the undo short.
  trap '' INT TERM HUP
  set +e
  if [ "$applying" = 1 ] && [ "$status" -ne 0 ]; then applying=0; say "FAILED	undoing"; undo; fi
  # After undo, so the record names the release live now; a run that recorded its end already
  # (a deploy that succeeded) records nothing here.
  hist_exit "$status"
  if [ "$status" -ne 0 ]; then say "OUTPUT	$(tail -c 2048 "$output" | hex)"; fi
  # A monit_checked still running in the background (the run failed after the health gate).
  [ -z "$checking" ] || kill "$checking" 2>/dev/null
  # One rm for both (a process, not two); the positional parameters are cleanup's own.
  set --
  [ -z "$holder" ] || set -- "$@" "$holder"
  [ -z "$stage" ] || set -- "$@" "$stage"
  [ "$#" = 0 ] || rm -rf -- "$@"
}
trap cleanup EXIT
# Ctrl-C can come twice at once (svc's SSH signal request, relayed by sudo, and its kill -INT of
# this shell, remote/ssh.ts): the first ignores the rest before anything else runs.
trap 'trap "" INT TERM HUP; exit 130' INT TERM HUP

hist_records=/var/lib/svc/api-orders
hist_current=/var/www/api-orders/current
hist_open=0 hist_fail= hist_step= hist_exited= hist_pending= hist_cut=
hist_release() {
  hist_id=$(readlink -- "$hist_current" 2>/dev/null) || hist_id=
  hist_id=${hist_id#releases/}; hist_id=${hist_id#/var/www/api-orders/releases/}
  case $hist_id in '') hist_id=- ;; *[!0-9a-f]*) hist_id='?' ;; *) [ ${#hist_id} -eq 12 ] || hist_id='?' ;; esac
}
hist_now() { IFS=. read -r hist_up hist_rest < /proc/uptime; printf %s "$hist_up"; }
hist_started() {
  hist_st=
  { read -r hist_stat < "/proc/$1/stat"; } 2>/dev/null || return 0
  set -- ${hist_stat##*) }
  shift 19 && hist_st=$1
}
hist_clean() {
  case $1 in *[![:print:]]*) ;; *) [ ${#1} -gt 300 ] || { printf %s "$1"; return 0; } ;; esac
  printf %s "$1" | tr '\t\r\n' '   ' | tr -d '\000-\037\177' | head -c 300
}
hist_private() {
  if [ ! -d "$1" ] && mkdir -m 0700 -- "$1" 2>/dev/null; then return 0; fi
  [ -d "$1" ] && [ ! -L "$1" ] || return 1
  case $(stat -c '%u %a' -- "$1") in '0 '*[2367]? | '0 '*[2367]) return 1 ;; '0 '*) return 0 ;; *) return 1 ;; esac
}
hist_line() {
  printf '1	%s	%s	%s	%s	%s	%s	%s	%s	%s' "$hist_at" "$hist_action" "$hist_operator" "$hist_version" "$hist_before" "$4" "$1" "$2" "$3"
}
hist_check() {
  for hist_d do [ -d "$hist_d" ] && [ ! -L "$hist_d" ] || return 1; done
  hist_m=$(stat -c '%u:%a' -- "$@") || return 1
  hist_d=$#
  set -- $hist_m
  [ $# -eq "$hist_d" ] || return 1
  for hist_m do
    case $hist_m in 0:*[2367]? | 0:*[2367]) return 1 ;; 0:*) ;; *) return 1 ;; esac
  done
}
hist_dirs() {
  set -- "${hist_records%/*}" "$hist_records" /var/lib/svc/api-orders/history
  if [ -d "$3" ]; then hist_check "$@"
  elif [ -d "$2" ]; then hist_check "$1" "$2" && hist_private "$3"
  else hist_private "$1" && hist_private "$2" && hist_private "$3"; fi
}
hist_append() {
  hist_dirs || return 1
  if [ -L /var/lib/svc/api-orders/history/records ] || { [ -e /var/lib/svc/api-orders/history/records ] && [ ! -f /var/lib/svc/api-orders/history/records ]; }; then return 1; fi
  (
    umask 077
    exec 8>>/var/lib/svc/api-orders/history/lock
    flock -w 30 8 || exit 1
    for hist_p in /var/lib/svc/api-orders/history/pending.*; do
      [ -f "$hist_p" ] && [ ! -L "$hist_p" ] && [ "$hist_p" != "$hist_pending" ] || continue
      { IFS= read -r hist_l; read -r hist_pid hist_pst; } < "$hist_p" || { rm -f -- "$hist_p"; continue; }
      hist_started "$hist_pid"
      if [ -n "$hist_st" ] && [ "$hist_st" = "$hist_pst" ]; then continue; fi
      printf '%s\n' "$hist_l" >> /var/lib/svc/api-orders/history/records || exit 1
      rm -f -- "$hist_p"
    done
    printf '%s\n' "$1" >> /var/lib/svc/api-orders/history/records || exit 1
    [ -z "$hist_pending" ] || rm -f -- "$hist_pending"
    [ ! -L /var/lib/svc/api-orders/history/records ] && chmod 0600 -- /var/lib/svc/api-orders/history/records
    if [ "$(wc -l < /var/lib/svc/api-orders/history/records)" -gt 1000 ]; then
      rm -f -- /var/lib/svc/api-orders/history/records.svc-new
      { tail -n 1000 -- /var/lib/svc/api-orders/history/records > /var/lib/svc/api-orders/history/records.svc-new && mv -f -T -- /var/lib/svc/api-orders/history/records.svc-new /var/lib/svc/api-orders/history/records; } || rm -f -- /var/lib/svc/api-orders/history/records.svc-new
    fi
  )
}
hist_begin() {
  hist_action=$1 hist_operator=$2 hist_version=$3
  hist_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  hist_t0=$(hist_now)
  hist_release; hist_before=$hist_id
  if [ "${4-}" = later ] && [ ! -e "$hist_records" ] && [ ! -L "$hist_records" ]; then hist_open=1; return 0; fi
  hist_pend
}
hist_pend() {
  hist_dirs || return 1
  hist_started $$
  hist_pending=/var/lib/svc/api-orders/history/pending.$$
  rm -f -- "$hist_pending" "$hist_pending.new" || return 1
  (umask 077; printf '%s\n%s %s\n' "$(hist_line interrupted - 'killed before it could record how it ended' '?')" "$$" "$hist_st" > /var/lib/svc/api-orders/history/pending."$$".new) || return 1
  mv -f -T -- "$hist_pending.new" "$hist_pending" || return 1
  hist_open=1
}
hist_later() {
  [ "$hist_open" = 1 ] && [ -z "$hist_pending" ] || return 0
  hist_pend
}
hist_drop() {
  [ -z "$hist_pending" ] || rm -f -- "$hist_pending"
  hist_open=0 hist_pending=
}
hist_end() {
  [ "$hist_open" = 1 ] || return 0
  hist_release
  hist_append "$(hist_line "$1" "$(( $(hist_now) - hist_t0 ))" "$(hist_clean "$2")" "$hist_id")" || return 1
  hist_open=0
}
hist_exit() {
  [ "$hist_open" = 1 ] || return 0
  case $1 in
    0) hist_end done '' ;;
    77) hist_x=${hist_exited#EXITED?}; hist_how=${hist_x%%	*}; hist_ds=${hist_x##*	}
        case $hist_ds in ''|*[!0-9]*) ;; *) [ -n "$hist_fail" ] || hist_fail="the new release exited${hist_how:+ ($hist_how)} $((hist_ds / 10)).$((hist_ds % 10)) s after start" ;; esac
        hist_end 'rolled back' "${hist_fail:-the new release failed its health check}" ;;
    130) hist_end interrupted "${hist_cut:-interrupted (Ctrl-C or svc unlock --force): what it had applied was undone}" ;;
    *) hist_end failed "${hist_fail:-exit $1${hist_step:+ after $hist_step}}" ;;
  esac || :
}
monit_has() { # name yes|no tries
  tries=0
  while :; do
    if monit summary "$1" >/dev/null 2>&1; then has=yes; else has=no; fi
    [ "$has" != "$2" ] || return 0
    # A reload is read in tens of milliseconds: short sleeps first, then 0.05 s.
    tries=$((tries + 1)); [ "$tries" -le "$3" ] || return 1
    if [ "$tries" -le 10 ]; then sleep 0.02; else sleep 0.05; fi
  done
}
monit_ready() { monit_has "$1" yes 400; }
monit_gone() { monit_has "$1" no 600; }
# monit_checked NAME: monit has checked the service since it started (15 s or so at most). A check monit
# just loaded was looked at in the cycle its reload began, before the deploy started the process:
# until its next cycle it says "Does not exist". Another reload makes that cycle now.
# The state is the first line that begins "  status", read by the shell itself (a monit process
# per try, no sed or head): these tries run while other hosts' services start on the same CPUs.
nl='
'
monit_checked() {
  monit reload || return 1
  tries=0
  while :; do
    state=$(monit status "$1" 2>/dev/null) || state=
    case $nl$state in
      *"$nl  status"*)
        state=${state#*"$nl  status"}
        state=${state%%"$nl"*}
        state=${state#"${state%%[! ]*}"} ;;
      *) state= ;;
    esac
    # An action still queued ("Not monitored - start pending") is not what monit will say next.
    case $state in ''|'Does not exist'|Initializing*|*pending) ;; *) return 0 ;; esac
    # monit's cycle after the reload takes tens of milliseconds: short sleeps first, then 0.1 s.
    tries=$((tries + 1)); [ "$tries" -le 160 ] || return 1
    if [ "$tries" -le 10 ]; then sleep 0.02; else sleep 0.1; fi
  done
}
nginx_pidfile() {
  ngx_pidfile=$(nginx -T 2>/dev/null | sed -n 's/^[[:space:]]*pid[[:space:]][[:space:]]*\([^;[:space:]]*\)[[:space:]]*;.*/\1/p' | head -n 1) || ngx_pidfile=
  [ -n "$ngx_pidfile" ] || ngx_pidfile=/run/nginx.pid
}
nginx_master() {
  master=
  if [ -d /run/systemd/system ]; then master=$(systemctl show -p MainPID --value nginx 2>/dev/null) || master=; fi
  case $master in ''|0|*[!0-9]*) master=; { read -r master < "$ngx_pidfile"; } 2>/dev/null || : ;; esac
  case $master in ''|*[!0-9]*) master= ;; esac
}
# ps_children PID: the pids whose parent is PID (every process's stat, parsed after its name).
# cat, not awk over the files: a process that ends between the glob and the read makes mawk
# (Debian's awk) stop at its file; cat says so and goes on to the next.
ps_children() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v m="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == m) print pid }' | tr '\n' ' '
}
nginx_workers() {
  workers=
  nginx_master
  [ -n "$master" ] || return 0
  if [ -r "/proc/$master/task/$master/children" ]; then read -r workers < "/proc/$master/task/$master/children" || :
  else workers=$(ps_children "$master"); fi
}
reload_nginx() {
  nginx_pidfile
  nginx_workers; old_workers=$workers
  if [ -d /run/systemd/system ]; then systemctl reload-or-restart nginx || return 1
  elif [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then nginx -s reload || return 1
  else nginx </dev/null >/dev/null 2>&1 3>&- 9>&-; return; fi # a daemon holding our pipes (or the lock) would keep them
  tries=0
  while :; do
    nginx_workers
    for w in $workers; do case " $old_workers " in *" $w "*) ;; *) tries=; break ;; esac; done
    [ -n "$tries" ] || break
    tries=$((tries + 1)); [ "$tries" -le 100 ] || return 1; sleep 0.1
  done
  tries=0
  for w in $old_workers; do
    while proc_alive "$w" && [ "$tries" -le 30 ]; do tries=$((tries + 1)); sleep 0.1; done
  done
}
env_port() {
  port=$(sed -n 's/^PORT="\{0,1\}\([0-9][0-9]*\)"\{0,1\}[[:space:]]*$/\1/p' "$1" 2>/dev/null | tail -n 1) || port=
}
# port_free PORT TRIES: wait until no TCP socket listens on PORT (the kernel's own tables: nginx
# closes a port it no longer needs only once its master has re-read its configuration, after the
# reload command returned); 1 when it is still taken after TRIES tenths of a second.
port_free() {
  hexport=$(printf '%04X' "$1"); tries=0
  while grep -Eq "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    tries=$((tries + 1)); [ "$tries" -le "$2" ] || return 1; sleep 0.1
  done
}
# http_ok URL [HOST]: URL itself answers 200 within 2 s, asked with that Host header when one is
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
      if [ -n "${2-}" ]; then set -- "$1" -H "Host: $2"; else set -- "$1"; fi
      # curl prints the status it read even when the transfer then times out (exit 28).
      http_status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$@") && [ "$http_status" = 200 ] ;;
    wget)
      if [ -n "${2-}" ]; then set -- "$1" --header "Host: $2"; else set -- "$1"; fi
      http_head=$($http_bound wget -S -O /dev/null -T 2 -t 1 --max-redirect=0 "$@" 2>&1) &&
        [ "$(printf '%s
' "$http_head" | awk '$1 ~ /^HTTP\// { print $2; exit }')" = 200 ] ;;
    *) node -e 'const h=process.argv[2],r=require("http").get(process.argv[1],h?{headers:{host:h}}:{},s=>{s.resume();s.on("end",()=>process.exit(s.statusCode===200?0:1))});r.on("error",()=>process.exit(1));setTimeout(()=>{r.destroy();process.exit(1)},2000)' "$1" "${2-}" ;;
  esac
}
# Hundredths of a second since boot into $up_cs (the shell's own read, no process).
uptime_cs() {
  IFS=. read -r up_cs frac rest < /proc/uptime || { up_cs=0; return 0; }
  frac=${frac%% *}; up_cs=$((up_cs * 100 + ${frac#0}))
}
# Process $1 is alive (not gone, not a zombie): its start time (clock ticks since boot) in $start,
# its parent's pid in $ppid.
proc_alive() {
  start= ppid=
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  set -- ${stat##*) }
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
  as_service sh -c '[ -f "$1" ] && exec tail -c "+$2" -- "$1"' sh "$gate_log" "$((from + 1))" 2>/dev/null | head -c 65536 | tail -n 20 | tail -c 4096
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
      ExecMainStartTimestampMonotonic=*) sd_start=${kv#*=} ;;
      ExecMainExitTimestampMonotonic=*) sd_exit=${kv#*=} ;;
      ExecMainCode=*) sd_code=${kv#*=} ;;
      ExecMainStatus=*) sd_status=${kv#*=} ;;
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
}
# listener_elsewhere PORT SITE DEFAULT: the first enabled nginx file other than SITE (in nginx's
# include order, conf.d before sites-enabled) with a listen on PORT into $other, empty when none;
# DEFAULT=1: only a listen that is the port's default_server. Comments go and the lines are joined
# first: a one-line server block, or a listen written over several lines, counts too.
listener_elsewhere() {
  other=
  if [ "$3" = 1 ]; then re="(^|[;{} ])listen +([^; ]*:)?$1( [^;]*)? default_server[ ;]"
  else re="(^|[;{} ])listen +([^; ]*:)?$1[ ;]"; fi
  for f in /etc/nginx/conf.d/*.conf /etc/nginx/sites-enabled/*; do
    [ -f "$f" ] && [ "$f" != "$2" ] || continue
    if sed 's/#.*//' "$f" | tr '\n\t\r' '   ' | grep -Eq "$re"; then other=$f; return 0; fi
  done
}
# wait_front URL HOST SECONDS: http_ok within SECONDS by the clock, as wait_healthy (nginx takes up
# a reload after the reload command returned; each ask may take its 2 s).
wait_front() {
  uptime_s; end=$((up_s + $3))
  until http_ok "$1" "$2"; do
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
  done
}
[ -d /var/lib/svc ] && [ ! -L /var/lib/svc ] || mkdir -m 0700 -- /var/lib/svc
chown -h root:root -- /var/lib/svc
chmod 0700 -- /var/lib/svc
if [ -L /var/lib/svc ] || [ ! -d /var/lib/svc ]; then svc_state=bad; else
  case $(stat -c '%u %a' -- /var/lib/svc) in '0 '*[2367]? | '0 '*[2367]) svc_state=bad ;; '0 '*) svc_state=ok ;; *) svc_state=bad ;; esac
fi
[ "$svc_state" = ok ] || { say "FAIL	/var/lib/svc is not root's own private directory (a link, another owner, or writable by group or others); svc does not keep its state there"; exit 1; }
if [ -d /var/lib/svc/locks ] && [ ! -L /var/lib/svc/locks ]; then
if [ -L /var/lib/svc/locks ] || [ ! -d /var/lib/svc/locks ]; then svc_state=bad; else
  case $(stat -c '%u %a' -- /var/lib/svc/locks) in '0 '*[2367]? | '0 '*[2367]) svc_state=bad ;; '0 '*) svc_state=ok ;; *) svc_state=bad ;; esac
fi
[ "$svc_state" = ok ] || { say "FAIL	/var/lib/svc/locks is not root's own private directory (a link, another owner, or writable by group or others); svc does not keep its state there"; exit 1; }
else mkdir -m 0700 -- /var/lib/svc/locks; fi
stage=$(mktemp -d /var/lib/svc/stage.api-orders."$$.XXXXXX")
tar -xzf - -C "$stage" --no-same-owner
say "STEP	received"
command -v flock >/dev/null || { say "FAIL	flock (util-linux) is missing on the host"; exit 1; }
exec 9>>/var/lib/svc/locks/api-orders.lock
uptime_s; deadline=$((up_s + 3))
until flock -n 9; do
  uptime_s; if [ "$up_s" -ge "$deadline" ]; then say "LOCKED	$(head -c 4096 /var/lib/svc/locks/api-orders.holder 2>/dev/null | hex)"; exit 75; fi
  sleep 1
done
holder=/var/lib/svc/locks/api-orders.holder
if [ -s "$holder" ]; then say "WARNING	a previous deploy did not finish: $(head -n 1 "$holder" | head -c 300 | tr -d '\000-\037')"; fi
for dir in /var/lib/svc/stage.api-orders.*; do
  pid=${dir#/var/lib/svc/stage.api-orders.}; pid=${pid%%.*}
  [ ! -d "$dir" ] || kill -0 "$pid" 2>/dev/null || rm -rf -- "$dir" || :
done
proc_start $$
printf '%s\n%s %s\n' '{"who":"test"}' "$$" "$start" > "$holder"
say "STEP	locked"
digest=$({ printf '%s\n' 5a175a175a175a175a175a175a175a17; sh -s <<'SVC_EOF_n0nce' | grep -v -e '^S	' -e '^T	' -e '^D	=/var/lib/svc	'; } | sha256sum
set -u
export LC_ALL=C
hex() { od -An -v -tx1 | tr -d ' \n'; }
b64() { base64 | tr -d '\n'; }
enc() {
  case $1 in
    '' | *[!A-Za-z0-9._/@:+,-]*) enc=$(printf %s "$1" | hex) ;;
    *) enc="=$1" ;;
  esac
}
# File content is read without following a link or waiting on a FIFO (dd's nofollow, nonblock):
# another user could swap the file for one between the test above and the read, and root would
# read /etc/shadow into the plan, or hang. Without GNU dd (busybox), the read is re-checked
# immediately before, a narrower window (docs/RELIABILITY.md).
if dd if=/dev/null of=/dev/null iflag=nofollow,nonblock count=0 2>/dev/null; then
  rd() { dd if="$1" iflag=nofollow,nonblock bs=65536 2>/dev/null; }
else
  rd() { if [ -f "$1" ] && [ ! -L "$1" ] && [ ! -p "$1" ]; then cat -- "$1"; fi; }
fi
path_fact() {
  if [ -L "$2" ]; then t=link; elif [ -d "$2" ]; then t=dir; elif [ -f "$2" ]; then t=file;
  elif [ -e "$2" ]; then t=other; else printf 'P\t%s\tabsent\n' "$1"; return; fi
  if cached "$2"; then path_stat $hit; else st=$(stat -c '%a %U %G %s' -- "$2"); fi
  set -- "$1" "$2" "$3" "$t" $st
  sum=-; enc=-
  if [ "$4" = file ]; then
    if sum_of "$2"; then sum=$hit; else sum=$(rd "$2" | sha256sum); sum=${sum%% *}; fi
  fi
  if [ "$4" = link ]; then
    # Exact, trailing newlines included: the . stops $(...) from stripping them.
    # A link gone meanwhile reads as an empty target, which the parser refuses.
    target=$(readlink -- "$2" && echo .) || target=; target=${target%?.}; enc "$target"
  fi
  printf 'P\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$4" "$5" "$6" "$7" "$8" "$sum" "$enc"
  if [ "$4" = file ] && [ -n "$3" ] && [ "$sum" != "$3" ] && [ "$8" -le 262144 ]; then
    printf 'C\t%s\t%s\n' "$1" "$(rd "$2" | b64)"
  fi
}
# The env file's lines (N records), comments and blank lines left out: a line of a key in $3 (svc.yaml's
# own values) after the plain mark as it is, any other line as sha256 of the run's salt and the
# line, so that no secret leaves the host and its hash tells nothing without the salt.
env_fact() {
  [ -f "$2" ] && [ ! -L "$2" ] || return 0
  rd "$2" | {
    zone=hash
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        "$env_plain_mark") zone=plain; continue ;;
        "$env_secret_mark") zone=hash; continue ;;
        '' | '#'*) continue ;;
      esac
      key=${line%%=*}
      shown=0
      case $key in '' | *[!A-Za-z0-9_]*) ;; *) case " $3 " in *" $key "*) [ $zone = hash ] || shown=1 ;; esac ;; esac
      enc "$key"; k=$enc
      if [ $shown = 1 ]; then enc "$line"; printf 'N\t%s\t%s\t=\t%s\n' "$1" "$k" "$enc"
      else sum=$(printf '%s\n%s' "$salt" "$line" | sha256sum); printf 'N\t%s\t%s\t#\t%s\n' "$1" "$k" "${sum%% *}"; fi
    done
  }
}
# The directories on the way to a path, each once (D), the directories holding a link on its way
# (K: whoever can change one can move the link), then where the path resolves (A). The path is
# resolved one link at a time (readlink, one level, at most 40), so a link met inside another
# link's target is seen too; past the deepest existing directory the rest is as written. D also says whether
# ls marks the directory as having an ACL (+), which can grant write beyond its mode.
# One stat and one ls for every requested path that exists and every real directory above one
# (processes are what a fact run costs; the chains below would take a stat and an ls each): the
# cache holds a line per path, its name then "ACL MODE UID GID OWNER GROUP SIZE" (a value never
# begins with /, a name always does). A path holding a newline is left out (it is looked up the
# old way), and so is everything when the two commands do not print exactly a line per path.
nl='
'
stat_cache=$nl
prefetch() {
  pf_list=$nl
  for pf_p do
    case $pf_p in /*) ;; *) continue ;; esac
    case $pf_p in *"$nl"*) continue ;; esac
    if [ -e "$pf_p" ] || [ -L "$pf_p" ]; then pf_add "$pf_p"; fi
    pf_d=$pf_p
    while [ "$pf_d" != / ]; do
      pf_d=${pf_d%/*}; [ -n "$pf_d" ] || pf_d=/
      if [ -d "$pf_d" ] && [ ! -L "$pf_d" ]; then pf_add "$pf_d"; fi
    done
  done
  IFS=$nl; set -f; set -- $pf_list; unset IFS; set +f
  [ $# -gt 0 ] || return 0
  pf_s=$(stat -c '%a %u %g %U %G %s' -- "$@" 2>/dev/null) || return 0
  pf_l=$(ls -ldUq -- "$@" 2>/dev/null) || return 0
  pf_s=$pf_s$nl pf_l=$pf_l$nl pf_cache=$nl
  for pf_p do
    [ -n "$pf_s" ] && [ -n "$pf_l" ] || return 0
    pf_acl=-
    case ${pf_l%%"$nl"*} in ??????????+*) pf_acl=+ ;; esac
    pf_cache=$pf_cache$pf_p$nl$pf_acl' '${pf_s%%"$nl"*}$nl
    pf_s=${pf_s#*"$nl"} pf_l=${pf_l#*"$nl"}
  done
  [ -z "$pf_s" ] && [ -z "$pf_l" ] || return 0
  stat_cache=$pf_cache
}
pf_add() { case $pf_list in *"$nl$1$nl"*) ;; *) pf_list=$pf_list$1$nl ;; esac; }
# cached PATH: its line from the prefetch into $hit, or 1 when it has none.
cached() {
  case $1 in *"$nl"*) return 1 ;; esac
  case $stat_cache in *"$nl$1$nl"*) ;; *) return 1 ;; esac
  hit=${stat_cache#*"$nl$1$nl"}; hit=${hit%%"$nl"*}
}
# path_stat ACL MODE UID GID OWNER GROUP SIZE: what path_fact's stat prints, into $st.
path_stat() { st="$2 $5 $6 $7"; }
# The sha256 of each file installed.list names (W records), kept for its P record: a file svc
# installed is asked about in both, and read (dd and sha256sum) once. Name, then sum, as above.
sum_cache=$nl
sum_keep() { case $1 in *"$nl"*) ;; *) sum_cache=$sum_cache$1$nl$2$nl ;; esac; }
sum_of() {
  case $1 in *"$nl"*) return 1 ;; esac
  case $sum_cache in *"$nl$1$nl"*) ;; *) return 1 ;; esac
  hit=${sum_cache#*"$nl$1$nl"}; hit=${hit%%"$nl"*}
}
seen_dirs=
dir_facts() {
  d=$1
  while :; do
    case $seen_dirs in *"
$d
"*) return 0 ;; esac
    seen_dirs="$seen_dirs
$d
"
    if cached "$d"; then acl=${hit%% *}; s=${hit#* }
    else
      s=$(stat -c '%a %u %g %U %G' -- "$d") || return 0
      acl=-
      case $(ls -ld -- "$d" 2>/dev/null) in ??????????+*) acl=+ ;; esac
    fi
    set -- $s
    enc "$d"; printf 'D\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$enc" "$1" "$2" "$3" "$4" "$5" "$acl"
    [ "$d" != / ] || return 0
    d=${d%/*}; [ -n "$d" ] || d=/
  done
}
chain_fact() {
  i=$1 cur= have= todo=${2#/} hops=0 gone= held="
"
  while [ -n "$todo" ]; do
    c=${todo%%/*}
    case $todo in */*) todo=${todo#*/} ;; *) todo= ;; esac
    case $c in '' | .) continue ;; ..) cur=${cur%/*}; continue ;; esac
    next=$cur/$c
    # The path itself is not followed: svc replaces a link there or refuses (its P record).
    if [ -n "$gone" ] || [ -z "$todo" ]; then cur=$next
    elif [ -L "$next" ]; then
      hops=$((hops + 1))
      if [ $hops -gt 40 ] || ! t=$(readlink -- "$next" && echo .); then printf 'A\t%s\t-\n' "$i"; return; fi
      t=${t%?.}
      if [ -z "$t" ]; then printf 'A\t%s\t-\n' "$i"; return; fi
      case $held in *"
${cur:-/}
"*) ;; *)
        held="$held${cur:-/}
"
        dir_facts "${cur:-/}"; enc "${cur:-/}"; printf 'K\t%s\t%s\n' "$i" "$enc" ;;
      esac
      case $t in /*) cur= ;; esac
      t=${t#/}; todo=$t${todo:+/$todo}
    elif [ -d "$next" ]; then cur=$next; have=$next
    elif [ -e "$next" ]; then cur=$next
    else cur=$next; gone=1; fi
  done
  dir_facts "${have:-/}"
  enc "${cur:-/}"; printf 'A\t%s\t%s\n' "$i" "$enc"
}
user_fact() {
  if line=$(getent passwd "$1"); then enc "$line"; printf 'U\t%s\t%s\n' "$1" "$enc"
  else printf 'U\t%s\t-\n' "$1"; fi
}
group_fact() {
  if line=$(getent group "$1"); then IFS=: read -r _ _ gid _ <<EOF
$line
EOF
    printf 'G\t%s\t%s\n' "$1" "$gid"
  else printf 'G\t%s\t-\n' "$1"; fi
}

login=deploy
service=api-orders
pidfile=/run/api-orders.pid
records=/var/lib/svc/api-orders/installed.json
records_root=/var/lib/svc
releases=/var/www/api-orders/releases
salt=5a175a175a175a175a175a175a175a17
env_plain_mark='# svc: values from svc.yaml (plans show them)'
env_secret_mark='# svc: secrets (plans never show them)'
printf 'B\tsvc-facts\t7\n'
claims() { grep -F -o -e '"/var/www/api-orders"' -e '"/var/log/api-orders"' -e '"/var/www/api-orders/releases/abc123abc123"' -e '"/var/www/api-orders/current"' -e '"/etc/default"' -e '"/etc/init"' -e '"/etc/monit/conf.d"' -e '"/etc/default/api-orders"' -e '"/etc/init/api-orders.conf"' -e '"/etc/monit/conf.d/api-orders"' -e '"/home/deploy/service/api-orders"' -e '"/var/lib/svc/api-orders/upstream.conf"' -- "$1" 2>/dev/null || :; }
comm=
[ ! -r /proc/1/comm ] || read -r comm < /proc/1/comm || :
if [ "$comm" = systemd ] || [ -d /run/systemd/system ]; then init=systemd
elif [ -d /run/openrc ]; then init=openrc
elif command -v initctl >/dev/null 2>&1 && initctl version 2>/dev/null | grep -q upstart; then init=upstart
else init=none; fi
printf 'I\t%s\n' "$init"
if [ -r /proc/sys/kernel/hostname ]; then read -r host < /proc/sys/kernel/hostname; else host=$(hostname); fi
enc "$host"; printf 'H\t%s\n' "$enc"
login_home=
if line=$(getent passwd "$login"); then IFS=: read -r _ _ _ _ _ login_home _ <<EOF
$line
EOF
fi
if [ -z "$login_home" ]; then echo "svc-facts: the login user $login has no home directory" >&2; exit 3; fi
enc "$login_home"; printf 'L\t%s\t%s\n' "$login" "$enc"
if command -v monit >/dev/null 2>&1; then
  if monit summary >/dev/null 2>&1; then printf 'M\t1\t1\n'; else printf 'M\t1\t0\n'; fi
else printf 'M\t0\t0\n'; fi
active=0; pid=-
if [ "$init" = systemd ]; then
  if systemctl is-active --quiet "$service" 2>/dev/null; then active=1; pid=$(systemctl show -p MainPID --value "$service" | tr -cd 0-9); fi
elif [ -r "$pidfile" ]; then
  pid=$(head -c 32 "$pidfile" | tr -cd 0-9)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then active=1; else pid=-; fi
fi
[ -n "$pid" ] || pid=-
printf 'S\t%s\t%s\n' "$active" "$pid"
if [ -f "$records" ] && [ ! -L "$records" ]; then printf 'R\t%s\n' "$(head -c 1048576 "$records" | b64)"; else printf 'R\t-\n'; fi
if [ -d "$releases" ] && [ ! -L "$releases" ]; then
  for d in "$releases"/*; do
    if [ -d "$d" ] && [ ! -L "$d" ]; then enc "${d##*/}"; printf 'X\t%s\n' "$enc"; fi
  done
fi
# The files svc recorded for this service, and what each is now: a deletion only removes a file
# whose content is still what svc installed (installed.list: the same paths, one per line).
list=${records%/*}/installed.list
if [ -f "$list" ] && [ ! -L "$list" ]; then
  while IFS= read -r f; do
    case $f in /*) ;; *) continue ;; esac
    if [ -L "$f" ]; then t=link; elif [ -f "$f" ]; then t=file; elif [ -e "$f" ]; then t=other; else t=absent; fi
    sum=-; [ "$t" != file ] || { sum=$(rd "$f" | sha256sum); sum=${sum%% *}; sum_keep "$f" "$sum"; }
    enc "$f"; printf 'W\t%s\t%s\t%s\n' "$enc" "$t" "$sum"
  done < "$list"
fi
# Other services' claims, on the paths this plan writes only: a record of another service that
# does not touch them is no part of the plan (nor of the digest that refuses a stale one).
if command -v claims >/dev/null 2>&1; then
  for f in "$records_root"/*/installed.json; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    other=${f%/installed.json}; other=${other##*/}
    [ "$other" = "$service" ] && continue
    enc "$other"; other=$enc
    claims "$f" | while IFS= read -r claim; do enc "$claim"; printf 'O\t%s\t%s\n' "$other" "$enc"; done
  done
fi

prefetch /var/www/api-orders /var/log/api-orders /var/www/api-orders/releases/abc123abc123 /var/www/api-orders/current /etc/default /etc/init /etc/monit/conf.d /etc/default/api-orders /etc/init/api-orders.conf /etc/monit/conf.d/api-orders /home/deploy/service/api-orders /var/lib/svc/api-orders/upstream.conf
path_fact 0 /var/www/api-orders ''
chain_fact 0 /var/www/api-orders
path_fact 1 /var/log/api-orders ''
chain_fact 1 /var/log/api-orders
path_fact 2 /var/www/api-orders/releases/abc123abc123 ''
chain_fact 2 /var/www/api-orders/releases/abc123abc123
path_fact 3 /var/www/api-orders/current ''
chain_fact 3 /var/www/api-orders/current
path_fact 4 /etc/default ''
chain_fact 4 /etc/default
path_fact 5 /etc/init ''
chain_fact 5 /etc/init
path_fact 6 /etc/monit/conf.d ''
chain_fact 6 /etc/monit/conf.d
path_fact 7 /etc/default/api-orders ''
chain_fact 7 /etc/default/api-orders
path_fact 8 /etc/init/api-orders.conf a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf
chain_fact 8 /etc/init/api-orders.conf
path_fact 9 /etc/monit/conf.d/api-orders 573a4ab6e82c81e2313c5a2e41b971c48ceb47c19b8aaca175647c16029ee95a
chain_fact 9 /etc/monit/conf.d/api-orders
path_fact 10 /home/deploy/service/api-orders ''
chain_fact 10 /home/deploy/service/api-orders
path_fact 11 /var/lib/svc/api-orders/upstream.conf ''
chain_fact 11 /var/lib/svc/api-orders/upstream.conf
user_fact api-orders
printf 'E\tsvc-facts\n'
SVC_EOF_n0nce
)
digest=${digest%% *}
if [ "$digest" != ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff ]; then say "STALE"; exit 76; fi
say "STEP	facts unchanged since the plan"
hist_begin deploy unknown unknown later || { say "FAIL	svc cannot keep its history in /var/lib/svc/api-orders/history (not root's own private directory, or not writable)"; exit 1; }
undo() {
{ [ "$activated" != 1 ] || { rm -f -- /etc/monit/conf.d/api-orders; }; } || say "WARNING	undo step 1 failed"
{ [ "$activated" != 1 ] || { monit reload && monit_gone api-orders; }; } || say "WARNING	undo step 2 failed"
{ [ "$activated" != 1 ] || { initctl stop api-orders </dev/null 3>&- 9>&-; }; } || say "WARNING	undo step 3 failed"
{ rm -f -- /home/deploy/service/api-orders; } || say "WARNING	undo step 4 failed"
{ rm -f -- /etc/monit/conf.d/api-orders; } || say "WARNING	undo step 5 failed"
{ rm -f -- /etc/monit/conf.d/.api-orders.svc-new; } || say "WARNING	undo step 6 failed"
{ rm -f -- /etc/init/api-orders.conf; } || say "WARNING	undo step 7 failed"
{ rm -f -- /etc/init/.api-orders.conf.svc-new; } || say "WARNING	undo step 8 failed"
{ rm -f -- /etc/default/api-orders; } || say "WARNING	undo step 9 failed"
{ rm -f -- /etc/default/.api-orders.svc-new; } || say "WARNING	undo step 10 failed"
{ rm -f -- /var/www/api-orders/current; } || say "WARNING	undo step 11 failed"
{ rm -rf -- /var/www/api-orders/releases/.abc123abc123.partial; } || say "WARNING	undo step 12 failed"
{ [ "$activated" != 1 ] || { initctl reload-configuration; }; } || say "WARNING	undo step 13 failed"
}
rollback() {
trap '' INT TERM HUP
applying=0
say "UNHEALTHY"
if [ -n "$exit_ds" ]; then say "EXITED	$exit_how	$exit_ds"; fi
say "LOG	$(log_tail | hex)"
undo
if pid_ok /run/api-orders.pid; then say "ROLLEDBACK	none-running"; else say "ROLLEDBACK	none"; fi
[ -d /var/lib/svc/api-orders ] && [ ! -L /var/lib/svc/api-orders ] || mkdir -m 0700 -- /var/lib/svc/api-orders
rm -f -- /var/lib/svc/api-orders/installed.json.svc-new /var/lib/svc/api-orders/installed.list.svc-new
printf '%s
' '{"version":1,"service":"api-orders","files":[],"sha256":[],"adopted":[],"history":[{"id":"abc123abc123","status":"bad","at":"2026-11-27T00:00:00.000Z"}]}' > /var/lib/svc/api-orders/installed.json.svc-new
printf '%s' '' > /var/lib/svc/api-orders/installed.list.svc-new
mv -f -T -- /var/lib/svc/api-orders/installed.json.svc-new /var/lib/svc/api-orders/installed.json
mv -f -T -- /var/lib/svc/api-orders/installed.list.svc-new /var/lib/svc/api-orders/installed.list
exit 77
}
applying=1
if getent group api-orders >/dev/null; then useradd --system --no-create-home --home-dir /var/db/api-orders --shell /usr/sbin/nologin -g api-orders api-orders; else useradd --system --no-create-home --home-dir /var/db/api-orders --shell /usr/sbin/nologin --user-group api-orders; fi
mkdir -p -- /var/www
mkdir -m 0755 -- /var/www/api-orders
chown -h root:root -- /var/www/api-orders
mkdir -p -- /var/log
mkdir -m 0750 -- /var/log/api-orders
chown -h api-orders:api-orders -- /var/log/api-orders
if [ -e /var/www/api-orders/releases/.abc123abc123.partial ] || [ -L /var/www/api-orders/releases/.abc123abc123.partial ]; then rm -rf -- /var/www/api-orders/releases/.abc123abc123.partial; fi
cp -a -T -- "$stage/release" /var/www/api-orders/releases/.abc123abc123.partial
mv -f -T -- /var/www/api-orders/releases/.abc123abc123.partial /var/www/api-orders/releases/abc123abc123
ln -s -T -- releases/abc123abc123 /var/www/api-orders/current
mkdir -p -- /etc /etc/monit
mkdir -m 0755 -- /etc/default /etc/init /etc/monit/conf.d
chown -h root:root -- /etc/default /etc/init /etc/monit/conf.d
install -T -m 0600 -o root -g root -- "$stage/"overlay/0/.api-orders.svc-new /etc/default/.api-orders.svc-new
mv -f -T -- /etc/default/.api-orders.svc-new /etc/default/api-orders
install -T -m 0755 -o root -g root -- "$stage/"overlay/1/.api-orders.conf.svc-new /etc/init/.api-orders.conf.svc-new
mv -f -T -- /etc/init/.api-orders.conf.svc-new /etc/init/api-orders.conf
install -T -m 0644 -o root -g root -- "$stage/"overlay/2/.api-orders.svc-new /etc/monit/conf.d/.api-orders.svc-new
mv -f -T -- /etc/monit/conf.d/.api-orders.svc-new /etc/monit/conf.d/api-orders
ln -s -T -- /var/www/api-orders/current /home/deploy/service/api-orders
say "STEP	files in place"
activated=1
monit reload
monit_ready api-orders || { say "FAIL	monit did not load the check for api-orders"; exit 1; }
say "STEP	monit reloaded"
initctl reload-configuration
read_pid /run/api-orders.pid
if [ -n "$pid" ] && proc_alive "$pid"; then old_pid=$pid; action=restart; else old_pid=; action=start; fi
service_control() { if [ "$action" = restart ]; then sh -c 'initctl restart "$1" || initctl start "$1"' sh api-orders </dev/null 3>&- 9>&- || true; else initctl start api-orders </dev/null 3>&- 9>&- || true; fi; }
gate_begin /run/api-orders.pid '' /var/log/api-orders/api-orders.log api-orders
service_control & control_pid=$!
started=0
wait_new_pid /run/api-orders.pid "$old_pid" 3 || started=$?
if [ "$started" = 1 ]; then
  proc_alive "$control_pid" || { service_control & control_pid=$!; }
  started=0
  wait_new_pid /run/api-orders.pid "$old_pid" 2 || started=$?
fi
[ "$started" = 0 ] || rollback
say "STEP	${action}ed api-orders"
if ! wait_healthy url http://127.0.0.1:3000/ok 5; then rollback; fi
say "STEP	healthy"
monit_checked api-orders </dev/null 3>&- 9>&- & checking=$!
applying=0
[ -d /var/lib/svc/api-orders ] && [ ! -L /var/lib/svc/api-orders ] || mkdir -m 0700 -- /var/lib/svc/api-orders
rm -f -- /var/lib/svc/api-orders/installed.json.svc-new /var/lib/svc/api-orders/installed.list.svc-new
printf '%s
' '{"version":1,"service":"api-orders","files":["/etc/default/api-orders","/etc/init/api-orders.conf","/etc/monit/conf.d/api-orders"],"sha256":["6728a4a2930df4c95f48dd96dfc520053fa850c35dcd5f95b935ef67478f74da","a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf","573a4ab6e82c81e2313c5a2e41b971c48ceb47c19b8aaca175647c16029ee95a"],"adopted":[],"history":[{"id":"abc123abc123","status":"good","at":"2026-11-27T00:00:00.000Z"}]}' > /var/lib/svc/api-orders/installed.json.svc-new
printf '%s' '/etc/default/api-orders
/etc/init/api-orders.conf
/etc/monit/conf.d/api-orders
' > /var/lib/svc/api-orders/installed.list.svc-new
mv -f -T -- /var/lib/svc/api-orders/installed.json.svc-new /var/lib/svc/api-orders/installed.json
mv -f -T -- /var/lib/svc/api-orders/installed.list.svc-new /var/lib/svc/api-orders/installed.list
hist_end deployed '' || { say "FAIL	the deploy is live, but its record could not be appended to the history"; exit 1; }
wait "$checking" || say "WARNING	monit has not checked api-orders since it started yet: its next cycle will (svc status shows monit's word until then)"
checking=
say "DONE	abc123abc123"
