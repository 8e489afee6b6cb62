// What `svc sandbox up` should do, decided from what the state directory says: pure, so the rules
// (idempotence, refusing to change a running sandbox's kind or network) are unit-tested.
import { SvcError } from '../core/errors.js';
import { DEFAULT_NET } from './names.js';
import type { SandboxSettings } from './state.js';

export type HostKind = SandboxSettings['kind'];
export type LoginUser = SandboxSettings['user'];

export interface UpRequest {
  count: number;
  kind: HostKind;
  /** From --net or SVC_SANDBOX_NET; undefined keeps the sandbox's (or the default). */
  net?: string;
  /** From --user; undefined keeps the sandbox's (or deploy). */
  user?: LoginUser;
  /** From --ebpf: the hosts started now may load eBPF tracing programs (light hosts only). */
  ebpf?: boolean;
}

/** The sandbox's settings after this `up`; refuses changes that would need the hosts rebuilt. */
export function decideSettings(
  previous: SandboxSettings | undefined,
  request: UpRequest,
  hasHosts: boolean,
  stateDir: string,
): SandboxSettings {
  const settings: SandboxSettings = {
    version: 1,
    net: request.net ?? previous?.net ?? DEFAULT_NET,
    kind: request.kind,
    user: request.user ?? previous?.user ?? 'deploy',
  };
  if (!previous || !hasHosts) return settings;
  const hint = 'run svc sandbox down first, or use another --state-dir';
  if (previous.kind !== settings.kind) {
    const flag = previous.kind === 'systemd' ? 'add --systemd' : 'drop --systemd';
    throw new SvcError(
      `the sandbox in ${stateDir} has ${previous.kind} hosts: ${flag}, or ${hint}`,
    );
  }
  if (previous.net !== settings.net) {
    throw new SvcError(
      `the sandbox in ${stateDir} uses net ${previous.net}, not ${settings.net}: ${hint}`,
    );
  }
  return settings;
}

export interface ExistingHost {
  n: number;
  /** Every recorded process alive and the host in inventory.json. */
  healthy: boolean;
}

export interface HostPlan {
  keep: number[];
  /** Half-made or crashed hosts: torn down, then started again. */
  replace: number[];
  create: number[];
}

/** Up to `count` hosts: keep the healthy ones, rebuild the broken ones, add the missing ones. */
export function planHosts(count: number, existing: readonly ExistingHost[]): HostPlan {
  const byNumber = new Map(existing.map((host) => [host.n, host]));
  const plan: HostPlan = { keep: [], replace: [], create: [] };
  const numbers = new Set([...Array.from({ length: count }, (_, i) => i + 1), ...byNumber.keys()]);
  for (const n of [...numbers].sort((x, y) => x - y)) {
    const host = byNumber.get(n);
    if (!host) plan.create.push(n);
    else if (host.healthy) plan.keep.push(n);
    else plan.replace.push(n);
  }
  return plan;
}
