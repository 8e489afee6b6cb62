// The sandbox's record of its hosts: written by `svc sandbox up` into the sandbox state
// directory, read by `svc sandbox list`, `svc sandbox down` and by target resolution (the group
// `sandbox`). JSON, validated on read, so a half-written or foreign file is an error, not a guess.
import { z } from 'zod';

export const SANDBOX_GROUP = 'sandbox';
export const SANDBOX_INVENTORY_FILE = 'inventory.json';
export const SANDBOX_KNOWN_HOSTS_FILE = 'known_hosts';

const sandboxHostSchema = z.strictObject({
  /** sbx-1 ... sbx-N */
  name: z.string().regex(/^sbx-\d+$/),
  kind: z.enum(['light', 'systemd']),
  /** The host side of the veth pair, x.y.z.2; the machine side is x.y.z.1. */
  address: z.string(),
  port: z.number().int(),
  /** The login user svc uses by default: `deploy` (through sudo), or `root` with --user root. */
  user: z.string(),
  /** Users that accept the sandbox key. */
  users: z.array(z.string()),
  /** Private key (OpenSSH format, unencrypted) accepted for every user. */
  keyFile: z.string(),
  /** Network namespace name, as `ip netns list` shows it. */
  netns: z.string(),
  /** The host's first process (the namespace holder, or systemd-nspawn's leader). */
  pid: z.number().int(),
  /** Every process `up` started for this host, by pid, for `down` to end. */
  pids: z.array(z.number().int()),
});

const sandboxInventorySchema = z.strictObject({
  version: z.literal(1),
  /** The /16 the hosts' /24s are carved from, e.g. 10.231 */
  net: z.string(),
  knownHostsFile: z.string(),
  hosts: z.array(sandboxHostSchema),
});

export type SandboxHost = z.infer<typeof sandboxHostSchema>;
export type SandboxInventory = z.infer<typeof sandboxInventorySchema>;

export function parseSandboxInventory(text: string, file: string): SandboxInventory {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON`);
  }
  const result = sandboxInventorySchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Where the sandbox keeps its state: SVC_SANDBOX_DIR, else the XDG state directory. */
export function sandboxStateDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.SVC_SANDBOX_DIR) return env.SVC_SANDBOX_DIR;
  const stateHome = env.XDG_STATE_HOME || `${env.HOME ?? '/root'}/.local/state`;
  return `${stateHome}/svc/sandbox`;
}
