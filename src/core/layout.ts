// Where a service lives on a host. One place computes these paths so that templates, the planner
// and the lifecycle commands agree.
import type { InitSystem } from './manifest.js';

export interface HostLayout {
  root: string;
  releases: string;
  current: string;
  log: string;
  logFile: string;
  db: string;
  pidfile: string;
  envFile: string;
  /** The start/stop launcher used when monit alone supervises the service (init: monit). */
  launcher: string;
  /** svc's own records for this service: root-owned, never inside a service-writable directory. */
  records: string;
}

export function hostLayout(name: string): HostLayout {
  const root = `/var/www/${name}`;
  return {
    root,
    releases: `${root}/releases`,
    current: `${root}/current`,
    log: `/var/log/${name}`,
    logFile: `/var/log/${name}/${name}.log`,
    db: `/var/db/${name}`,
    pidfile: `/run/${name}.pid`,
    envFile: `/etc/default/${name}`,
    launcher: `/usr/local/lib/svc/${name}/ctl`,
    records: `/var/lib/svc/${name}`,
  };
}

/**
 * Where root reads the pid of the service's own process (the health gate, crash detection,
 * `svc status`). Under OpenRC the service runs under supervise-daemon, whose pidfile holds the
 * supervisor's pid; the child's is kept in OpenRC's own state (rc_service_value `child_pid`),
 * written by the root supervisor under root's /run/openrc and removed when the service stops.
 * Never a file the service user can write. Elsewhere the pidfile is the service's.
 */
export function servicePidFile(name: string, init: InitSystem | undefined): string {
  return init === 'openrc' ? `/run/openrc/options/${name}/child_pid` : hostLayout(name).pidfile;
}

/**
 * The release `current` points at (`releases/ID`, or the absolute path to it), from the facts'
 * reading of the link: the live release. undefined when there is none or it is not svc's shape.
 */
export function liveReleaseOf(
  currentLink: { type: string; target?: string } | undefined,
  layout: Pick<HostLayout, 'releases'>,
): string | undefined {
  if (currentLink?.type !== 'link' || currentLink.target === undefined) return undefined;
  const target = currentLink.target;
  const id = target.startsWith(`${layout.releases}/`)
    ? target.slice(layout.releases.length + 1)
    : target.startsWith('releases/')
      ? target.slice('releases/'.length)
      : undefined;
  return id !== undefined && /^[A-Za-z0-9._-]+$/.test(id) && id !== '.' && id !== '..'
    ? id
    : undefined;
}
