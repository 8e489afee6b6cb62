// Where and as whom ssh.ts connects, and how its messages name that.
import type { HostKeyPolicy } from '../core/targets.js';

/** Where and as whom to connect; targets.ts's HostSpec has this shape. */
export interface SshEndpoint {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFiles: readonly string[];
  proxyJump?: string;
  /** IdentitiesOnly: offer only the identity files (and the agent's copies of them). */
  identitiesOnly?: boolean;
  /** IdentityAgent: a socket path, or 'none'; absent means SSH_AUTH_SOCK. */
  identityAgent?: string;
  /** Which known_hosts files, alias, hashing...; absent means OpenSSH's defaults. */
  hostKeys?: HostKeyPolicy;
}

/** `name (user@address:port)`, as connection and timeout messages begin. */
export function describeEndpoint(endpoint: SshEndpoint): string {
  return `${endpoint.name} (${endpoint.user}@${endpoint.address}:${endpoint.port})`;
}
