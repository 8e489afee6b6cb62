// The fact script's prefetch: one stat and one ls for every requested path that exists and every
// real directory above one, instead of a stat per path and a stat and an ls per directory on the
// way (processes are what a fact run costs on a host that is one of ten on two CPUs). Tested
// differentially: the same script with the prefetch call taken out (every value read the old
// way, one path at a time) must print the same bytes, over a tree with spaces, quotes, links on
// the way, a directory with a POSIX ACL, a directory whose name holds a newline, absent paths and
// a link loop. And the processes are counted: shims for stat and ls on PATH log each call.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factScript, type FactRequest } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';

const INIT_DETECTION = /^comm=\n[\s\S]*?^else init=none; fi\n/m;
const PREFETCH_CALL = /^prefetch .*\n/m;
const SUM_KEEP = ' sum_keep "$f" "$sum";';

let root: string;
let shims: string;
let log: string;
const login = userInfo().username;

function script(request: FactRequest, prefetch: boolean): string {
  const text = factScript(request);
  if (!INIT_DETECTION.test(text)) throw new Error('the fact script no longer detects init');
  if (!PREFETCH_CALL.test(text)) throw new Error('the fact script has no prefetch call');
  const fixed = text.replace(INIT_DETECTION, 'init=none\n');
  if (!fixed.includes(SUM_KEEP)) throw new Error('the fact script keeps no W sums');
  return prefetch ? fixed : fixed.replace(PREFETCH_CALL, '').replace(SUM_KEEP, '');
}

/** The script's output, and how many times it ran stat and ls. */
function run(
  text: string,
  env: Record<string, string> = {},
): { output: string; stat: number; ls: number; sha256sum: number } {
  writeFileSync(log, '');
  const output = execFileSync('sh', ['-s'], {
    input: text,
    encoding: 'utf8',
    env: { ...process.env, ...env, PATH: `${shims}:${process.env.PATH}`, SHIM_LOG: log },
  });
  const calls = execFileSync('cat', [log], { encoding: 'utf8' }).split('\n');
  return {
    output,
    stat: calls.filter((line) => line === 'stat').length,
    ls: calls.filter((line) => line === 'ls').length,
    sha256sum: calls.filter((line) => line === 'sha256sum').length,
  };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-facts-prefetch-'));
  shims = join(root, 'shims');
  log = join(root, 'calls');
  mkdirSync(shims);
  for (const [name, real] of [
    ['stat', execFileSync('sh', ['-c', 'command -v stat'], { encoding: 'utf8' }).trim()],
    ['ls', execFileSync('sh', ['-c', 'command -v ls'], { encoding: 'utf8' }).trim()],
    ['sha256sum', execFileSync('sh', ['-c', 'command -v sha256sum'], { encoding: 'utf8' }).trim()],
  ]) {
    writeFileSync(
      join(shims, name!),
      // SHIM_NO_U: an ls that does not know -U (busybox's, say) fails as one would.
      `#!/bin/sh\necho ${name} >> "$SHIM_LOG"\n` +
        `if [ -n "\${SHIM_NO_U-}" ] && [ "$1" = -ldUq ]; then exit 2; fi\n` +
        `exec ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  const tree = join(root, 'tree');
  mkdirSync(join(tree, 'etc', 'monit', 'conf.d'), { recursive: true });
  mkdirSync(join(tree, 'var', 'www'), { recursive: true });
  mkdirSync(join(tree, 'dir with space', "it's"), { recursive: true });
  mkdirSync(join(tree, 'new\nline'), { recursive: true });
  mkdirSync(join(tree, 'real', 'run'), { recursive: true });
  mkdirSync(join(tree, 'granted'));
  mkdirSync(join(tree, 'sticky'), { mode: 0o1777 });
  chmodSync(join(tree, 'sticky'), 0o1777);
  writeFileSync(join(tree, 'etc', 'monit', 'conf.d', 'api'), 'check\n', { mode: 0o600 });
  writeFileSync(join(tree, 'new\nline', 'f'), 'x\n');
  symlinkSync(join(tree, 'real', 'run'), join(tree, 'var', 'run'));
  symlinkSync('new\nline', join(tree, 'to-newline'));
  symlinkSync('releases/abc', join(tree, 'var', 'www', 'current'));
  symlinkSync(join(tree, 'loop-b'), join(tree, 'loop-a'));
  symlinkSync(join(tree, 'loop-a'), join(tree, 'loop-b'));
  // setfacl -m u:4242:rwx as the kernel's xattr (as facts.test.ts): ls -ld shows a +.
  execFileSync('python3', [
    '-c',
    `import os,struct
e=lambda t,p,i=0xffffffff: struct.pack('<HHI',t,p,i)
os.setxattr(${JSON.stringify(join(tree, 'granted'))},'system.posix_acl_access',struct.pack('<I',2)+e(1,7)+e(2,7,4242)+e(4,5)+e(0x10,7)+e(0x20,5))`,
  ]);
});

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const request = (paths: string[]): FactRequest => ({
  service: 'api-orders',
  loginUser: login,
  paths: paths.map((path) => ({ path: path.startsWith('~/') ? path : join(root, 'tree', path) })),
  users: [],
  groups: [],
  recordsFile: join(root, 'svc', 'api-orders', 'installed.json'),
  recordsRoot: join(root, 'svc'),
  releasesDir: join(root, 'releases'),
  pidfile: join(root, 'pid'),
  salt: '',
});

describe('the prefetch prints what the path-by-path reads print', () => {
  // readable: whether svc takes the facts (a directory whose name holds a newline is refused by
  // the parser, canonicalPath, with the prefetch as without it).
  it.each<[string, string[], boolean]>([
    ['a cold deploy: nothing there yet', ['var/www/api/releases/abc', 'var/log/api/api.log'], true],
    [
      'files, dirs and a link that exist',
      ['etc/monit/conf.d/api', 'var/www', 'var/www/current'],
      true,
    ],
    ['spaces and quotes in names', ["dir with space/it's/f", 'dir with space'], true],
    [
      'a link on the way (K records, a directory outside the written chain)',
      ['var/run/api.pid'],
      true,
    ],
    ['a directory with a POSIX ACL', ['granted/f', 'granted'], true],
    ['a sticky directory', ['sticky/f'], true],
    ['a link to a directory whose name holds a newline', ['to-newline/f'], false],
    ['a link loop', ['loop-a/f'], true],
    ['a path given twice', ['etc/monit/conf.d/api', 'etc/monit/conf.d/api'], true],
    ["the login user's home", ['~/script/api/start'], true],
  ])('%s', (_, paths, readable) => {
    const req = request(paths);
    const withPrefetch = run(script(req, true));
    const without = run(script(req, false));
    expect(withPrefetch.output).toBe(without.output);
    const parse = () => parseFacts(withPrefetch.output, req, 'local');
    if (readable) expect(parse).not.toThrow();
    else expect(parse).toThrow(/bad directory record/);
  });
});

describe('processes: one stat and one ls for the chains', () => {
  it.each<[string, string[], number]>([
    ['two absent paths in new directories', ['var/www/api/releases/abc', 'var/log/api/api.log'], 1],
    ['three paths that exist', ['etc/monit/conf.d/api', 'var/www', 'var/www/current'], 1],
    // The directories a link leads to (real/run, real) are outside the chains as written: each
    // is read on its own, the rest come from the prefetch.
    ['a link on the way', ['var/run/api.pid'], 3],
  ])('%s', (_, paths, calls) => {
    const req = request(paths);
    const withPrefetch = run(script(req, true));
    const without = run(script(req, false));
    expect({ stat: withPrefetch.stat, ls: withPrefetch.ls }).toEqual({ stat: calls, ls: calls });
    // The old way: a stat and an ls per directory up to / (the tree is several levels below it).
    expect(without.stat).toBeGreaterThan(calls + 3);
    expect(without.ls).toBeGreaterThan(calls + 3);
  });

  it('an ls without -U (or one that fails) leaves the cache empty: every value read the old way', () => {
    const req = request(['etc/monit/conf.d/api', 'var/www/api/releases/abc']);
    const refused = run(script(req, true), { SHIM_NO_U: '1' });
    const without = run(script(req, false));
    expect(refused.output).toBe(without.output);
    expect({ stat: refused.stat, ls: refused.ls }).toEqual({
      stat: without.stat + 1,
      ls: without.ls + 1,
    });
  });
});

describe("installed.list's files: hashed once for their W and P records", () => {
  it('the same records, a sha256sum fewer per file asked about in both', () => {
    const files = ['etc/monit/conf.d/api', 'new\nline/f'].map((path) => join(root, 'tree', path));
    const req = request(['etc/monit/conf.d/api', 'var/www/current']);
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    // The newline name is kept out of the cache (and out of P: it is not asked about).
    writeFileSync(join(root, 'svc', 'api-orders', 'installed.list'), `${files.join('\n')}\n`);
    try {
      const withCache = run(script(req, true));
      const without = run(script(req, false));
      expect(withCache.output).toBe(without.output);
      expect(withCache.output).toMatch(/^W\t.*\tfile\t[0-9a-f]{64}$/m);
      expect(without.sha256sum - withCache.sha256sum).toBe(1);
    } finally {
      rmSync(join(root, 'svc'), { recursive: true, force: true });
    }
  });
});
