// How svc's host-side readers (svc top, svc trace) list a process's open descriptors: `ls -l` of
// /proc/PID/fd, one line per descriptor, read by awk. Both need the same two things right.

/**
 * sh: $ls_q, the flags that list descriptors one per line: `-lq` (a name's newline or tab shows
 * as `?`, so a file the service names cannot add lines); busybox's ls (Alpine) has no -q, and its
 * error would go unseen, but its -l already shows control characters as `?`.
 */
export const CHOOSE_LS_FLAGS = 'ls_q=-lq; ls -q / >/dev/null 2>&1 || ls_q=-l';

/**
 * awk, on one `ls -l` line of an fd directory: what the link points to, into `target` (empty, and
 * `at` 0, on a line that is no link). It is what follows the line's FIRST " -> ": the descriptor's
 * own name is a number, while the target may hold spaces and " -> " (`x socket:[N]` is a file).
 */
export const AWK_LINK_TARGET = 'at = index($0, " -> "); target = at ? substr($0, at + 4) : ""';
