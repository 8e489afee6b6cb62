// `svc trace`'s remote script: attach a tracer to the service's process tree for N seconds and
// send back what it saw, aggregated on the host (the syscall counts, the descriptors the calls
// touched, counted; the descriptors open at the end). The tracer is chosen and started by
// core/trace-tools.ts (bpftrace, else strace). It never outlives svc's interest: it is bounded
// by N seconds on the host's own clock, and a watcher on stdin (which svc holds open) interrupts
// it when stdin ends: Ctrl-C, svc killed, the connection lost. strace detaches from every process
// on SIGTERM (not SIGINT, which sh's background jobs ignore), bpftrace prints its maps and exits
// on it; a strace that dies any other way has its tracees detached by the kernel, and a bpftrace
// its probes removed (they belong to its open descriptors).
import { AWK_LINK_TARGET, CHOOSE_LS_FLAGS } from './fd-listing.js';
import { lifecyclePreamble } from './lifecycle.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';
import { TREE } from './top-script.js';
import { CHOOSE_TOOL, startTracer } from './trace-tools.js';
import { PRIVATE_TMP_FUNCTION } from './private-tmp.js';
import { REMOVE_OWN_FILE } from './script-file.js';

export const TRACE_FORMAT = 'svc-trace 2';
export const TRACE_EXIT = { notRunning: 3, noTracer: 4 } as const;
/** At most this many different descriptors are counted; the rest add to one "(others)" line. */
const MAX_TOUCHED = 2000;

/**
 * strace's own lines: `PID syscall(FD<what>, ...` with -yy naming each descriptor (a TCP
 * socket by its addresses, `TCP:[a:p->b:q]`: the `->` is part of the name, not its end). Counts each descriptor named first in a call (the one the call is
 * about): a connection by its local address and peer address (the peer's port, different for
 * each connection, left out), other sockets and pipes by kind; prints the top 20 as
 * `T count hex`; then the summary table (-C prints it after the calls) as `Y line`, hex. Every
 * text from the trace leaves hex-encoded: paths and addresses are the service's to choose.
 */
const AGGREGATE = String.raw`aggregate() {
  awk -v max=${MAX_TOUCHED} -v tool="$tool" '
    function hex(s,   i, out) { out = ""; for (i = 1; i <= length(s); i++) out = out sprintf("%02x", ord[substr(s, i, 1)]); return out }
    BEGIN { for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i; summary = (tool == "bpftrace") }
    /^% time/ { summary = 1 }
    summary { print "Y\t" hex($0); next }
    { if (match($0, /\([0-9]+<([^>]|->)*>/)) { k = substr($0, RSTART + 1, RLENGTH - 2); sub(/^[0-9]+</, "", k)
        if (k ~ /^(TCP|TCPv6|UDP|UDPv6):\[.*->.*:[0-9]+\]$/) sub(/:[0-9]+\]$/, "]", k)
        else if (k ~ /^(socket|pipe):\[[0-9]+\]$/) sub(/:\[[0-9]+\]$/, "", k)
        if ((k in n) || count < max) { if (!(k in n)) count++; n[k]++ } else other++ } }
    END { for (k in n) print n[k] "\t" hex(k) > "/dev/stderr"; if (other) print other "\t" hex("(others)") > "/dev/stderr" }
  ' 2>"$tmp/touched"
  sort -rn "$tmp/touched" | head -n 20 | sed 's/^/T\t/'
}`;

export function traceScript(manifest: Manifest, seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60)
    throw new Error(`seconds must be 1 to 60: ${seconds}`);
  return [
    lifecyclePreamble(manifest),
    // $0 is this script's temporary file (remote/ssh.ts, holdStdin): it removes itself.
    REMOVE_OWN_FILE,
    PRIVATE_TMP_FUNCTION,
    TREE,
    AGGREGATE,
    'pid=$(main_pid)',
    `[ -n "$pid" ] || { echo ${q(`${manifest.name} is not running`)} >&2; exit ${TRACE_EXIT.notRunning}; }`,
    CHOOSE_TOOL,
    startTracer(seconds),
    `echo 'B ${TRACE_FORMAT}'`,
    'choose_tool',
    `[ -n "$tool" ] || { no_tracer >&2; exit ${TRACE_EXIT.noTracer}; }`,
    `printf 'W\\t%s\\t%s\\n' "$tool" "$(uname -m | tr -cd 'a-z0-9_')"`,
    'pids=$(tree "$pid" P | cut -f 2)',
    `[ -n "$pids" ] || { echo ${q(`${manifest.name} is not running`)} >&2; exit ${TRACE_EXIT.notRunning}; }`,
    `printf 'P\\t%s\\n' $pids`,
    // Root's own directory (0700): the tracer writes its lines into a FIFO there, read by aggregate.
    // Removed at the end, or by the next svc trace when a SIGKILL ended this one (private-tmp.ts).
    'tmp=$(private_tmp trace)',
    'mkfifo "$tmp/lines"',
    'aggregate < "$tmp/lines" > "$tmp/report" &',
    'agg_pid=$!',
    'exec 3<&0 </dev/null',
    'start_tracer 3<&-',
    // The watcher reads with sh's own read (no cat of its own): killed below, nothing of it stays
    // behind to signal a pid that may have been reused by then.
    `sh -c 'while IFS= read -r _; do :; done; kill -TERM "$1" 2>/dev/null' sh "$tr_pid" <&3 >/dev/null 2>&1 3<&- &`,
    'watch_pid=$!',
    'exec 3<&-',
    // bpftrace counts its N seconds itself, from when its probes are attached (compiling them
    // takes a second or more): the timer then only bounds a bpftrace that does not stop.
    `limit=${seconds}; [ "$tool" = strace ] || limit=$((limit + 20))`,
    `sh -c 'sleep "$2"; kill -TERM "$1" 2>/dev/null' sh "$tr_pid" "$limit" >/dev/null 2>&1 &`,
    'timer_pid=$!',
    // A signal relayed by sshd (Ctrl-C) interrupts the tracer too; wait again until it has stopped.
    `trap 'kill -TERM "$tr_pid" 2>/dev/null' INT TERM HUP`,
    'set +e',
    // The tracer, having stopped and written its summary, may end itself with the signal it got,
    // and sh reports that ("Terminated") on stderr, whose last line svc shows as a failure's
    // reason: nothing from here on has anything else to say there (its own errors are in $tmp/err).
    'exec 2>/dev/null',
    'while kill -0 "$tr_pid" 2>/dev/null; do wait "$tr_pid"; done',
    'kill "$watch_pid" "$timer_pid" 2>/dev/null',
    // A tracer that never opened its output (it could not start) leaves aggregate waiting to
    // open the FIFO: open and close it read-write (never blocks) so it sees the end.
    'exec 4<>"$tmp/lines"; exec 4>&-',
    'wait "$agg_pid"',
    'cat "$tmp/report"',
    // The descriptors open now: what kind, and the paths and sockets, counted.
    'set --; for p in $pids; do set -- "$@" "/proc/$p/fd"; done',
    // Sockets, pipes and event fds by kind (each has its own inode), files by their whole path
    // (fd-listing.ts).
    CHOOSE_LS_FLAGS,
    `ls $ls_q "$@" 2>/dev/null | awk '$1 ~ /^l/ { ${AWK_LINK_TARGET}; if (target ~ /^[a-z_]+:\\[[0-9]+\\]$/) sub(/:\\[[0-9]+\\]$/, "", target); if (at) print target }' | sort | uniq -c | sort -rn | head -n 20 |`,
    `  while read -r n what; do printf 'O\\t%s\\t%s\\n' "$n" "$(printf %s "$what" | hex)"; done`,
    // bpftrace warns on every start that it could not raise RLIMIT_MEMLOCK (not needed since
    // Linux 5.11, which accounts BPF memory to the cgroup): not worth showing.
    `printf 'X\\t%s\\n' "$(grep -v RLIMIT_MEMLOCK "$tmp/err" | head -c 2000 | hex)"`,
    'rm -rf -- "$tmp"',
    "echo 'E'",
    '',
  ].join('\n');
}
