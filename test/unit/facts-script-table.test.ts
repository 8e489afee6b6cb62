// The fact script's behaviour case by case (issue 17), run by a real sh on a scratch tree with
// its init detection fixed (as in facts.test.ts), so nothing here depends on the machine's init
// system: every request value stays one quoted word, ~/ paths are the login user's, content is
// sent up to MAX_DIFF_BYTES only, claims match whole paths only, and the digest drops exactly
// the running state and svc's state directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestedFacts,
  FACTS_VERSION,
  factScript,
  MAX_DIFF_BYTES,
  type FactRequest,
} from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import { sha256Hex } from '../../src/core/release.js';

const INIT_DETECTION = /^comm=\n[\s\S]*?^else init=none; fi\n/m;
function script(request: FactRequest): string {
  const text = factScript(request);
  if (!INIT_DETECTION.test(text))
    throw new Error('the fact script no longer detects init as expected');
  return text.replace(INIT_DETECTION, 'init=none\n');
}
const run = (text: string) => execFileSync('sh', ['-s'], { input: text, encoding: 'utf8' });

let root: string;
let base: FactRequest;
const login = userInfo().username;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-facts-table-'));
  base = {
    service: 'api-orders',
    loginUser: login,
    paths: [],
    users: [],
    groups: [],
    recordsFile: join(root, 'svc', 'api-orders', 'installed.json'),
    recordsRoot: join(root, 'svc'),
    releasesDir: join(root, 'releases'),
    pidfile: join(root, 'pid'),
    salt: '',
  };
});
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});
const facts = (request: FactRequest) => parseFacts(run(script(request)), request, 'local');

describe('every request value is one shell word', () => {
  const HOSTILE = (mark: string) =>
    `x$(touch ${join(root, mark)})'"\`touch ${join(root, `${mark}2`)}\`;\n`;
  it.each([
    ['service', (r: FactRequest, v: string) => ({ ...r, service: v })],
    ['pidfile', (r: FactRequest, v: string) => ({ ...r, pidfile: v })],
    ['recordsFile', (r: FactRequest, v: string) => ({ ...r, recordsFile: v })],
    ['recordsRoot', (r: FactRequest, v: string) => ({ ...r, recordsRoot: v })],
    ['releasesDir', (r: FactRequest, v: string) => ({ ...r, releasesDir: v })],
    ['a path', (r: FactRequest, v: string) => ({ ...r, paths: [{ path: `/${v}` }] })],
    ['a ~/ path', (r: FactRequest, v: string) => ({ ...r, paths: [{ path: `~/${v}` }] })],
    [
      'compareWith',
      (r: FactRequest, v: string) => ({ ...r, paths: [{ path: '/', compareWith: v }] }),
    ],
    ['a user', (r: FactRequest, v: string) => ({ ...r, users: [v] })],
    ['a group', (r: FactRequest, v: string) => ({ ...r, groups: [v] })],
  ])('%s', (name, set) => {
    const mark = `pwned-${name.replace(/\W/g, '')}`;
    const request = set(base, HOSTILE(mark));
    const text = run(script(request));
    expect(text).toMatch(/\nE\tsvc-facts\n$/);
    expect(existsSync(join(root, mark))).toBe(false);
    expect(existsSync(join(root, `${mark}2`))).toBe(false);
  });

  it('a login user that is not one word is never run', () => {
    const mark = join(root, 'pwned-login');
    const result = spawnSync('sh', ['-s'], {
      input: script({ ...base, loginUser: `x$(touch ${mark})` }),
      encoding: 'utf8',
    });
    expect(existsSync(mark)).toBe(false);
    expect(result.status).toBe(3);
  });
});

describe('the login user', () => {
  it('one without a home: exit 3 and one line saying so', () => {
    const result = spawnSync('sh', ['-s'], {
      input: script({ ...base, loginUser: 'svc-no-such-user' }),
      encoding: 'utf8',
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toBe(
      'svc-facts: the login user svc-no-such-user has no home directory\n',
    );
    expect(result.stdout).toBe(
      `B\tsvc-facts\t${FACTS_VERSION}\nI\tnone\n${result.stdout.split('\n')[2]}\n`,
    );
  });

  it('~/ paths are in its home, the rest of the path as one word', () => {
    const home = homedir();
    const request = { ...base, paths: [{ path: '~/.' }, { path: '~/svc no such file $HOME' }] };
    const got = facts(request);
    expect(got.login).toStrictEqual({ user: login, home });
    expect(got.paths.get(`${home}/.`)?.type).toBe('dir');
    expect(got.paths.get(`${home}/svc no such file $HOME`)?.type).toBe('absent');
  });
});

describe('file content for the diff', () => {
  const sized = (name: string, bytes: number) => {
    const path = join(root, name);
    writeFileSync(path, Buffer.alloc(bytes, 'x'));
    return path;
  };
  it.each([
    ['up to the limit: sent', MAX_DIFF_BYTES, true],
    ['one byte over: by hash only', MAX_DIFF_BYTES + 1, false],
  ])('%s', (_, bytes, sent) => {
    const path = sized(`big-${bytes}`, bytes);
    const got = facts({ ...base, paths: [{ path, compareWith: sha256Hex('other') }] });
    const fact = got.paths.get(path)!;
    expect(fact.size).toBe(bytes);
    expect(fact.content?.length).toBe(sent ? bytes : undefined);
  });

  it('the limit is 256 KiB', () => {
    expect(MAX_DIFF_BYTES).toBe(262144);
  });

  it.each([
    ['the same hash: not sent', (text: string) => sha256Hex(text), false],
    ['no hash to compare with: not sent', () => undefined, false],
    ['another hash: sent', () => sha256Hex('other'), true],
  ])('%s', (_, compareWith, sent) => {
    const path = join(root, 'small');
    writeFileSync(path, 'small\n');
    const got = facts({ ...base, paths: [{ path, compareWith: compareWith('small\n') }] });
    expect(got.paths.get(path)!.content !== undefined).toBe(sent);
  });
});

describe("other services' claims", () => {
  const other = (files: string[]) => {
    mkdirSync(join(root, 'svc', 'api-other'), { recursive: true });
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    writeFileSync(join(root, 'svc', 'api-other', 'installed.json'), JSON.stringify({ files }));
  };
  afterAll(() => rmSync(join(root, 'svc'), { recursive: true, force: true }));

  it.each<[string, string[], string[], [string, string][]]>([
    [
      'a path claimed whole',
      ['/srv/app.conf'],
      ['/srv/app.conf'],
      [['/srv/app.conf', 'api-other']],
    ],
    ['a longer path is no claim', ['/srv/app'], ['/srv/app.conf', '/srv/app/x', '/x/srv/app'], []],
    [
      'only the paths this plan writes',
      ['/srv/a'],
      ['/srv/a', '/srv/b'],
      [['/srv/a', 'api-other']],
    ],
    // A ~/ path is not absolute: it is no pattern (and with no pattern there is no claims function).
    ['a ~/ path is never a claim', ['~/service/x'], ['~/service/x', '/srv/c'], []],
    ['no absolute path: no claims at all', ['~/service/x'], ['~/service/x'], []],
  ])('%s', (_, paths, files, claimed) => {
    other(files);
    const request = { ...base, paths: paths.map((path) => ({ path })) };
    expect(facts(request).claimed).toStrictEqual(new Map(claimed));
  });

  it("the service's own records claim nothing", () => {
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    rmSync(join(root, 'svc', 'api-other'), { recursive: true, force: true });
    writeFileSync(base.recordsFile, JSON.stringify({ files: ['/srv/mine'] }));
    expect(facts({ ...base, paths: [{ path: '/srv/mine' }] }).claimed).toStrictEqual(new Map());
    rmSync(base.recordsFile);
  });
});

describe('the running state without systemd (the pidfile)', () => {
  afterAll(() => rmSync(base.pidfile, { force: true }));
  it.each<[string, string | undefined, { active: boolean; pid?: number }]>([
    ['a live pid', `${process.pid}\n`, { active: true, pid: process.pid }],
    ['a pid that is gone', '2147483646\n', { active: false }],
    ['no number', 'none\n', { active: false }],
    ['no pidfile', undefined, { active: false }],
  ])('%s', (_, content, service) => {
    rmSync(base.pidfile, { force: true });
    if (content !== undefined) writeFileSync(base.pidfile, content);
    expect(facts(base).service).toStrictEqual(service);
  });
});

describe('release directories and installed.list', () => {
  afterAll(() => {
    rmSync(base.releasesDir, { recursive: true, force: true });
    rmSync(join(root, 'svc'), { recursive: true, force: true });
  });
  it('lists only real directories as releases, by name', () => {
    mkdirSync(join(base.releasesDir, 'r 1'), { recursive: true });
    mkdirSync(join(base.releasesDir, 'r2'));
    writeFileSync(join(base.releasesDir, 'file'), '');
    symlinkSync('r2', join(base.releasesDir, 'link'));
    expect(facts(base).releases).toStrictEqual(['r 1', 'r2']);
  });

  it('reads only the absolute paths of installed.list', () => {
    mkdirSync(join(root, 'svc', 'api-orders'), { recursive: true });
    writeFileSync(base.recordsFile, JSON.stringify({ files: [] }));
    const list = join(root, 'svc', 'api-orders', 'installed.list');
    writeFileSync(list, `relative/x\n${join(root, 'nothing here')}\n\n`);
    expect(facts(base).recordedNow).toStrictEqual(
      new Map([[join(root, 'nothing here'), { type: 'absent' }]]),
    );
  });
});

describe('users and groups', () => {
  it('reads root and its group as getent reports them', () => {
    const got = facts({ ...base, users: ['root'], groups: ['root'] });
    expect(got.users.get('root')).toMatchObject({ name: 'root', uid: 0, gid: 0 });
    expect(got.groups.get('root')).toBe(0);
  });
});

describe('digestedFacts', () => {
  it.each([
    ['S\t1\t42\n', ''],
    ['B\tx\nS\t1\t42\nE\tsvc-facts\n', 'B\tx\nE\tsvc-facts\n'],
    ['B\tx\nS\t0\t-', 'B\tx\n'],
    ['D\t=/var/lib/svc\t700\t0\t0\troot\troot\t-\nD\t=/var\t755\n', 'D\t=/var\t755\n'],
    ['D\t=/var/lib/svcx\t700\n', 'D\t=/var/lib/svcx\t700\n'],
    ['D\t=/var/lib/svc/x\t700\n', 'D\t=/var/lib/svc/x\t700\n'],
    ['P\t0\tS\t1\n', 'P\t0\tS\t1\n'],
    ['SS\t1\n', 'SS\t1\n'],
    [' S\t1\n', ' S\t1\n'],
    ['A\t0\t-\nS\t1\t1\nA\t1\t-', 'A\t0\t-\nA\t1\t-'],
    ['', ''],
  ])('%j -> %j', (output, digested) => {
    expect(digestedFacts(output)).toBe(digested);
  });
});
