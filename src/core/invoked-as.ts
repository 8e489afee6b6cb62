// How to write svc in a hint the user can paste: `svc` when that is what their shell finds, else
// the path they ran it by (bin/svc in a checkout), made right for the directory the hint runs in.
import { isAbsolute, relative } from 'node:path';

export interface Invocation {
  /** The script as run (process.argv[1]), absolute. */
  script: string;
  /** Its real path (links resolved), or undefined when it cannot be known. */
  scriptReal: string | undefined;
  /** The real path of the `svc` the shell's PATH finds, or undefined when there is none. */
  onPathReal: string | undefined;
  /** The script's path as the user typed it, when known (node makes argv[1] absolute). */
  typed?: string | undefined;
}

/**
 * `svc`, or the script's path: absolute when typed so, else relative to `from` (absolute when
 * that reads worse).
 */
export function commandFor(invocation: Invocation, from: string): string {
  if (invocation.onPathReal !== undefined && invocation.onPathReal === invocation.scriptReal)
    return 'svc';
  // Typed as an absolute path: that is what the user knows it by, wherever the hint runs.
  if (invocation.typed !== undefined && isAbsolute(invocation.typed)) return invocation.script;
  const path = relative(from, invocation.script);
  if (path === '' || isAbsolute(path) || path.startsWith('../../..')) return invocation.script;
  return path.includes('/') ? path : `./${path}`;
}
