// How every generated unit starts the service: through /bin/sh, already running as the service
// user, which opens the log itself and then execs the command (so the pid the init system and
// the pidfile hold is the service's own).
//
// Why not let the init system open the log: it does so as root (systemd's StandardOutput=append:,
// start-stop-daemon's --output, a root job shell's >>), following symbolic links, and the log's
// directory /var/log/NAME belongs to the service user, who could replace NAME.log with a link to
// /etc/shadow or /etc/sudoers.d/x: root would then append the service's output there, or create
// the file. Opened by the service user, the link gets that user's permissions and nothing more.
//
// A log the service user cannot append to (a link, or a root-owned file left by an svc that still
// let root open it) is renamed aside, by the service user in its own directory, to
// NAME.log.unusable-PID, and a fresh log begins with a line saying so: the service starts, and
// whoever planted the link finds it there. If even that fails (the directory is not the service
// user's), the shell exits 2 without running the command: the start fails, nothing is written.
//
// $0 is the log, "$@" the command. The text has no ' and no %, and it is quoted for each file's
// format like any other value (sh, systemd, OpenRC's eval).

export const LOG_WRAPPER_SCRIPT =
  'if [ -L "$0" ] || { [ -e "$0" ] && [ ! -w "$0" ]; }; then ' +
  'mv -f -- "$0" "$0.unusable-$$" && exec >>"$0" 2>&1 && ' +
  'echo "svc: $0 set aside as $0.unusable-$$: a symbolic link, or not writable by the service user"; ' +
  'fi; exec "$@" >>"$0" 2>&1';

/** argv that runs `command` with its stdout and stderr appended to `logFile`, opened by itself. */
export function withLog(logFile: string, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('withLog: no command');
  return ['/bin/sh', '-c', LOG_WRAPPER_SCRIPT, logFile, ...command];
}
