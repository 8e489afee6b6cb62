// What svc offers the server to log in, in OpenSSH's order: the agent's keys, then the identity
// files. IdentitiesOnly (ssh_config, and every sandbox host) limits the agent to the keys of the
// configured identity files, so an agent full of keys cannot use up sshd's MaxAuthTries before the
// right key is tried. IdentityAgent chooses the agent socket (or none).
import { readFileSync } from 'node:fs';
import ssh2, { type AnyAuthMethod, type IdentityCallback, type ParsedKey } from 'ssh2';
import { SvcError } from '../core/errors.js';

// ssh2 is CommonJS: its named exports exist only on the default export under ESM.
const { OpenSSHAgent, utils } = ssh2;

/** What authentication needs to know about the host (a subset of SshEndpoint). */
export interface AuthTarget {
  user: string;
  identityFiles: readonly string[];
  identitiesOnly?: boolean;
  /** A socket path, or 'none'. */
  identityAgent?: string;
}

export interface AuthOptions {
  /** SSH_AUTH_SOCK, used unless IdentityAgent says otherwise. */
  agentSocket?: string;
  askPassphrase?: (file: string) => Promise<string>;
}

/** Passphrases asked once per run, per key file. */
const passphrases = new Map<string, Promise<string>>();

function readKey(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function first(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(parsed) ? parsed[0]! : parsed;
}

async function parseIdentity(file: string, options: AuthOptions): Promise<ParsedKey | undefined> {
  const data = readKey(file);
  if (data === undefined) return undefined;
  const plain = first(utils.parseKey(data));
  if (!(plain instanceof Error)) return plain;
  if (!/encrypted|passphrase/i.test(plain.message) || options.askPassphrase === undefined)
    return undefined;
  if (!passphrases.has(file)) passphrases.set(file, options.askPassphrase(file));
  const parsed = first(utils.parseKey(data, await passphrases.get(file)!));
  if (parsed instanceof Error) throw new SvcError(`${file}: ${parsed.message}`);
  return parsed;
}

/** The public half of an identity file: FILE.pub, else the (unencrypted) private key's. */
function publicBlob(file: string): Buffer | undefined {
  for (const candidate of [`${file}.pub`, file]) {
    const data = readKey(candidate);
    if (data === undefined) continue;
    const key = first(utils.parseKey(data));
    if (!(key instanceof Error)) return key.getPublicSSH();
  }
  return undefined;
}

/** The agent, showing only the keys whose public halves are in `allowed`. */
class OnlyTheseKeys extends OpenSSHAgent {
  constructor(
    socket: string,
    private readonly allowed: readonly Buffer[],
  ) {
    super(socket);
  }
  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((error, keys) => {
      if (error || !keys) return cb(error, keys);
      cb(
        undefined,
        keys.filter((key) => {
          const blob = 'getPublicSSH' in key ? key.getPublicSSH() : undefined;
          return blob !== undefined && this.allowed.some((allowed) => allowed.equals(blob));
        }),
      );
    });
  }
}

/** The public keys the agent holds (none when it cannot be asked). */
function agentKeys(socket: string): Promise<Buffer[]> {
  return new Promise((resolve) => {
    new OpenSSHAgent(socket).getIdentities((error, keys) => {
      if (error || !keys) return resolve([]);
      resolve(keys.flatMap((key) => ('getPublicSSH' in key ? [key.getPublicSSH()] : [])));
    });
  });
}

/** The methods to try in order: ssh2 asks for the next one after each refusal. */
export async function authMethods(
  target: AuthTarget,
  options: AuthOptions,
): Promise<AnyAuthMethod[]> {
  const methods: AnyAuthMethod[] = [];
  const socket =
    target.identityAgent === undefined
      ? options.agentSocket
      : target.identityAgent === 'none'
        ? undefined
        : target.identityAgent;
  const inAgent: Buffer[] = [];
  if (socket) {
    if (target.identitiesOnly) {
      const held = await agentKeys(socket);
      const allowed = target.identityFiles
        .flatMap((file) => publicBlob(file) ?? [])
        .filter((blob) => held.some((key) => key.equals(blob)));
      if (allowed.length > 0) {
        methods.push({
          type: 'agent',
          username: target.user,
          agent: new OnlyTheseKeys(socket, allowed),
        });
        inAgent.push(...allowed);
      }
    } else methods.push({ type: 'agent', username: target.user, agent: socket });
  }
  for (const file of target.identityFiles) {
    const key = await parseIdentity(file, options);
    // A public key alone (IdentityFile naming a .pub) can only be used through the agent.
    if (!key || !key.isPrivateKey()) continue;
    // With IdentitiesOnly, a key already offered through the agent is not offered again.
    if (target.identitiesOnly && inAgent.some((blob) => blob.equals(key.getPublicSSH()))) continue;
    methods.push({ type: 'publickey', username: target.user, key });
  }
  return methods;
}
