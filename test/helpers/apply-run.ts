// A scratch host for running generated scripts for real: a real sh (dash), real coreutils, tar,
// flock, useradd and setpriv, as root, inside a private mount and pid namespace (unshare) where
// /var, /run, /home and /usr/local/sbin are scratch directories of this host, and /etc this
// machine's with the host's changes in a scratch overlay (so its state lasts from one session to
// the next, like a real host's). Only the programs that would touch
// the machine's real services are stand-ins, first in the scripts' PATH (/usr/local/sbin):
// systemctl, monit, nginx and curl. They record their argv in a calls file and act on the
// scratch tree (a "started" service is a sleeping process with its pid in /run/NAME.pid).
// Processes end with their session's pid namespace; dispose() removes the tree.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ApplyBundle } from '../../src/core/apply-script.js';
import { tarArchive } from '../../src/core/tar.js';

export interface StepResult {
  code: number;
  /** What the script said on its protocol channel (fd 3), one entry per line. */
  protocol: string[];
  /** argv of every stand-in program called, one line each: "systemctl restart api-orders". */
  calls: string[];
  /** Whether the script's own temporary file was still there after it ended. */
  scriptLeft: boolean;
}

const STUBS: Record<string, string> = {
  systemctl: String.raw`case $1 in
  start|restart)
    if [ -s /run/$2.pid ]; then kill "$(cat /run/$2.pid)" 2>/dev/null || :; fi
    sleep 1000 </dev/null >/dev/null 2>&1 3>&- 9>&- &
    echo $! > /run/$2.pid ;;
  stop) if [ -s /run/$2.pid ]; then kill "$(cat /run/$2.pid)" 2>/dev/null || :; rm -f /run/$2.pid; fi ;;
esac
exit 0`,
  // monit has a check loaded while its file is there, and (as real monit's status) says OK then.
  monit: String.raw`if [ "$1" = summary ]; then [ -f "/etc/monit/conf.d/$2" ]; exit; fi
if [ "$1" = status ]; then
  [ -f "/etc/monit/conf.d/$2" ] || { echo "Service '$2' not found"; exit 1; }
  printf "Process '%s'
  status                       OK
" "$2"; exit 0
fi
exit 0`,
  nginx: 'exit 0',
  // The service answers while its unit does not say ExecStart=/bin/false.
  // curl -w %{http_code}: the status it got (000 when nothing answered).
  curl: String.raw`if grep -q /bin/false /etc/systemd/system/api-orders.service 2>/dev/null; then printf 000; exit 7; fi; printf 200`,
};

const SCRATCH = ['var', 'run', 'home', 'sbin'] as const;

export class ScratchHost {
  private constructor(readonly dir: string) {}

  /** A fresh host: an empty /var, /run and /home, a copy of /etc, the login user `deploy`. */
  static create(): ScratchHost {
    const host = new ScratchHost(mkdtempSync(join(tmpdir(), 'svc-apply-run-')));
    for (const name of [...SCRATCH, 'etc', 'etc-work']) mkdirSync(join(host.dir, name));
    for (const [name, body] of Object.entries(STUBS)) {
      const text = `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> /run/svc-test-calls\n${body}\n`;
      writeFileSync(join(host.dir, 'sbin', name), text, { mode: 0o755 });
    }
    host.sh(
      'mkdir -p /var/lib /var/log /var/tmp /etc/default /etc/systemd/system /etc/monit/conf.d\n' +
        'useradd --create-home --home-dir /home/deploy --shell /bin/sh deploy',
    );
    return host;
  }

  /** Runs sh text in a session on this host; its stdout (a failure throws with stderr). */
  sh(text: string, input?: Buffer | string): string {
    const run = this.run(text, input);
    if (run.code !== 0) throw new Error(`a session on the scratch host failed: ${run.stderr}`);
    return run.stdout;
  }

  /** Runs sh text in a session on this host: its exit code, stdout and stderr. */
  run(text: string, input?: Buffer | string): { code: number; stdout: string; stderr: string } {
    const mounts = [
      ...SCRATCH.map(
        (name) =>
          `mount --bind ${this.dir}/${name} ${name === 'sbin' ? '/usr/local/sbin' : `/${name}`}`,
      ),
      // /etc: this machine's, with this host's changes (users, config files) on top.
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${this.dir}/etc,workdir=${this.dir}/etc-work /etc`,
    ].join('\n');
    const run = spawnSync(
      'unshare',
      [
        '-m',
        '-p',
        '-f',
        '--mount-proc',
        '--propagation',
        'private',
        'sh',
        '-c',
        `set -e\n${mounts}\nset +e\n${text}`,
      ],
      { encoding: 'utf8', timeout: 120_000, ...(input !== undefined && { input }) },
    );
    return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
  }

  /** Runs an apply script the way svc does: a temporary file, the gzipped tar on stdin. */
  apply(bundle: ApplyBundle, before = ''): StepResult {
    // Named as core/script-file.ts names a script's file (the script removes it by that name).
    const script = `/tmp/svc-run.apply-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const input = join(this.dir, 'input.tgz');
    writeFileSync(script, bundle.script);
    writeFileSync(input, gzipSync(tarArchive(bundle.entries)));
    try {
      const out = this.sh(
        [
          ': > /run/svc-test-calls',
          before,
          `sh ${script} < ${input} > ${this.dir}/protocol 2>&1`,
          `echo $? > ${this.dir}/rc`,
          `cp /run/svc-test-calls ${this.dir}/calls`,
          `if [ -e ${script} ]; then echo left; fi`,
        ].join('\n'),
      );
      const lines = (name: string) =>
        readFileSync(join(this.dir, name), 'utf8')
          .split('\n')
          .filter((line) => line !== '');
      return {
        code: Number(readFileSync(join(this.dir, 'rc'), 'utf8').trim()),
        protocol: lines('protocol'),
        calls: lines('calls'),
        scriptLeft: out.includes('left'),
      };
    } finally {
      rmSync(script, { force: true });
    }
  }

  /** `find` of paths on the host: "PATH TYPE MODE OWNER:GROUP[ -> LINK]" per entry. */
  tree(...paths: string[]): string[] {
    return this.sh(`find ${paths.join(' ')} -printf '%p %y %m %u:%g -> %l\\n' 2>/dev/null; true`)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/ -> $/, ''))
      .sort();
  }

  /** A file's text on the host, or undefined when there is none. */
  read(path: string): string | undefined {
    const out = this.sh(`if [ -f ${path} ]; then printf 'yes\\n'; cat ${path}; fi`);
    return out.startsWith('yes\n') ? out.slice(4) : undefined;
  }

  dispose(): void {
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A protocol line's hex field, decoded. */
export const unhex = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');
