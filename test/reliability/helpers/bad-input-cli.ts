// The real bin/svc for bad-input tests, plus the evidence that nothing happened: a local TCP
// listener that counts connections (an SSH connection attempt is a TCP connection first) and
// snapshots of directories that must stay as they were.
//
// svc runs with its own HOME (no ~/.ssh/config, known_hosts or keys of whoever runs the tests),
// an empty sandbox state directory, and SSH_AUTH_SOCK set to a socket that does not exist: svc
// then has an authentication method, so it really connects when it gets that far, and the
// listener sees it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SVC } from '../../helpers/sandbox.js';

export interface SvcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliWorld {
  root: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

export function makeWorld(prefix: string): CliWorld {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const sandbox = join(root, 'sandbox-state');
  mkdirSync(home);
  mkdirSync(sandbox);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    USER: process.env.USER ?? 'root',
    NO_COLOR: '1',
    SVC_DEBUG: '',
    SVC_SANDBOX_DIR: sandbox,
    SSH_AUTH_SOCK: join(root, 'no-agent.sock'),
  };
  return { root, home, env };
}

/** bin/svc; a run that hangs (a FIFO read, say) is killed after `timeoutMs` and fails the test. */
export function svc(
  world: CliWorld,
  args: readonly string[],
  cwd = world.root,
  timeoutMs = 20_000,
): Promise<SvcResult> {
  return new Promise((resolve) => {
    execFile(
      SVC,
      [...args],
      { cwd, env: world.env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; signal?: NodeJS.Signals }) | null;
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** A TCP listener on 127.0.0.1 that counts connections and closes each at once. */
export class ConnectionCounter {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ConnectionCounter> {
    const server = createServer();
    const counter = new ConnectionCounter(server);
    server.on('connection', (socket) => {
      counter.connections++;
      counter.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** root@127.0.0.1:PORT */
  get target(): string {
    return `root@127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Every path under dir with its type, mode, size and content: equal snapshots, nothing written. */
export function snapshot(dir: string): string[] {
  const entries: string[] = [];
  // Names as bytes: a test may plant a name that is not UTF-8.
  const visit = (absolute: Buffer, shown: string) => {
    for (const name of readdirSync(absolute, { encoding: 'buffer' })) {
      const path = Buffer.concat([absolute, Buffer.from('/'), name]);
      const child = `${shown}${JSON.stringify(name.toString('latin1'))}`;
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        entries.push(`${child}/`);
        visit(path, `${child}/`);
      } else if (stat.isFile()) {
        const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
        entries.push(`${child} ${stat.mode.toString(8)} ${stat.size} ${digest}`);
      } else {
        entries.push(`${child} ${stat.mode.toString(8)}`);
      }
    }
  };
  visit(Buffer.from(dir), '');
  return entries.sort();
}

/** Characters that would make an error line unclear: controls, bidi overrides, invisible marks. */
export const UNCLEAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
