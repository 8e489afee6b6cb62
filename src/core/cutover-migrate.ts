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
//
// Each init system stops the restart way's process its own way (restartWay below). By the time
// of the stop the switch's files are already in place, so under OpenRC and `init: monit` the
// script or launcher that started it is no longer there to ask: the process is stopped by its
// root-owned pidfile as that script did (start-stop-daemon, TERM, the stop timeout, KILL; under
// OpenRC the pid is supervise-daemon's, which stops the service and exits), and OpenRC is told
// the service stopped (zap). monit no longer watches it: its check was replaced by the slots'
// when monit reloaded, before the slot started. Upstart is refused in the plan (its job file
// becomes the slots' instance job under a running job: untested here, no upstart runs).
import type { HostFacts } from './facts.js';
import { hostLayout } from './layout.js';
import type { InitSystem } from './manifest.js';
import { shellCommand } from './quote.js';

/** The init systems whose live restart-way service a switch deploy takes over (the plan refuses others). */
export function canMigrate(init: InitSystem | undefined): boolean {
  return init !== 'upstart';
}

/** The restart way's process, as the plan and the apply script name it. */
export function restartLabel(init: InitSystem | undefined, name: string): string {
  switch (init) {
    case 'systemd':
      return `${name}.service`;
    case 'openrc':
      return `OpenRC's ${name}`;
    default:
      return `${name} (pidfile /run/${name}.pid)`;
  }
}

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
  init: InitSystem | undefined = 'systemd',
): string[] {
  const which = pid === undefined ? '' : `, pid ${pid}`;
  const label = restartLabel(init, name);
  // Under init: monit nothing is left to disable: monit's check of it is the slots' now.
  const disable = init === 'systemd' || init === 'openrc';
  if (behindNginx)
    return [
      `switch: nginx on port ${port} to slot a (nginx -t, reload)`,
      `stop ${label} (cutover: restart${which}; behind nginx already: no gap)${disable ? ', then disable it' : ''}`,
    ];
  return [
    `stop ${label} (cutover: restart${which}; it serves port ${port} until then): SIGTERM, its requests in flight finish`,
    `nginx takes port ${port} the moment it is free: new connections are refused in between (the gap is measured and reported)`,
    ...(disable ? [`disable ${label}`] : []),
  ];
}

// take_port PORT SECONDS: the restart way's process is asked to stop (old_stop, defined by the
// caller for its init system; not waited for: its requests in flight finish on their own), and as
// soon as nothing listens on PORT (polled every 10 ms, at most SECONDS) nginx reloads and takes
// it. $gap_ms: from the listener gone to nginx listening.
// 1: the port stayed taken; 2: nginx did not take up its configuration; 3: nor the port.
export const TAKE_PORT = String.raw`port_listening() {
  hexport=$(printf '%04X' "$1")
  grep -Eq "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
take_port() {
  gap_ms=
  old_stop </dev/null 3>&- 9>&- || return 1
  tries=0
  while port_listening "$1"; do
    tries=$((tries + 1)); [ "$tries" -le $(($2 * 100)) ] || return 1; sleep 0.01
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
  /** The init system that runs the restart way's process (never upstart: canMigrate). */
  init: InitSystem | undefined;
  /** svc.yaml stopTimeout: the restart way's TERM-to-KILL time. */
  stopTimeout: number;
  /** The service user: under init: monit only its process is stopped (a stale pidfile's pid may be another's). */
  user: string;
  port: number;
  /** nginx already serves the port (frontWasThere): reload, then stop the unit. */
  behindNginx: boolean;
  /** How long NAME.service may take to close its listener after SIGTERM (its stop timeout + 10 s). */
  stopSeconds: number;
}

/**
 * Shell text that stops the restart way's process: through systemd, else by its root-owned
 * pidfile as the restart way's own script did (its script is the slots' by now). `background`:
 * returns at once (the port is watched instead).
 */
export function restartStop(input: MigrationInput, background: boolean): string {
  if (input.init === 'systemd')
    return shellCommand([
      'systemctl',
      'stop',
      ...(background ? ['--no-block'] : []),
      '--',
      `${input.name}.service`,
    ]);
  const stop = shellCommand([
    'start-stop-daemon',
    '--stop',
    '--oknodo',
    '--pidfile',
    hostLayout(input.name).pidfile,
    '--retry',
    `TERM/${input.stopTimeout}/KILL/5`,
    // supervise-daemon (root's) removes its own pidfile as it ends; under init: monit the pid is
    // the service's own, and nobody else would remove the file.
    ...(input.init === 'openrc' ? [] : ['--user', input.user, '--remove-pidfile']),
  ]);
  return background ? `{ ${stop} >/dev/null 2>&1 & }` : stop;
}

/** Instead of a reload: the restart way stopped, nginx onto the port at once; $migrated=1 from here. */
export function takePortLines(input: MigrationInput, reload: string): string[] {
  const label = restartLabel(input.init, input.name);
  if (input.behindNginx)
    return [
      reload,
      'migrated=1',
      `${restartStop(input, false)} </dev/null 3>&- 9>&- || say "WARNING	${label} did not stop cleanly"`,
      `say "STEP	${label} stopped (nginx already served port ${input.port}: no gap)"`,
    ];
  return [
    'migrated=1',
    'took=0',
    `old_stop() { ${restartStop(input, true)}; }`,
    `take_port ${input.port} ${input.stopSeconds} || took=$?`,
    'case $took in',
    `  0) say "STEP	${label} stopped; nginx took port ${input.port}: no listener there for $gap_ms ms" ;;`,
    `  1) say "FAIL	${label} still listened on port ${input.port} ${input.stopSeconds} s after SIGTERM"; rollback ;;`,
    `  *) say "FAIL	nginx did not take up port ${input.port} once ${label} let go of it: see the host's /var/log/nginx/error.log"; rollback ;;`,
    'esac',
  ];
}

/** After the switch: the restart way no longer starts at boot (nor counts as started). */
export function migratedLines(input: Pick<MigrationInput, 'name' | 'init'>): string[] {
  const name = input.name;
  switch (input.init) {
    case 'systemd':
      return [
        `${shellCommand(['systemctl', 'disable', '--quiet', '--', `${name}.service`])} 2>/dev/null || :`,
        `${shellCommand(['systemctl', 'reset-failed', '--', `${name}.service`])} 2>/dev/null || :`,
      ];
    case 'openrc':
      return [
        `${shellCommand(['rc-service', name, 'zap'])} >/dev/null 2>&1 || :`,
        `${shellCommand(['rc-update', 'del', name, 'default'])} >/dev/null 2>&1 || :`,
      ];
    default:
      return [];
  }
}

/** The restart way started again, its own files back on the host. */
function restartStart(input: MigrationInput): string {
  const name = input.name;
  switch (input.init) {
    case 'systemd':
      return `systemctl daemon-reload; ${shellCommand(['systemctl', 'start', '--', `${name}.service`])}`;
    case 'openrc':
      // OpenRC still counts it started (the stop went by its pidfile): zapped first.
      return `${shellCommand(['rc-service', name, 'zap'])} >/dev/null 2>&1; ${shellCommand(['rc-service', name, 'start'])}`;
    default:
      // Its launcher is back: it starts the service as monit would (monit watches it again).
      return shellCommand([hostLayout(name).launcher, 'start']);
  }
}

/**
 * Undo, after the files are back and nginx re-read them (the site gone, so the port is free):
 * the restart way serves the port again, as before the deploy.
 */
export function migrationUndo(input: MigrationInput): string[] {
  return [
    `[ "\${migrated-0}" != 1 ] || { ${input.behindNginx ? '' : `port_free ${input.port} 100; `}${restartStart(input)} </dev/null 3>&- 9>&-; }`,
  ];
}
