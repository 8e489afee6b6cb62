// The deploy lock on a sandbox host, seen and held the way a deploy does: flock on
// /var/lib/svc/locks/NAME.lock, and the holder note NAME.holder beside it.
import { spawn } from 'node:child_process';
import type { Sandbox } from './sandbox.js';

const LOCKS = '/var/lib/svc/locks';

/** free, held, or stale (free, but a killed deploy's note is left); plus leftover staging dirs. */
export function lockState(sbx: Sandbox, host: string, service: string): string {
  const lock = `${LOCKS}/${service}.lock`;
  const note = `${LOCKS}/${service}.holder`;
  const result = sbx.ssh(
    host,
    `if [ ! -e ${lock} ] || flock -n ${lock} true; then if [ -e ${note} ]; then echo stale; else echo free; fi; else echo held; fi; ls -d /var/lib/svc/stage.* 2>/dev/null || true`,
    { user: 'root' },
  );
  if (result.code !== 0) throw new Error(`${host}: reading the lock: ${result.stderr}`);
  return result.stdout.trim();
}

export interface HeldLock {
  /** The pid of the shell holding it, on the host. */
  hostPid: number;
  release(): Promise<void>;
}

/**
 * Holds the lock from a shell on the host, with a holder note like a deploy's (svc's JSON, then
 * "PID START"), until release() closes its stdin.
 */
export function holdLock(
  sbx: Sandbox,
  host: string,
  service: string,
  holderJson: string,
): Promise<HeldLock> {
  const script = [
    `mkdir -p -m 0700 ${LOCKS}`,
    `exec 9>>${LOCKS}/${service}.lock`,
    'flock 9',
    `start=$(cut -d' ' -f22 /proc/$$/stat)`,
    `printf '%s\\n%s %s\\n' '${holderJson.replaceAll("'", "'\\''")}' "$$" "$start" > ${LOCKS}/${service}.holder`,
    'echo "ready $$"',
    'read -r _',
    `rm -f ${LOCKS}/${service}.holder`,
  ].join('\n');
  const [file, ...args] = sbx.sshArgs(host, 'root');
  const child = spawn(file!, [...args, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /ready (\d+)/.exec(out);
      if (ready)
        resolve({
          hostPid: Number(ready[1]),
          release: async () => {
            child.stdin.end();
            await exited;
          },
        });
    });
    child.once('exit', (code) => reject(new Error(`${host}: holding the lock: exit ${code}`)));
  });
}
