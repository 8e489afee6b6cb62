// The traps svc's host scripts set for INT, TERM and HUP. Ctrl-C can reach a script twice at once
// (svc's SSH signal request, relayed by sudo, and its `kill -INT` of the shell: remote/ssh.ts),
// and a person may press it again while the script cleans up: the handler's first command
// ignores them all, so nothing cuts the cleanup short (the undo, the history's record).

/** The signals a host script treats as "stop now". */
export const STOP_SIGNALS = 'INT TERM HUP';

/**
 * sh: `trap` running `action` on INT, TERM or HUP, after first ignoring all three. `action` is sh
 * text placed inside single quotes: it must hold none.
 */
export function trapOnce(action: string, signals: string = STOP_SIGNALS): string {
  if (action.includes("'"))
    throw new Error(`trapOnce: a single quote in ${JSON.stringify(action)}`);
  return `trap 'trap "" ${signals}; ${action}' ${signals}`;
}

/**
 * sh: an EXIT trap that ignores INT, TERM and HUP before `action`, which gets the exit status
 * as $1 (the `trap ""` in front would reset $?).
 */
export function exitTrapOnce(action: string, signals: string = STOP_SIGNALS): string {
  if (action.includes("'"))
    throw new Error(`exitTrapOnce: a single quote in ${JSON.stringify(action)}`);
  return `trap 'set -- $?; trap "" ${signals}; ${action}' EXIT`;
}
