// A live cutover: restart service moved to cutover: switch without stopping it first (issue 11).
// NAME.service holds the public port, which nginx must take, and two processes cannot listen on
// one port (the scaffold's server has no SO_REUSEPORT): so there is one gap, and it is kept as
// short as the host allows. The new release starts in slot a on its own loopback port and is
// gated there while NAME.service still serves every request; the upstream file is written and
// `nginx -t` passes; only then is NAME.service sent SIGTERM (its server closes its listener at
// once and finishes the requests in flight), and the moment the port is free nginx reloads and
// listens on it. The gap (no listener on the port: a new connection is refused) is measured on
// the host, from the listener gone to nginx's listener there, and reported. A failure after the
// stop puts NAME.service back: nginx lets go of the port, the unit starts again. Pure text.
import type { HostFacts } from './facts.js';
import { shellCommand, shellQuote as q } from './quote.js';

/** A live NAME.service (the restart way) that a switch deploy takes the port from. */
export function isMigration(facts: Pick<HostFacts, 'service'>, live: { state: string }): boolean {
  return facts.service.active && live.state === 'none';
}

/**
 * The site file was on the host before: nginx already serves the port (a node www- site's front,
 * its process on appPort), so there is no port to take, and no gap: reload, then stop the unit.
 */
export function frontWasThere(
  cutover: { site?: string },
  facts: Pick<HostFacts, 'paths'>,
): boolean {
  return cutover.site !== undefined && facts.paths.get(cutover.site)?.type === 'file';
}

/** The plan's steps around the switch of a migration. */
export function migrationSteps(
  name: string,
  port: number,
  pid: number | undefined,
  behindNginx: boolean,
): string[] {
  const which = pid === undefined ? '' : `, pid ${pid}`;
  if (behindNginx)
    return [
      `switch: nginx on port ${port} to slot a (nginx -t, reload)`,
      `stop ${name}.service (cutover: restart${which}; behind nginx already: no gap), then disable it`,
    ];
  return [
    `stop ${name}.service (cutover: restart${which}; it serves port ${port} until then): SIGTERM, its requests in flight finish`,
    `nginx takes port ${port} the moment it is free: new connections are refused in between (the gap is measured and reported)`,
    `disable ${name}.service`,
  ];
}

// take_port PORT UNIT SECONDS: UNIT is asked to stop (not waited for: its requests in flight
// finish on their own), and as soon as nothing listens on PORT (polled every 10 ms, at most
// SECONDS) nginx reloads and takes it. $gap_ms: from the listener gone to nginx listening.
// 1: the port stayed taken; 2: nginx did not take up its configuration; 3: nor the port.
export const TAKE_PORT = String.raw`port_listening() {
  hexport=$(printf '%04X' "$1")
  grep -Eq "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
take_port() {
  gap_ms=
  systemctl stop --no-block -- "$2" </dev/null 3>&- 9>&- || return 1
  tries=0
  while port_listening "$1"; do
    tries=$((tries + 1)); [ "$tries" -le $(($3 * 100)) ] || return 1; sleep 0.01
  done
  uptime_cs; gap_from=$up_cs
  reload_nginx & reload_pid=$!
  tries=0
  until port_listening "$1"; do
    tries=$((tries + 1)); [ "$tries" -le 1000 ] || break; sleep 0.01
  done
  uptime_cs; gap_ms=$(((up_cs - gap_from) * 10))
  wait "$reload_pid" || return 2
  port_listening "$1" || return 3
}`;

export interface MigrationInput {
  name: string;
  port: number;
  /** nginx already serves the port (frontWasThere): reload, then stop the unit. */
  behindNginx: boolean;
  /** How long NAME.service may take to close its listener after SIGTERM (its stop timeout + 10 s). */
  stopSeconds: number;
}

/** Instead of a reload: NAME.service stopped, nginx onto the port at once; $migrated=1 from here. */
export function takePortLines(input: MigrationInput, reload: string): string[] {
  const unit = `${input.name}.service`;
  if (input.behindNginx)
    return [
      reload,
      'migrated=1',
      `${shellCommand(['systemctl', 'stop', '--', unit])} </dev/null 3>&- 9>&- || say "WARNING	${unit} did not stop cleanly"`,
      `say "STEP	${unit} stopped (nginx already served port ${input.port}: no gap)"`,
    ];
  return [
    'migrated=1',
    'took=0',
    `take_port ${input.port} ${q(unit)} ${input.stopSeconds} || took=$?`,
    'case $took in',
    `  0) say "STEP	${unit} stopped; nginx took port ${input.port}: no listener there for $gap_ms ms" ;;`,
    `  1) say "FAIL	${unit} still listened on port ${input.port} ${input.stopSeconds} s after SIGTERM"; rollback ;;`,
    `  *) say "FAIL	nginx did not take up port ${input.port} once ${unit} let go of it: see the host's /var/log/nginx/error.log"; rollback ;;`,
    'esac',
  ];
}

/** After the switch: the restart-way unit no longer starts at boot. */
export function migratedLines(name: string): string[] {
  return [
    `${shellCommand(['systemctl', 'disable', '--quiet', '--', `${name}.service`])} 2>/dev/null || :`,
    `${shellCommand(['systemctl', 'reset-failed', '--', `${name}.service`])} 2>/dev/null || :`,
  ];
}

/**
 * Undo, after the files are back and nginx re-read them (the site gone, so the port is free):
 * NAME.service serves the port again, as before the deploy.
 */
export function migrationUndo(input: MigrationInput): string[] {
  return [
    `[ "\${migrated-0}" != 1 ] || { systemctl daemon-reload; ${input.behindNginx ? '' : `port_free ${input.port} 100; `}${shellCommand(['systemctl', 'start', '--', `${input.name}.service`])} </dev/null 3>&- 9>&-; }`,
  ];
}
