// How the apply script finds nginx's master and its workers (apply-script.ts NGINX_RELOAD), run
// by a real sh against this machine's real /proc: a process's parent read from its stat after the
// last ")" agrees with the kernel's own list of a process's children, also when a process names
// itself "a) S PID x" (its name is between the parentheses of its stat line, spaces and all);
// and the master's pidfile is the one nginx's configuration names.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { NGINX_RELOAD } from '../../src/core/apply-script.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const sh = (body: string, ...args: string[]) =>
  execFileSync('sh', ['-c', `${NGINX_RELOAD}\n${body}`, 'sh', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });

const pids = (text: string) =>
  text
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);

describe('ps_children: the children of a process, from every stat', () => {
  it('agree with the kernel’s list, a grandchild named "a) S <this pid> x" not among them', async () => {
    // The grandchild (a subshell of a child) gives itself that name, then waits on its stdin.
    const child = spawn(
      'sh',
      [
        '-c',
        '( printf "a) S %s x" "$1" > /proc/self/comm; read -r line ); read -r line',
        'sh',
        String(process.pid),
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    children.push(child);
    const named = async () => {
      for (let i = 0; i < 100; i++) {
        const found = execFileSync(
          'sh',
          ['-c', 'grep -l "^a) S" /proc/[0-9]*/comm 2>/dev/null || :'],
          {
            encoding: 'utf8',
          },
        );
        if (found.trim() !== '') return found.trim().split('\n')[0]!.split('/')[2]!;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the grandchild never named itself');
    };
    const grandchild = Number(await named());
    const out = sh(
      // Every thread's list: a test may run in a worker thread, whose children the main
      // thread's own list (task/PID/children) does not name.
      'cat /proc/"$1"/task/*/children; echo; echo "|"; ps_children "$1"',
      String(process.pid),
    );
    const [kernel, parsed] = out.split('|') as [string, string];
    expect(pids(parsed)).toEqual(pids(kernel));
    expect(pids(parsed)).toContain(child.pid);
    expect(pids(parsed)).not.toContain(grandchild);
  });
});

describe('nginx_pidfile: where the master’s pid is', () => {
  it.each([
    ['user www-data;\\npid /run/nginx-custom.pid;\\nevents {}\\n', '/run/nginx-custom.pid'],
    ['  pid   /var/run/n.pid ;\\n', '/var/run/n.pid'],
    ['# pid /nope.pid;\\nuser www-data;\\n', '/run/nginx.pid'],
    ['', '/run/nginx.pid'],
  ])('nginx -T printing %j: %s', (config, pidfile) => {
    expect(sh(`nginx() { printf '${config}'; }\nnginx_pidfile; echo "$ngx_pidfile"`)).toBe(
      `${pidfile}\n`,
    );
  });

  it('no nginx at all: Debian’s /run/nginx.pid', () => {
    expect(sh('PATH=/nonexistent; nginx_pidfile; echo "$ngx_pidfile"')).toBe('/run/nginx.pid\n');
  });
});
