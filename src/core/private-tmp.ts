// A host script's private scratch directory (svc top's mark, svc trace's FIFO and reports) that no
// way of ending the script leaves behind for good. The script removes its directory when it ends,
// but a SIGKILL (the OOM killer, an admin) or a power cut runs nothing: so each directory carries
// its shell's pid in its name, and the next script of the same kind removes those whose shell is
// gone before making its own. Scripts run as root (remote/ssh.ts), and these directories are
// root's 0700 (mktemp -d) in the sticky /tmp: nobody else can make one svc would sweep, or swap
// one for a link between the check and the removal.

/** `svc-KIND.PID.XXXXXX`: what private_tmp makes and sweeps, for a kind of script. */
export const privateTmpGlob = (kind: string) => `/tmp/svc-${kind}.*`;

/**
 * sh: `private_tmp KIND` prints a fresh directory /tmp/svc-KIND.$$.XXXXXX, after removing the
 * ones of that kind whose shell is gone (a live pid, reused or not, keeps its directory). Fails as
 * mktemp fails. `$$` is the script's own shell, also inside the $(...) that calls it.
 */
export const PRIVATE_TMP_FUNCTION = `private_tmp() {
  for pt_dir in /tmp/svc-"$1".*; do
    pt_pid=\${pt_dir#/tmp/svc-"$1".}; pt_pid=\${pt_pid%%.*}
    case $pt_pid in '' | *[!0-9]*) continue ;; esac
    ! kill -0 "$pt_pid" 2>/dev/null || continue
    [ -d "$pt_dir" ] && [ ! -L "$pt_dir" ] && [ "$(stat -c %u -- "$pt_dir")" = 0 ] || continue
    rm -rf -- "$pt_dir"
  done
  mktemp -d /tmp/svc-"$1".$$.XXXXXX
}`;
