// Which tracer `svc trace` uses on a host, and how it runs it: shell functions for the trace
// script (core/trace-script.ts, which finds the process tree and relays the result).
//
// The order is the issue's: eBPF first (bpftrace: in-kernel counting, no stop per call, so the
// service is barely slowed), then sysdig, then strace (which stops the process on every call).
// A tool counts as there only when it really works: bpftrace, given CAP_SYS_ADMIN or CAP_BPF and
// CAP_PERFMON (bits 21, 39 and 38 of CapEff; without them it only says it cannot read the
// kernel's types), runs a tiny program that attaches the very tracepoint the trace uses and sees
// its own system call, which proves the binary, the permission, tracefs and the pid mapping below
// in one go, in about half a second. Each tool passed over leaves an `S tool reason` record, so
// the report says why.
//
// syscount-bpfcc is not used: it follows one pid (not the tree), cannot count errors beside the
// calls, and compiles C against the running kernel's headers at every start (not there on many
// hosts, nor here). sysdig needs its kernel driver: passed over, with that reason, when it is
// not loaded; when it is, svc does not drive it yet and says so.
import { shellQuote as q } from './quote.js';

/** A reason from a tool is cut to this many bytes. */
const MAX_REASON = 300;

/**
 * The task's thread-group id in its own innermost pid namespace, and that namespace's inode, by
 * the kernel's struct pid (read through BTF): `numbers[level]` follows the struct (a flexible
 * array since Linux 6.5, which bpftrace 0.17 cannot index, hence the arithmetic). Needed when
 * the trace runs inside a pid namespace (a container, a sandbox host), where /proc's pids are not
 * the kernel's global ones that bpftrace's `pid` gives.
 */
const NS_TGID = [
  '$p = curtask->group_leader->thread_pid;',
  '$u = (struct upid *)((uint64)$p + sizeof(struct pid) + sizeof(struct upid) * $p->level);',
].join(' ');

/**
 * The probe: sees its own next system call (SELF is its pid as this shell sees it, NS this
 * shell's pid namespace inode) and prints `svc-bpf LEVEL`, or gives up after 5 s. In the initial
 * namespace (level 0) the global pid is the one to compare; below it, the namespace's own.
 */
export const BPF_PROBE = [
  'tracepoint:raw_syscalls:sys_enter /comm == "bpftrace"/ {',
  `  ${NS_TGID}`,
  '  if ($p->level == 0) { if (pid == SELF && curtask->nsproxy->pid_ns_for_children->ns.inum == NS) { printf("svc-bpf 0\\n"); exit(); } }',
  '  else { if ($u->nr == SELF && $u->ns->ns.inum == NS) { printf("svc-bpf %d\\n", $p->level); exit(); } }',
  '}',
  'interval:s:5 { exit(); }',
].join('\n');

/**
 * The trace, after a `BEGIN { @t[PID] = 1; ... }` naming the tree's processes: every system call
 * of a thread whose process is in @t, or was forked from one during the trace (the fork
 * tracepoint gives the child's global pid: @g), counted per call number with its errors
 * (-4095..-1) and the nanoseconds spent in it (wall clock, as strace -w). Calls under way when
 * the trace begins or ends are not counted. Ends by itself after N seconds (and by SIGINT or
 * SIGTERM from the script), printing the three maps; the probes go with the process.
 */
export function bpftraceProgram(seconds: number, inNamespace: boolean): string {
  // In the initial namespace the tree's pids are global pids: the cheap filter. Below it, the
  // task's own namespace pid, and the namespace must be this one (NS).
  const inTree = inNamespace
    ? `${NS_TGID} $in = @g[pid]; if ($u->ns->ns.inum == NS && @t[$u->nr]) { $in = 1; }`
    : '$in = @t[pid] + @g[pid];';
  return [
    `tracepoint:sched:sched_process_fork { ${inTree} if ($in) { @g[args->child_pid] = 1; } }`,
    `tracepoint:raw_syscalls:sys_enter { ${inTree} if ($in) { @s[tid] = nsecs; @n[tid] = args->id; } }`,
    'tracepoint:raw_syscalls:sys_exit /@s[tid]/ {',
    '  $id = @n[tid]; @c[$id] = count(); @ns[$id] = sum(nsecs - @s[tid]);',
    '  if (args->ret < 0 && args->ret > -4096) { @e[$id] = count(); }',
    '  delete(@s[tid]); delete(@n[tid]);',
    '}',
    `interval:s:${seconds} { exit(); }`,
    'END { clear(@s); clear(@n); clear(@t); clear(@g); print(@c); print(@e); print(@ns); clear(@c); clear(@e); clear(@ns); }',
  ].join('\n');
}

/**
 * Shell: `choose_tool` sets $tool (bpftrace, strace, or empty when none works) and, for bpftrace,
 * $bpf_level (the pid namespace's depth) and $bpf_ns; prints `S\ttool\thex(reason)` for each tool
 * passed over. The probe is bounded by its own 5 s and by timeout(1), and is never left running.
 */
export const CHOOSE_TOOL = String.raw`skip() { printf 'S\t%s\t%s\n' "$1" "$(printf %s "$2" | tr '\n\t' '  ' | head -c ${MAX_REASON} | hex)"; }
bpf_probe() {
  command -v bpftrace >/dev/null 2>&1 || { why='not installed'; return 1; }
  bpf_ns=$(readlink /proc/self/ns/pid 2>/dev/null | tr -cd 0-9)
  case $bpf_ns in '' | *[!0-9]*) why='cannot read this shell'"'"'s pid namespace'; return 1 ;; esac
  # bpftrace 0.17 lists the kernel's BTF through bpf(), which needs CAP_SYS_ADMIN; read from the
  # file, the kernel's types need only CAP_BPF and CAP_PERFMON (a container, a sandbox host).
  [ ! -r /sys/kernel/btf/vmlinux ] || export BPFTRACE_BTF=/sys/kernel/btf/vmlinux
  # Without the capabilities bpftrace cannot even read the kernel's types, and says only that.
  eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
  case $eff in
    '' | *[!0-9a-f]*) ;;
    *) if [ $(((0x$eff >> 21) & 1)) = 0 ] && [ $(((0x$eff >> 38) & 3)) != 3 ]; then
         why='not permitted: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)'; return 1
       fi ;;
  esac
  said=$(timeout -s INT 20 sh -c 'prog=$(printf %s "$1" | sed "s/SELF/$$/; s/== NS/== $2/g"); exec bpftrace -e "$prog"' sh ${q(BPF_PROBE)} "$bpf_ns" </dev/null 2>&1)
  bpf_level=$(printf '%s\n' "$said" | sed -n 's/^svc-bpf \([0-9][0-9]*\)$/\1/p' | head -n 1)
  [ -n "$bpf_level" ] && return 0
  why=$(printf '%s\n' "$said" | grep -v -e RLIMIT_MEMLOCK -e '^Attaching' -e '^ *$' | grep -m 1 ERROR)
  [ -n "$why" ] || why=$(printf '%s\n' "$said" | grep -v -e RLIMIT_MEMLOCK -e '^ *$' | tail -n 1)
  case $why in
    *'tracepoint not found'*) why="cannot attach: $why (is tracefs mounted on /sys/kernel/tracing?)" ;;
    '' | Attaching*) why='cannot attach: its probe saw nothing (this pid namespace cannot be mapped)' ;;
    *) why="cannot attach: $why" ;;
  esac
  return 1
}
choose_tool() {
  tool=
  if bpf_probe; then tool=bpftrace; return; fi
  skip bpftrace "$why"
  if ! command -v sysdig >/dev/null 2>&1; then skip sysdig 'not installed'
  elif [ -e /dev/scap0 ] || grep -qs '^scap ' /proc/modules; then skip sysdig 'its driver is loaded, but svc does not drive sysdig yet'
  else skip sysdig 'its kernel driver is not loaded (no /dev/scap0)'; fi
  if command -v strace >/dev/null 2>&1; then tool=strace; return; fi
  skip strace 'not installed'
}
# The one line for a host where no tracer works: the Debian packages to install.
no_tracer() {
  if command -v bpftrace >/dev/null 2>&1; then
    printf 'no tracer: bpftrace %s; install strace (apt-get install strace)
' "$(printf %s "$why" | tr -cd '[:print:]' | head -c ${MAX_REASON})"
  else
    echo 'no tracer: install bpftrace (eBPF, preferred) or strace (apt-get install bpftrace strace)'
  fi
}`;

/**
 * Shell: `start_tracer` starts $tool in the background on $pids, its lines into the FIFO
 * "$tmp/lines" and its stderr into "$tmp/err"; $tr_pid is its pid. stdin is /dev/null (the
 * script's own stdin is the watcher's).
 */
export function startTracer(seconds: number): string {
  return [
    'start_tracer() {',
    '  if [ "$tool" = bpftrace ]; then',
    '    begin=; for p in $pids; do begin="$begin @t[$p] = 1;"; done',
    '    if [ "$bpf_level" = 0 ]; then prog=' + q(bpftraceProgram(seconds, false)),
    '    else prog=$(printf %s ' +
      q(bpftraceProgram(seconds, true)) +
      ' | sed "s/== NS/== $bpf_ns/g"); fi',
    '    bpftrace -o "$tmp/lines" -e "BEGIN {$begin }',
    // -o takes the maps; bpftrace still writes a blank line per cleared map to stdout.
    '$prog" </dev/null >/dev/null 2>"$tmp/err" &',
    '  else',
    '    set --; for p in $pids; do set -- "$@" -p "$p"; done',
    '    strace -f -C -w -yy -qq -o "$tmp/lines" "$@" </dev/null 2>"$tmp/err" &',
    '  fi',
    '  tr_pid=$!',
    '}',
  ].join('\n');
}
