// How the apply script finds nginx's master and its workers (apply-script.ts NGINX_RELOAD), run
// by a real sh against this machine's real /proc: a process's parent read from its stat after the
// last ")" gives exactly a parent's children (a parent of the test's own, whose children are
// known), also when a process names itself "a) S PID x" (its name is between the parentheses of
// its stat line, spaces and all); and the master's pidfile is the one nginx's configuration
// names. A /proc entry that vanishes mid-scan: test/integration/nginx-reload-proc.test.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { NGINX_RELOAD } from '../../src/core/apply-script.js';

const children: ChildProcess[] = [];
afterAll(() => {
  // Each in a group of its own: the group goes, grandchildren too.
  for (const child of children)
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
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
  // A parent of our own whose children are exactly known: nothing else starts or ends a child of
  // it while the test reads (the vitest worker's own children change with other tests). Its
  // children: a sleep and a subshell; the subshell's child (a grandchild) names itself
  // "a) S <parent pid> x", which a parser that takes the 4th word of its stat reads as a child.
  it('names exactly the parent’s children, not a grandchild named "a) S <parent pid> x"', async () => {
    const parent = spawn(
      'sh',
      [
        '-c',
        [
          'sleep 60 & c1=$!',
          // A background job's stdin is /dev/null: the grandchild waits on a sleep of its own
          // (not its last command, which dash would exec, renaming it).
          '( ( printf "a) S %s x" "$$" > /proc/self/comm; sleep 60; : ) & echo "g $!"; wait ) & c2=$!',
          'echo "c $c1 $c2"',
          'read -r line',
        ].join('\n'),
      ],
      { stdio: ['pipe', 'pipe', 'ignore'], detached: true },
    );
    children.push(parent);
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const known = async () => {
      for (let i = 0; i < 200; i++) {
        const c = /^c (\d+) (\d+)$/m.exec(out);
        const g = /^g (\d+)$/m.exec(out);
        if (c && g) {
          const comm = execFileSync('cat', [`/proc/${g[1]}/comm`], { encoding: 'utf8' });
          if (comm.startsWith('a) S'))
            return { c1: Number(c[1]), c2: Number(c[2]), g: Number(g[1]) };
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`the parent never said its children: ${out}`);
    };
    const { c1, c2, g } = await known();
    const found = sh('ps_children "$1"', String(parent.pid));
    expect(pids(found)).toStrictEqual([c1, c2].sort((a, b) => a - b));
    expect(pids(found)).not.toContain(g);
    // The kernel's own list of a single-threaded sh says the same.
    const kernel = execFileSync('cat', [`/proc/${parent.pid}/task/${parent.pid}/children`], {
      encoding: 'utf8',
    });
    expect(pids(kernel)).toStrictEqual(pids(found));
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
