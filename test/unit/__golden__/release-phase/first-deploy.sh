# prepared: 0 user api-orders; 1 dir /var/www/api-orders; 2 dir /var/log/api-orders; 3 release /var/www/api-orders/releases/abc123abc123
# entry: release/server.js 644 2d711642b726
# entry: env 600 6728a4a2930d
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
sa_run='tool=$1 uid=$2 gid=$3 user=$4 dir=$5 envf=$6; shift 6
enter='\''cd -- "$0" || exit 126; exec "$@"'\''
case $tool in
  setpriv) set -- setpriv --reuid="$uid" --regid="$gid" --init-groups -- /bin/sh -c "$enter" "$dir" "$@" ;;
  runuser) set -- runuser -u "$user" -- /bin/sh -c "$enter" "$dir" "$@" ;;
  su) set -- su -s /bin/sh -c "$enter" -- "$user" "$dir" "$@" ;;
  chroot) set -- chroot --userspec="$uid:$gid" / /bin/sh -c "$enter" "$dir" "$@" ;;
  *) exit 125 ;;
esac
# (a missing file would end sh with its own status: a dot script that cannot be read is fatal)
if [ -n "$envf" ]; then [ -r "$envf" ] || exit 125; set -a; . "$envf"; set +a; fi
exec "$@"'
as_service_pick() {
  sa_user=$1
  sa_uid=$(id -u -- "$sa_user" 2>/dev/null) && sa_gid=$(id -g -- "$sa_user" 2>/dev/null) || return 1
  sa_home=$(getent passwd "$sa_user" 2>/dev/null | cut -d: -f6) || sa_home=
  [ -n "$sa_home" ] || sa_home=/
  for sa_tool in setpriv runuser su chroot; do
    [ "$(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c "$sa_run" sh "$sa_tool" "$sa_uid" "$sa_gid" "$sa_user" / '' id -u 2>/dev/null)" = "$sa_uid" ] && return 0
  done
  return 1
}
release_prepare() {
  as_service_pick "$1" || { say "FAIL	release commands: $2"; exit 1; }
}
# release_keep: stdin (the command's output) into $rc_out.new, a chunk at a time, then renamed
# to .cur (the chunk before that to .old). dd writes each read as it comes (no buffer held back):
# whatever ends the reader, what it read is on disk. $rc_out.done says stdin ended.
release_keep() {
  umask 077
  while dd bs=4096 count=256 of="$rc_out.new" 2>/dev/null && [ -s "$rc_out.new" ]; do
    mv -f -- "$rc_out.cur" "$rc_out.old" 2>/dev/null || :
    mv -f -- "$rc_out.new" "$rc_out.cur"
  done
  : > "$rc_out.done"
}
release_run() {
  rc_i=$1 rc_n=$2 rc_limit=$3 rc_dir=$4 rc_env=$5; shift 5
  say "STEP	release command $rc_i/$rc_n"
  rc_out="$stage/release.out" rc_timed="$stage/release.timed-out" rc_fifo="$stage/release.fifo"
  rm -f -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" "$rc_out.done" "$rc_timed" "$rc_fifo"
  mkfifo -m 600 -- "$rc_fifo" || { say "FAIL	release commands: cannot make a FIFO in $stage"; exit 1; }
  # Each side opens the FIFO in its own background job: neither open waits in this shell.
  release_keep <"$rc_fifo" >/dev/null 2>&1 3>&- 9>&- &
  rc_keep=$!
  # setsid execs in the same process (a background job of a non-interactive shell leads no
  # process group): $! is the session's leader, and its process group is the command's.
  setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "HOME=$sa_home" "USER=$sa_user" "LOGNAME=$sa_user" SHELL=/bin/sh /bin/sh -c "$sa_run" sh "$sa_tool" "$sa_uid" "$sa_gid" "$sa_user" "$rc_dir" "$rc_env" "$@" </dev/null >"$rc_fifo" 2>&1 3>&- 9>&- &
  rc_pid=$!
  trap 'trap "" INT TERM HUP; kill -TERM "-$rc_pid" 2>/dev/null; exit 130' INT TERM HUP
  (
    rc_t=0
    while [ "$rc_t" -lt "$rc_limit" ]; do sleep 1; kill -0 "$rc_pid" 2>/dev/null || exit 0; rc_t=$((rc_t + 1)); done
    : > "$rc_timed"
    kill -TERM "-$rc_pid" 2>/dev/null; sleep 5; kill -KILL "-$rc_pid" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 3>&- 9>&- &
  rc_watch=$!
  rc_status=0; wait "$rc_pid" || rc_status=$?
  if [ -e "$rc_timed" ]; then wait "$rc_watch" || :; rc_how="timeout $rc_limit"
  else
    kill "$rc_watch" 2>/dev/null || :; wait "$rc_watch" 2>/dev/null || :; rc_how="status $rc_status"
    # What it left running in its session ends with it (the group outlives its leader).
    kill -TERM "-$rc_pid" 2>/dev/null || :
  fi
  # The reader ends when the last writer has; one the command left outside its session is not
  # waited for past the grace (what was read so far is on disk).
  rc_t=0
  while [ ! -e "$rc_out.done" ] && [ "$rc_t" -lt 50 ]; do sleep 0.1; rc_t=$((rc_t + 1)); done
  kill "$rc_keep" 2>/dev/null || :; wait "$rc_keep" 2>/dev/null || :
  trap 'trap "" INT TERM HUP; exit 130' INT TERM HUP
  if [ -e "$rc_timed" ] || [ "$rc_status" -ne 0 ]; then
    # The history's reason for this deploy (history-script.ts hist_exit).
    hist_fail="release command $rc_i of $rc_n failed ($rc_how)"
    say "RELEASEFAIL	$rc_i	$rc_how	$(cat -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" 2>/dev/null | tail -n 20 | tail -c 4096 | hex)"
    exit 78
  fi
  rm -f -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" "$rc_out.done" "$rc_fifo"
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
claims() { grep -F -o -e '"/var/www/api-orders"' -e '"/var/log/api-orders"' -e '"/var/www/api-orders/releases/abc123abc123"' -e '"/var/www/api-orders/current"' -e '"/etc/default"' -e '"/etc/systemd/system"' -e '"/etc/monit/conf.d"' -e '"/etc/default/api-orders"' -e '"/etc/systemd/system/api-orders.service"' -e '"/etc/monit/conf.d/api-orders"' -e '"/home/deploy/service/api-orders"' -e '"/var/lib/svc/api-orders/upstream.conf"' -- "$1" 2>/dev/null || :; }
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

prefetch /var/www/api-orders /var/log/api-orders /var/www/api-orders/releases/abc123abc123 /var/www/api-orders/current /etc/default /etc/systemd/system /etc/monit/conf.d /etc/default/api-orders /etc/systemd/system/api-orders.service /etc/monit/conf.d/api-orders /home/deploy/service/api-orders /var/lib/svc/api-orders/upstream.conf
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
path_fact 5 /etc/systemd/system ''
chain_fact 5 /etc/systemd/system
path_fact 6 /etc/monit/conf.d ''
chain_fact 6 /etc/monit/conf.d
path_fact 7 /etc/default/api-orders ''
chain_fact 7 /etc/default/api-orders
path_fact 8 /etc/systemd/system/api-orders.service 661a97ceb1188684324700c19396dd74eff0d0f4dbc445816ce05bb62f6e7d18
chain_fact 8 /etc/systemd/system/api-orders.service
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
hist_begin deploy unknown unknown later || { say 'FAIL	svc cannot keep its history in /var/lib/svc/api-orders/history (not root'\''s own private directory, or not writable)'; exit 1; }
undo() {
{ rm -rf -- /var/www/api-orders/releases/.abc123abc123.partial; } || say "WARNING	undo step 1 failed"
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
say "STEP	installing: npm ci"
(cd /var/www/api-orders/releases/.abc123abc123.partial && npm ci) </dev/null 3>&- 9>&- || { rm -rf -- /var/www/api-orders/releases/.abc123abc123.partial; say "FAIL	the install step failed"; exit 1; }
chown -R -h root:root -- /var/www/api-orders/releases/.abc123abc123.partial
mv -f -T -- /var/www/api-orders/releases/.abc123abc123.partial /var/www/api-orders/releases/abc123abc123
hist_later || { say 'FAIL	svc cannot keep its history in /var/lib/svc/api-orders/history (not root'\''s own private directory, or not writable)'; exit 1; }
release_prepare api-orders 'cannot run as api-orders: it does not exist on this host, or none of setpriv, runuser, su, chroot can switch to it'
release_run 1 2 60 /var/www/api-orders/releases/abc123abc123 "$stage/env" node migrate.js
release_run 2 2 60 /var/www/api-orders/releases/abc123abc123 "$stage/env" sh -c 'echo '\''it'\'''\''s'\'''
say "STEP	release commands done"
applying=0
hist_drop
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
claims() { grep -F -o -e '"/var/www/api-orders"' -e '"/var/log/api-orders"' -e '"/var/www/api-orders/releases/abc123abc123"' -e '"/var/www/api-orders/current"' -e '"/etc/default"' -e '"/etc/systemd/system"' -e '"/etc/monit/conf.d"' -e '"/etc/default/api-orders"' -e '"/etc/systemd/system/api-orders.service"' -e '"/etc/monit/conf.d/api-orders"' -e '"/home/deploy/service/api-orders"' -e '"/var/lib/svc/api-orders/upstream.conf"' -- "$1" 2>/dev/null || :; }
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

prefetch /var/www/api-orders /var/log/api-orders /var/www/api-orders/releases/abc123abc123 /var/www/api-orders/current /etc/default /etc/systemd/system /etc/monit/conf.d /etc/default/api-orders /etc/systemd/system/api-orders.service /etc/monit/conf.d/api-orders /home/deploy/service/api-orders /var/lib/svc/api-orders/upstream.conf
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
path_fact 5 /etc/systemd/system ''
chain_fact 5 /etc/systemd/system
path_fact 6 /etc/monit/conf.d ''
chain_fact 6 /etc/monit/conf.d
path_fact 7 /etc/default/api-orders ''
chain_fact 7 /etc/default/api-orders
path_fact 8 /etc/systemd/system/api-orders.service 661a97ceb1188684324700c19396dd74eff0d0f4dbc445816ce05bb62f6e7d18
chain_fact 8 /etc/systemd/system/api-orders.service
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
say "DIGEST	$digest"
