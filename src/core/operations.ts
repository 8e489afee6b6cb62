// Operations: what a host should look like, as data. The playbook expands into these; the
// planner compares them with the host's facts. Paths under the SSH login user's home are written
// `~/...` and resolved against the home the facts report.
import type { Slot } from './cutover.js';
import type { EnvLine } from './env-file.js';
import type { LocalFile } from './release.js';

export interface Ownership {
  owner: string;
  group: string;
}

export interface DirOperation extends Ownership {
  kind: 'dir';
  path: string;
  mode: number;
  /** Only make sure it exists (a parent such as /etc/systemd/system): never change its mode or owner. */
  ensureOnly?: boolean;
  /** A project playbook's step (`playbooks/deploy.yaml: 3.dir`): gated like config/ files. */
  step?: string;
}

export interface LinkOperation {
  kind: 'link';
  path: string;
  target: string;
  /** A project playbook's step: gated like config/ files. */
  step?: string;
}

export interface FileOperation extends Ownership {
  kind: 'file';
  path: string;
  /** Where it comes from in the project, e.g. config/etc/default/api-orders */
  source: string;
  content: Uint8Array;
  sha256: string;
  mode: number;
  /** Never shown: the plan says "(sensitive value changed)". */
  secret: boolean;
  /** The env file svc renders: its lines, compared one by one on the host (env-diff.ts). */
  envLines?: readonly EnvLine[];
}

export interface UserOperation {
  kind: 'user';
  name: string;
  /** A system user without a login shell, whose home is the service's data directory. */
  home: string;
}

export interface ReleaseOperation {
  kind: 'release';
  /** /var/www/NAME/releases/ID */
  path: string;
  id: string;
  files: number;
  bytes: number;
  keep: number;
  /** Run inside the new release before it is renamed into place (svc.yaml `install:`). */
  install?: string[];
  /** The project files it is made of (absent for a rollback's release): its recorded file list. */
  local?: readonly LocalFile[];
  /**
   * A rollback's release, already on the host: whether it is there is read from the release
   * list (X records), so the fact request is the same whichever release the rollback picks.
   */
  pinned?: true;
}

export interface ServiceOperation {
  kind: 'service';
  name: string;
  init: 'systemd' | 'openrc' | 'upstart' | 'monit';
  /** Paths whose change means the running service must restart. */
  dependsOn: string[];
  /** cutover: switch: the slots a deploy moves between, instead of a restart (core/cutover.ts). */
  cutover?: SwitchCutover;
}

export interface SwitchCutover {
  slots: [Slot, Slot];
  /** The public port nginx listens on. */
  port: number;
  drainSeconds: number;
  /** The release the new slot starts with: the plan names it. */
  release: string;
  /** config/ ships every file the slots need under its init system (cutover-slots.ts). */
  templateUnit: boolean;
  /** The host paths of those files config/ lacks (the plan names them). */
  missingUnitFiles?: string[];
  /** The nginx site file that serves `port`: was it there before (cutover-migrate.ts)? */
  site?: string;
  /** keepWarm: the slot nginx leaves keeps running (cutover-warm.ts); absent: false. */
  keepWarm?: boolean;
  /**
   * sha256 of the env file and the template unit this deploy leaves on the host: a slot started
   * with the same ones, running the same release, needs no start (cutover-warm.ts).
   */
  inputs?: { envSha256?: string; unitSha256?: string };
}

export interface MonitOperation {
  kind: 'monit';
  name: string;
  /** The check file; a change to it means `monit reload`. */
  check: string;
}

/** A static site: nginx reloads when its site file changes (after `nginx -t`). */
export interface NginxOperation {
  kind: 'nginx';
  site: string;
  /** Paths whose change means the site must be checked again (release, current, site). */
  dependsOn: string[];
}

export interface HealthOperation {
  kind: 'health';
  url?: string;
  pidfile?: string;
  timeoutSeconds: number;
}

export type Operation =
  | DirOperation
  | LinkOperation
  | FileOperation
  | UserOperation
  | ReleaseOperation
  | ServiceOperation
  | MonitOperation
  | NginxOperation
  | HealthOperation;

/** The host paths an operation needs facts about. */
export function factPaths(operation: Operation): string[] {
  switch (operation.kind) {
    case 'dir':
    case 'link':
    case 'file':
    case 'release':
      return [operation.path];
    default:
      return [];
  }
}

/** Operations with `~/` paths made absolute, once the facts have told the login user's home. */
export function resolveHomePaths(operations: readonly Operation[], home: string): Operation[] {
  const resolve = (path: string) => (path.startsWith('~/') ? `${home}/${path.slice(2)}` : path);
  return operations.map((op) =>
    op.kind === 'dir' || op.kind === 'link' || op.kind === 'file'
      ? { ...op, path: resolve(op.path) }
      : op,
  );
}
