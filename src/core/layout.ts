// Where a service lives on a host. One place computes these paths so that templates, the planner
// and the lifecycle commands agree.

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
