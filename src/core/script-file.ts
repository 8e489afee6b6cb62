// How a host script reaches sh whole or not at all. A script is sent on the exec channel's stdin;
// a connection cut midway ends that stdin early, and sh runs what came: `sh -s` even the last,
// cut line (`rm -rf -- /var/www/api-orders/releases/r3` cut to `rm -rf -- /var/www/api-orders`).
// - Read by exact length into a file (input follows the script): the file runs only when it
//   holds every byte.
// - Read by `sh -s`: the script is one brace group, which sh parses whole before it runs any of
//   it, so a cut one is a syntax error and nothing runs.
// The file has a name of svc's own in /tmp whatever TMPDIR says (a libpam-tmpdir login moves
// mktemp's default), so each script can remove it as its first line.

/** mktemp's template for a script's file. */
export const SCRIPT_FILE_TEMPLATE = '/tmp/svc-run.XXXXXXXXXX';

/** A case pattern for that file's name. */
export const SCRIPT_FILE_GLOB = '/tmp/svc-run.*';

/** sh, a script's first line: its own file goes ($0 is that file when run from one). */
export const REMOVE_OWN_FILE = `case "$0" in ${SCRIPT_FILE_GLOB}) rm -f -- "$0" ;; esac`;

/** The exit code of a script that did not arrive whole. */
export const SCRIPT_CUT_EXIT = 70;

/**
 * sh (inside the login's `sh -c`) that reads a script of `length` bytes from stdin into its file
 * and execs it, or removes the file and exits SCRIPT_CUT_EXIT when fewer bytes came.
 */
export function runExactScript(length: number): string {
  return (
    `umask 077; f=$(mktemp ${SCRIPT_FILE_TEMPLATE}) || exit ${SCRIPT_CUT_EXIT}; ` +
    `head -c ${length} > "$f"; n=$(wc -c < "$f"); ` +
    `[ "$n" -eq ${length} ] 2>/dev/null || { rm -f -- "$f"; exit ${SCRIPT_CUT_EXIT}; }; ` +
    'exec sh "$f"'
  );
}

/** A script for `sh -s`, as one brace group: a cut one never starts. */
export function wholeOrNothing(script: string): string {
  return `{\n${script.replace(/\n?$/, '\n')}}\n`;
}
