// Which kind of sandbox host `svc sandbox up` starts. A flag decides; without one, the project in
// the current directory does: a service that svc.yaml says runs under systemd needs hosts that
// boot systemd, so `svc new NAME --yes && svc sandbox up && svc deploy sandbox --yes` (every
// default) reaches a running service instead of a refusal.
import type { Manifest } from './manifest.js';

export type SandboxKind = 'light' | 'systemd';

export interface KindChoice {
  kind: SandboxKind;
  /** Why, when the project chose: printed so the slower systemd boot is no surprise. */
  note?: string;
}

export function chooseSandboxKind(
  flags: { systemd?: boolean; light?: boolean },
  manifest: Pick<Manifest, 'init'> | undefined,
): KindChoice {
  if (flags.systemd) return { kind: 'systemd' };
  if (flags.light) return { kind: 'light' };
  if (manifest?.init === 'systemd')
    return {
      kind: 'systemd',
      note: 'svc.yaml here says init: systemd, so these hosts boot systemd (--light for light hosts)',
    };
  return { kind: 'light' };
}
