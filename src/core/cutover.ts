// cutover: switch (issue 11). nginx serves the public `port` and proxies to one of two slots,
// each an instance of the service on its own loopback port. A deploy starts the new release in
// the idle slot, gates its health on that slot's own port, points nginx at it (nginx -t, then a
// reload: old workers finish what they serve), then drains and stops the old slot. Pure: the
// slot arithmetic, the names and files both sides agree on, and what the plan reads of the host.
import type { HostFacts } from './facts.js';
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { sha256Hex } from './release.js';

export const CUTOVERS = ['restart', 'switch'] as const;
export type Cutover = (typeof CUTOVERS)[number];
export const DEFAULT_DRAIN_SECONDS = 30;
/** Where the plan looks for nginx on a host: Debian's package puts the binary here. */
export const NGINX_BINARY = '/usr/sbin/nginx';
/** The lowest port a slot gets: below 1024 a process needs a capability the unit never grants. */
const LOWEST_SLOT_PORT = 1024;

export interface Slot {
  /** a or b: what the plan calls it. */
  name: 'a' | 'b';
  port: number;
}

export function cutoverOf(manifest: Pick<Manifest, 'cutover'>): Cutover {
  return manifest.cutover ?? 'restart';
}

export function isSwitch(manifest: Pick<Manifest, 'cutover'>): boolean {
  return cutoverOf(manifest) === 'switch';
}

/**
 * The two slot ports of a public port, when svc.yaml names none (`slotPorts:`): the first two of
 * port+10000, port+20000, port-10000, port-20000, port+30000, ... that are 1024..65535. Never the
 * public port itself, never each other; the same answer on every run and every host.
 */
export function derivedSlotPorts(port: number): [number, number] {
  const found: number[] = [];
  for (let step = 1; found.length < 2 && step <= 7; step++) {
    for (const candidate of [port + step * 10000, port - step * 10000]) {
      if (found.length < 2 && candidate >= LOWEST_SLOT_PORT && candidate <= 65535)
        found.push(candidate);
    }
  }
  // Only reached for ports no 16-bit arithmetic above can miss: kept as a guard.
  if (found.length < 2) throw new Error(`no slot ports for port ${port}`);
  return found.sort((x, y) => x - y) as [number, number];
}

/** The slots of a switch service: svc.yaml's slotPorts, else derived from port. */
export function slotsOf(manifest: Pick<Manifest, 'port' | 'slotPorts'>): [Slot, Slot] {
  const [a, b] = manifest.slotPorts ?? derivedSlotPorts(manifest.port ?? 0);
  return [
    { name: 'a', port: a },
    { name: 'b', port: b },
  ];
}

/** The systemd instance that runs a slot: the template unit NAME@.service, instance = its port. */
export function slotUnit(name: string, slot: Slot): string {
  return `${name}@${slot.port}.service`;
}

/** The template unit file a switch service ships under systemd. */
export function slotTemplateUnit(name: string): string {
  return `/etc/systemd/system/${name}@.service`;
}

/** The pidfile a slot's unit writes (root's /run), for monit and `svc status`. */
export function slotPidfile(name: string, slot: Slot): string {
  return `/run/${name}@${slot.port}.pid`;
}

/**
 * The file nginx's upstream block includes: which slot is live. svc writes it (a temporary name,
 * then a rename) in root's own state directory; the site file names it, never a port.
 */
export function upstreamFile(name: string): string {
  return `${hostLayout(name).records}/upstream.conf`;
}

/** The upstream file's whole content when `slot` is live. */
export function upstreamText(name: string, slot: Slot): string {
  return `# ${name}: the live slot (${slot.name}), written by svc at each switch.\nserver 127.0.0.1:${slot.port};\n`;
}

export type LiveSlot =
  { state: 'none' } | { state: 'live'; slot: Slot; idle: Slot } | { state: 'unknown'; why: string };

const upstreamSha = (name: string, slot: Slot) =>
  sha256Hex(new TextEncoder().encode(upstreamText(name, slot)));

/**
 * Which slot nginx sends requests to, from the upstream file as the host reports it: none before
 * the first switch deploy; a file that is neither slot's text (edited by hand, or the slot ports
 * changed) is unknown, and the plan says so rather than guess which process is serving.
 */
export function liveSlot(
  name: string,
  [a, b]: readonly [Slot, Slot],
  facts: Pick<HostFacts, 'paths'>,
): LiveSlot {
  const fact = facts.paths.get(upstreamFile(name));
  if (fact === undefined || fact.type === 'absent') return { state: 'none' };
  if (fact.type === 'file' && fact.sha256 === upstreamSha(name, a))
    return { state: 'live', slot: a, idle: b };
  if (fact.type === 'file' && fact.sha256 === upstreamSha(name, b))
    return { state: 'live', slot: b, idle: a };
  return {
    state: 'unknown',
    why: `${upstreamFile(name)} names neither slot (${a.port}, ${b.port})`,
  };
}

/**
 * How much longer a switch deploy's run may take than its own work: after it is recorded it
 * drains the old slot (drainTimeout), takes the lock again (at most 120 s) and stops the slot
 * (stopTimeout, then KILL and a margin). svc waits that long before it stops waiting.
 */
export function drainAllowanceSeconds(
  manifest: Pick<Manifest, 'cutover' | 'drainTimeout' | 'stopTimeout'>,
): number {
  if (!isSwitch(manifest)) return 0;
  return (manifest.drainTimeout ?? DEFAULT_DRAIN_SECONDS) + 120 + (manifest.stopTimeout ?? 30) + 15;
}

/**
 * A host whose deploy said DEPLOYED (recorded, before its drain) and then did not end as svc saw
 * it (svc stopped waiting, the connection went, the script was killed): deployed, with why svc
 * did not see the end. `why` is svc's own message (the host's name first, then `: `).
 */
export function deployedBeforeDrain(lines: readonly string[], why: string): string | undefined {
  if (!lines.some((line) => line.startsWith('DEPLOYED\t'))) return undefined;
  const reason = why.slice(why.indexOf(': ') + 2);
  return `deployed and recorded; then ${reason} during the drain of the old slot, which the host finishes on its own (it stops that slot at drainTimeout)`;
}

/** The slot a switch deploy starts: the idle one, or slot a when none is live yet. */
export function nextSlot(slots: readonly [Slot, Slot], live: LiveSlot): Slot {
  return live.state === 'live' ? live.idle : slots[0];
}

/** The steps a switch deploy takes, as the plan shows them. */
export function switchSteps(
  cutover: {
    slots: readonly [Slot, Slot];
    port: number;
    drainSeconds: number;
    release: string;
    keepWarm?: boolean;
  },
  live: LiveSlot,
): string[] {
  const next = nextSlot(cutover.slots, live);
  return [
    `start slot ${next.name} (127.0.0.1:${next.port}) with release ${cutover.release}, gate its health there`,
    `switch: nginx on port ${cutover.port} to slot ${next.name} (nginx -t, reload)`,
    ...(live.state === 'live' ? [leaveStep(cutover, live.slot)] : []),
  ];
}

/** What becomes of the slot nginx leaves: drained and stopped, or kept warm (keepWarm). */
export function leaveStep(
  cutover: { drainSeconds: number; keepWarm?: boolean },
  slot: Slot,
): string {
  return cutover.keepWarm === true
    ? `keep slot ${slot.name} running with the release it serves now (keepWarm: svc rollback switches back to it without a start)`
    : `drain slot ${slot.name} (up to ${cutover.drainSeconds} s), then stop it`;
}
