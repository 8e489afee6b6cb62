// Ctrl-C during a host script svc waits on (a deploy, the release phase) must reach that script:
// its INT trap undoes what it began. The SSH "signal" channel request alone does not get there
// for every login: OpenSSH's sshd refuses it for a root login ("session signalling requires
// privilege separation", session.c), so the script never heard Ctrl-C and svc waited for the
// whole deploy. So the shell that runs the script first says its pid and start time (one line,
// before the script's own output), and on Ctrl-C svc also runs `kill -INT` for that pid over a
// second short exec on the same connection. The start time names one process for good: a pid
// reused after the script ended belongs to a process that began later and is never signalled.

/** The first line a script run with SAY_PID prints: `svc-pid PID START`. */
export const PID_LINE_PREFIX = 'svc-pid ';

/**
 * sh, run by the shell that then execs the script (so the pid is the script's): prints the pid
 * line, with an empty start time where /proc cannot be read (svc then sends no kill).
 */
export const SAY_PID =
  'start=; { read -r s < /proc/$$/stat; } 2>/dev/null && s=${s##*) } && set -- $s && shift 19 && start=$1; ' +
  `printf '${PID_LINE_PREFIX}%s %s\\n' "$$" "$start"; `;

export interface ScriptProcess {
  pid: number;
  /** Clock ticks since boot when it began (/proc/PID/stat, field 22), digits only. */
  start: string;
}

/** The pid line parsed; undefined for anything else (or a start time that could not be read). */
export function parsePidLine(line: string): ScriptProcess | undefined {
  const match = /^svc-pid ([1-9][0-9]{0,9}) ([0-9]{1,20})$/.exec(line);
  if (!match) return undefined;
  const pid = Number(match[1]);
  // Linux pids stop at 2^22; anything larger is not a pid.
  if (pid > 4_194_304) return undefined;
  return { pid, start: match[2]! };
}

/**
 * sh that sends INT to the script's shell only while it is the same process (same start time);
 * it always exits 0: a script that ended meanwhile needs nothing. With `group` (svc exec's
 * command, run under setsid), INT goes to its whole process group, the way a terminal's Ctrl-C
 * does, so a pipeline or a child it waits for ends too; only while the process still leads that
 * group (/proc field 5). A deploy's shell gets it alone: its INT trap undoes, and ends, the rest.
 */
export function interruptScript(target: ScriptProcess, group = false): string {
  const { pid, start } = target;
  if (!Number.isSafeInteger(pid) || pid < 1 || !/^[0-9]{1,20}$/.test(start))
    throw new Error(`not a process: ${JSON.stringify(target)}`);
  return [
    `{ read -r s < /proc/${pid}/stat; } 2>/dev/null || exit 0`,
    ...(group
      ? [
          's=${s##*) }; set -- $s; g=$3; shift 19',
          // `kill -INT -PID`: dash and busybox sh take no `--` before a negative pid.
          `[ "$1" = ${start} ] && [ "$g" = ${pid} ] && kill -INT -${pid}`,
        ]
      : ['s=${s##*) }; set -- $s; shift 19', `[ "$1" = ${start} ] && kill -INT ${pid}`]),
    'exit 0',
    '',
  ].join('\n');
}
