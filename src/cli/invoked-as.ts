// The facts commandFor needs, read from this process and PATH.
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { commandFor } from '../core/invoked-as.js';

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'svc');
    try {
      accessSync(candidate, constants.X_OK);
      return real(candidate);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The script's path as the shell passed it to the kernel (node's process.argv[1] is made
 * absolute): the argument of node's command line that names the same file.
 */
function typedScript(script: string): string | undefined {
  try {
    const argv = readFileSync('/proc/self/cmdline', 'utf8').split('\0');
    return argv.slice(1).find((arg) => arg !== '' && resolve(arg) === script);
  } catch {
    return undefined;
  }
}

/** svc as the user can type it in `from` (default: the current directory). */
export function svcCommand(from: string = process.cwd()): string {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return 'svc';
  const script = resolve(argv1);
  return commandFor(
    { script, scriptReal: real(script), onPathReal: onPath(), typed: typedScript(script) },
    resolve(from),
  );
}
