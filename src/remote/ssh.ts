// The SSH transport, on ssh2: one connection per host for the whole run (what OpenSSH's
// ControlMaster gives), every command with a timeout that names the host and the step, host keys
// always verified, and a non-root login going through `sudo -n`.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ssh2, { type Client as SshClient, type ClientChannel } from 'ssh2';

// ssh2 is CommonJS: its named exports exist only on the default export under ESM.
const { Client } = ssh2;
import { SvcError } from '../core/errors.js';
import { wholeOrNothing } from '../core/script-file.js';
import { authMethods } from './ssh-auth.js';
import { checkHostKey, hostKeyAlgorithms, hostKeyEntries } from './host-key-check.js';
import { interruptsByPid, pidInterrupt, scriptShell } from './interrupt.js';
import { describeEndpoint as describe, type SshEndpoint } from './ssh-endpoint.js';
import { session, type SessionOptions } from './ssh-session.js';

export type { SshEndpoint } from './ssh-endpoint.js';
export type { SessionOptions } from './ssh-session.js';

export interface SshOptions {
  /**
   * Record a host key that no known_hosts file has for the host (OpenSSH's accept-new) in the
   * host's first UserKnownHostsFile, instead of refusing it.
   */
  acceptNew?: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** ssh-agent socket (SSH_AUTH_SOCK), tried before identity files unless IdentityAgent says otherwise. */
  agentSocket?: string;
  /** Asks for an encrypted key's passphrase; absent without a terminal. */
  askPassphrase?: (file: string) => Promise<string>;
  /** Resolves a ProxyJump hop (`[user@]host[:port]` or an ssh_config alias) to an endpoint. */
  resolveJump?: (hop: string) => SshEndpoint;
  /** Called with each host key seen, e.g. by `svc trust`. */
  onHostKey?: (endpoint: SshEndpoint, key: Buffer) => void;
}

export interface RunOptions {
  /** Data for the script's stdin, after the script itself. */
  input?: Buffer;
  /** Called with each line of stdout as it arrives (progress). */
  onLine?: (line: string) => void;
  /**
   * Aborting sends SIGINT to the remote command (Ctrl-C), which then cleans up and exits: as an
   * SSH signal request and (without `stdout` or `holdStdin`) as `kill -INT` of the script's pid,
   * which sshd does not refuse for a root login (core/interrupt-pid.ts).
   */
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * stdout is piped here as it arrives, with backpressure (a slow reader closes the SSH window),
   * and not kept: result.stdout is empty. Not ended: the caller ends it. For output of any size.
   */
  stdout?: NodeJS.WritableStream;
  /**
   * Keep the command's stdin open after the script (read by exact length, as with `input`) until
   * `signal` aborts: the end of stdin tells the script that svc is gone, also when svc is killed
   * or the connection drops. Not with `input`.
   */
  holdStdin?: boolean;
  /**
   * With holdStdin: piped to the command's stdin after the script (svc top's request lines); its
   * end is the end of the command's stdin.
   */
  feed?: NodeJS.ReadableStream;
}

/** With RunOptions.stdout, at most this much of stderr is kept (the first bytes: the reason). */
const STREAMED_STDERR_LIMIT = 64 * 1024;

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

const MAX_JUMP_HOPS = 8;

/**
 * The address CheckHostIP checks, or undefined where ssh does not check one: the option is off,
 * the host is reached through a jump host (a proxy), the name already is an address, or the
 * address is a loopback one (ssh's "local").
 */
async function checkedAddress(endpoint: SshEndpoint, jumped: boolean): Promise<string | undefined> {
  if (!endpoint.hostKeys?.checkHostIp || jumped || isIP(endpoint.address) !== 0) return undefined;
  let address: string;
  try {
    ({ address } = await lookup(endpoint.address));
  } catch (error) {
    throw new SvcError(
      `${describe(endpoint)}: cannot resolve ${endpoint.address}: ${(error as Error).message}`,
    );
  }
  return address.startsWith('127.') || address === '::1' ? undefined : address;
}

export class HostConnection {
  private constructor(
    readonly endpoint: SshEndpoint,
    private readonly client: SshClient,
    private readonly options: SshOptions,
    private readonly jump?: HostConnection,
  ) {}

  static async open(endpoint: SshEndpoint, options: SshOptions, hops = 0): Promise<HostConnection> {
    if (hops > MAX_JUMP_HOPS) {
      throw new SvcError(
        `${endpoint.name}: more than ${MAX_JUMP_HOPS} ProxyJump hops; is there a loop in ~/.ssh/config?`,
      );
    }
    let jump: HostConnection | undefined;
    let sock: ClientChannel | undefined;
    if (endpoint.proxyJump && endpoint.proxyJump !== 'none') {
      if (!options.resolveJump)
        throw new SvcError(`${endpoint.name}: ProxyJump ${endpoint.proxyJump} cannot be resolved`);
      // A chain a,b: reach b through a, then the target through b.
      const chain = endpoint.proxyJump.split(',');
      const last = options.resolveJump(chain.pop()!);
      jump = await HostConnection.open(
        chain.length > 0 ? { ...last, proxyJump: chain.join(',') } : last,
        options,
        hops + 1,
      );
      sock = await jump.forward(endpoint.address, endpoint.port);
    }
    const entries = hostKeyEntries(endpoint);
    const methods = await authMethods(endpoint, options);
    if (methods.length === 0) {
      throw new SvcError(
        `${describe(endpoint)}: no ssh-agent (SSH_AUTH_SOCK) and no usable identity file`,
      );
    }
    const ip = await checkedAddress(endpoint, jump !== undefined);
    const client = new Client();
    let hostKeyProblem: string | undefined;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.destroy();
        reject(
          new SvcError(
            `${describe(endpoint)}: connect timed out after ${options.connectTimeoutMs / 1000} s`,
          ),
        );
      }, options.connectTimeoutMs);
      client.once('ready', () => {
        if (process.env.SVC_TRACE_SSH === '1')
          process.stderr.write(`svc-trace: ${endpoint.name} connect\n`);
        clearTimeout(timer);
        resolve();
      });
      // on, not once: a peer that drops the connection can make ssh2 emit a second error.
      client.on('error', (error: Error & { level?: string }) => {
        clearTimeout(timer);
        if (hostKeyProblem) return reject(new SvcError(`${endpoint.name}: ${hostKeyProblem}`));
        const reason =
          error.level === 'client-authentication'
            ? `authentication failed for ${endpoint.user} (tried ${methods.map((m) => m.type).join(', ')})`
            : `connect failed: ${error.message}`;
        reject(new SvcError(`${describe(endpoint)}: ${reason}`));
      });
      const remaining = [...methods];
      client.connect({
        // Under CheckHostIP, the address looked up is the one connected to and checked.
        host: ip ?? endpoint.address,
        port: endpoint.port,
        username: endpoint.user,
        ...(sock && { sock }),
        readyTimeout: options.connectTimeoutMs,
        // A connection whose network vanished is noticed within about a minute, not at the TCP
        // timeout; a host busy opening a session (PAM, logind) for tens of seconds is not.
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        algorithms: {
          // An exact list, in OpenSSH's order: the types known for this host first.
          serverHostKey: hostKeyAlgorithms(endpoint, entries),
        },
        hostVerifier: (key: Buffer) => {
          hostKeyProblem = checkHostKey(endpoint, key, entries, {
            ...options,
            ...(ip !== undefined ? { ip } : {}),
          });
          return hostKeyProblem === undefined;
        },
        authHandler: (_left, _partial, next) => next(remaining.shift() ?? (false as never)),
      });
      // Many small exchanges, each waited on: Nagle's algorithm would hold every one back.
      client.setNoDelay(true);
    });
    const connection = new HostConnection(endpoint, client, options, jump);
    client.once('close', () => (connection.lost = true));
    return connection;
  }

  /** The server closed the connection (or it dropped): the pool opens a new one. */
  lost = false;

  private forward(address: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (error, channel) =>
        error
          ? reject(
              new SvcError(
                `${this.endpoint.name}: cannot reach ${address}:${port} as a jump host: ${error.message}`,
              ),
            )
          : resolve(channel),
      );
    });
  }

  /**
   * Runs a sh script on the host, as root: directly when logged in as root, else through
   * `sudo -n` (never a password prompt). `step` names what is running, for timeout messages.
   * With `input`, the script is read first by exact length, and the script's own stdin is the
   * input (a tar stream, say): one round trip for both.
   */
  run(script: string, step: string, options: RunOptions = {}): Promise<RunResult> {
    const root = this.endpoint.user === 'root';
    const exact = options.input !== undefined || options.holdStdin === true;
    // Whole or not at all (core/script-file.ts): by length into a file, or one brace group.
    const body = Buffer.from(exact ? script : wholeOrNothing(script));
    // A script Ctrl-C must reach says its pid first (interrupt.ts).
    const byPid = interruptsByPid(options);
    const shell = scriptShell(body.length, exact, byPid);
    const command = root ? shell : `sudo -n ${shell}`;
    // SVC_TRACE_SSH=1: one line per remote command on stderr, to count round trips (bench/).
    if (process.env.SVC_TRACE_SSH === '1')
      process.stderr.write(`svc-trace: ${this.endpoint.name} exec ${step}\n`);
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) {
          const why = this.lost ? `the connection was lost (${error.message})` : error.message;
          return reject(new SvcError(`${this.endpoint.name}: ${step}: ${why}`));
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let stderrBytes = 0;
        let pending = '';
        // No limit (Infinity): a reader that answers for as long as svc runs (svc top).
        const timer = Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              channel.close();
              reject(
                new SvcError(
                  `${describe(this.endpoint)}: ${step} did not finish within ${timeoutMs / 1000} s`,
                ),
              );
            }, timeoutMs)
          : undefined;
        const deliver = (chunk: Buffer) => {
          stdout.push(chunk);
          if (!options.onLine) return;
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) options.onLine(line);
        };
        const byPidInterrupt = byPid
          ? pidInterrupt(deliver, (kill) => {
              this.run(kill, 'interrupting', { timeoutMs: 15_000 }).catch(() => undefined);
            })
          : undefined;
        if (options.stdout) channel.pipe(options.stdout, { end: false });
        else
          channel.on('data', (chunk: Buffer) =>
            byPidInterrupt ? byPidInterrupt.data(chunk) : deliver(chunk),
          );
        channel.stderr.on('data', (chunk: Buffer) => {
          if (options.stdout && stderrBytes >= STREAMED_STDERR_LIMIT) return;
          stderr.push(chunk);
          stderrBytes += chunk.length;
        });
        const interrupt = () => {
          channel.signal('INT');
          if (options.holdStdin) channel.end();
          byPidInterrupt?.interrupt();
        };
        if (options.signal?.aborted) queueMicrotask(interrupt);
        else options.signal?.addEventListener('abort', interrupt, { once: true });
        channel.once('close', () => options.signal?.removeEventListener('abort', interrupt));
        channel.on('close', (code: number | null | undefined, signal?: string) => {
          byPidInterrupt?.close();
          clearTimeout(timer);
          // No exit status and no signal: the connection went away under the command.
          if ((code === null || code === undefined) && !signal)
            return reject(
              new SvcError(`${describe(this.endpoint)}: ${step}: the connection was lost`),
            );
          const result = {
            code: code ?? -1,
            stdout: Buffer.concat(stdout),
            stderr: Buffer.concat(stderr),
          };
          if (
            !root &&
            result.code === 1 &&
            /sudo: (a password is required|a terminal is required)/.test(result.stderr.toString())
          ) {
            return reject(
              new SvcError(
                `${this.endpoint.name}: sudo wants a password for ${this.endpoint.user}; svc needs passwordless sudo (NOPASSWD) or a root login`,
              ),
            );
          }
          resolve(result);
        });
        if (options.holdStdin) {
          channel.write(body);
          options.feed?.pipe(channel);
        } else channel.end(options.input ? Buffer.concat([body, options.input]) : body);
      });
    });
  }

  /** svc exec's command with the caller's streams (ssh-session.ts). */
  session(script: string, options: SessionOptions): Promise<number> {
    const sendKill = (kill: string) => {
      this.run(kill, 'interrupting', { timeoutMs: 15_000 }).catch(() => undefined);
    };
    return session(this.client, this.endpoint, () => this.lost, sendKill, script, options);
  }

  close(): void {
    this.client.end();
    this.jump?.close();
  }
}

/** One connection per host for a whole run. */
export class ConnectionPool {
  private readonly open = new Map<string, Promise<HostConnection>>();
  constructor(private readonly options: SshOptions) {}

  async get(endpoint: SshEndpoint): Promise<HostConnection> {
    const key = `${endpoint.user}@${endpoint.address}:${endpoint.port}`;
    let connection = this.open.get(key);
    // A connection the server dropped is replaced: the next step reconnects instead of failing.
    if (connection && (await connection.catch(() => undefined))?.lost) connection = undefined;
    if (!connection) {
      connection = HostConnection.open(endpoint, this.options);
      this.open.set(key, connection);
    }
    return connection;
  }

  async closeAll(): Promise<void> {
    const connections = await Promise.allSettled(this.open.values());
    for (const result of connections) if (result.status === 'fulfilled') result.value.close();
    this.open.clear();
  }
}
