// parseFacts record by record (issue 17): one well-formed fact output, written by hand, and each
// corruption of it ALONE, with the exact error line it must give. facts.test.ts runs the real
// script; there a corruption trips several checks at once, here every check is pinned by itself.
import { describe, expect, it } from 'vitest';
import { FACTS_VERSION, type FactRequest, type HostFacts } from '../../src/core/facts.js';
import { canonicalPath, FactsError, parseFacts } from '../../src/core/facts-parse.js';

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const sum = (char: string) => char.repeat(64);

const REQUEST: FactRequest = {
  service: 'api-orders',
  loginUser: 'deploy',
  paths: [
    { path: '/etc/app.conf', compareWith: sum('e') },
    { path: '~/service/x' },
    { path: '/srv/l' },
    { path: '/srv/d' },
  ],
  users: ['deploy', 'ghost'],
  groups: ['staff', 'nogroup2'],
  recordsFile: '/var/lib/svc/api-orders/installed.json',
  recordsRoot: '/var/lib/svc',
  releasesDir: '/var/www/api-orders/releases',
  salt: '',
  pidfile: '/run/api-orders.pid',
};

const HISTORY = [
  { id: 'r1', status: 'good', at: '2026-01-01T00:00:00Z' },
  { id: 'r2', status: 'bad', at: '2026-01-02T00:00:00Z' },
];
const RECORDS = {
  version: 1,
  service: 'api-orders',
  files: ['/etc/app.conf', '/etc/x'],
  sha256: [sum('a'), sum('b')],
  adopted: ['/etc/x'],
  history: HISTORY,
};
const PASSWD = 'deploy:x:1000:1001:Deploy,,,:/home/deploy:/bin/bash';

/** A well-formed output, one record per line; line N of the output is GOOD[N - 1]. */
const GOOD: readonly string[] = [
  `B\tsvc-facts\t${FACTS_VERSION}`, // 1
  'I\topenrc', // 2
  `H\t${hex('web one')}`, // 3
  'L\tdeploy\t=/home/deploy', // 4
  'M\t1\t0', // 5
  'S\t1\t4242', // 6
  `R\t${b64(JSON.stringify(RECORDS))}`, // 7
  'X\t=r1', // 8
  `X\t${hex('r 2')}`, // 9
  `W\t=/etc/x\tfile\t${sum('c')}`, // 10
  'W\t=/etc/gone\tabsent\t-', // 11
  `O\t=api-other\t${hex('"/etc/app.conf"')}`, // 12
  `P\t0\tfile\t640\troot\tadm\t12\t${sum('d')}\t-`, // 13
  `C\t0\t${b64('old content\n')}`, // 14
  'D\t=/\t755\t0\t0\troot\troot\t-', // 15
  'D\t=/etc\t2775\t0\t4\troot\tadm\t+', // 16
  'A\t0\t=/etc/app.conf', // 17
  'P\t1\tabsent', // 18
  'D\t=/home/deploy\t750\t1000\t1001\tdeploy\tdeploy$\t-', // 19
  'K\t1\t=/home', // 20
  'K\t1\t=/', // 21
  'A\t1\t-', // 22
  'P\t2\tlink\t777\troot\troot\t9\t-\t=../target', // 23
  'A\t2\t=/srv/l', // 24
  'P\t3\tdir\t0755\twww-data\t_www.x\t4096\t-\t-', // 25
  'A\t3\t=/srv/d', // 26
  `U\tdeploy\t${hex(PASSWD)}`, // 27
  'U\tghost\t-', // 28
  'G\tstaff\t50', // 29
  'G\tnogroup2\t-', // 30
  'E\tsvc-facts', // 31
];
const text = (lines: readonly string[]) => `${lines.join('\n')}\n`;
const parse = (lines: readonly string[]) => parseFacts(text(lines), REQUEST, 'web1');
/** GOOD with line N (1-based) replaced by `line` (several lines when it holds \n). */
const withLine = (n: number, line: string) => GOOD.map((old, i) => (i === n - 1 ? line : old));
const withRecords = (records: unknown) => withLine(7, `R\t${b64(JSON.stringify(records))}`);

const EXPECTED: HostFacts = {
  salt: '',
  hostname: 'web one',
  login: { user: 'deploy', home: '/home/deploy' },
  init: 'openrc',
  monit: { installed: true, running: false },
  service: { active: true, pid: 4242 },
  paths: new Map([
    [
      '/etc/app.conf',
      {
        path: '/etc/app.conf',
        type: 'file',
        mode: 0o640,
        owner: 'root',
        group: 'adm',
        size: 12,
        sha256: sum('d'),
        content: new Uint8Array(Buffer.from('old content\n')),
      },
    ],
    ['/home/deploy/service/x', { path: '/home/deploy/service/x', type: 'absent' }],
    [
      '/srv/l',
      {
        path: '/srv/l',
        type: 'link',
        mode: 0o777,
        owner: 'root',
        group: 'root',
        size: 9,
        target: '../target',
      },
    ],
    [
      '/srv/d',
      { path: '/srv/d', type: 'dir', mode: 0o755, owner: 'www-data', group: '_www.x', size: 4096 },
    ],
  ]),
  users: new Map([
    ['deploy', { name: 'deploy', uid: 1000, gid: 1001, home: '/home/deploy', shell: '/bin/bash' }],
    ['ghost', undefined],
  ]),
  groups: new Map([
    ['staff', 50],
    ['nogroup2', undefined],
  ]),
  installed: ['/etc/app.conf', '/etc/x'],
  installedSha256: new Map([
    ['/etc/app.conf', sum('a')],
    ['/etc/x', sum('b')],
  ]),
  adopted: new Set(['/etc/x']),
  recordedNow: new Map([
    ['/etc/x', { type: 'file', sha256: sum('c') }],
    ['/etc/gone', { type: 'absent' }],
  ]),
  history: HISTORY as HostFacts['history'],
  releases: ['r1', 'r 2'],
  claimed: new Map([['/etc/app.conf', 'api-other']]),
  resolved: new Map([
    ['/etc/app.conf', '/etc/app.conf'],
    ['/home/deploy/service/x', undefined],
    ['/srv/l', '/srv/l'],
    ['/srv/d', '/srv/d'],
  ]),
  dirs: new Map([
    ['/', { path: '/', mode: 0o755, uid: 0, gid: 0, owner: 'root', group: 'root' }],
    [
      '/etc',
      { path: '/etc', mode: 0o2775, uid: 0, gid: 4, owner: 'root', group: 'adm', acl: true },
    ],
    [
      '/home/deploy',
      {
        path: '/home/deploy',
        mode: 0o750,
        uid: 1000,
        gid: 1001,
        owner: 'deploy',
        group: 'deploy$',
      },
    ],
  ]),
  linkHolders: new Map([['/home/deploy/service/x', ['/home', '/']]]),
};

describe('parseFacts: a well-formed output', () => {
  it('reads every record into the facts, exactly', () => {
    expect(parse(GOOD)).toStrictEqual(EXPECTED);
  });

  it('reads it the same without the final newline', () => {
    expect(parseFacts(GOOD.join('\n'), REQUEST, 'web1')).toStrictEqual(EXPECTED);
  });

  it.each(['systemd', 'openrc', 'upstart', 'none'])('knows the init system %s', (init) => {
    expect(parse(withLine(2, `I\t${init}`)).init).toBe(init);
  });

  it.each([
    ['M\t0\t0', { installed: false, running: false }],
    ['M\t1\t1', { installed: true, running: true }],
    ['M\t0\t1', { installed: false, running: true }],
  ])('reads %j as monit %j', (line, monit) => {
    expect(parse(withLine(5, line)).monit).toStrictEqual(monit);
  });

  it.each([
    ['S\t0\t-', { active: false }],
    ['S\t1\t-', { active: true }],
    ['S\t0\t4242', { active: false }],
    ['S\t1\t0', { active: true, pid: 0 }],
    [`S\t1\t${'9'.repeat(15)}`, { active: true, pid: 999999999999999 }],
  ])('reads %j as the service %j', (line, service) => {
    expect(parse(withLine(6, line)).service).toStrictEqual(service);
  });

  it.each([
    ['=web1', 'web1'],
    ['=A-z.0_9/@:+,', 'A-z.0_9/@:+,'],
    [hex('a b'), 'a b'],
    [hex('ünï'), 'ünï'],
    ['', ''],
    ['3d', '='],
    // Bytes that are not UTF-8 become U+FFFD, never an exception.
    ['ff', '\ufffd'],
  ])('decodes the hostname %j as %j', (field, hostname) => {
    expect(parse(withLine(3, `H\t${field}`)).hostname).toBe(hostname);
  });

  it('no svc records yet: nothing installed, adopted, hashed or in the history', () => {
    const facts = parse(withLine(7, 'R\t-'));
    expect(facts.installed).toBeUndefined();
    expect(facts.installedSha256).toStrictEqual(new Map());
    expect(facts.adopted).toStrictEqual(new Set());
    expect(facts.history).toStrictEqual([]);
  });

  it('records of an older svc: files alone, no sha256, adopted or history', () => {
    const facts = parse(withRecords({ version: 1, files: ['/etc/a'] }));
    expect(facts.installed).toStrictEqual(['/etc/a']);
    expect(facts.installedSha256).toStrictEqual(new Map());
    expect(facts.adopted).toStrictEqual(new Set());
    expect(facts.history).toStrictEqual([]);
  });

  it('no release, installed file, claim, directory or link holder: empty collections', () => {
    const lines = GOOD.filter((line) => !/^[XWODK]\t/.test(line));
    const facts = parse(lines);
    expect(facts.releases).toStrictEqual([]);
    expect(facts.recordedNow).toStrictEqual(new Map());
    expect(facts.claimed).toStrictEqual(new Map());
    expect(facts.dirs).toStrictEqual(new Map());
    expect(facts.linkHolders).toStrictEqual(new Map());
  });

  it('a W record of a link, dir-less other or absent path carries no sha256', () => {
    const facts = parse(withLine(11, 'W\t=/etc/l\tlink\t-\nW\t=/etc/o\tother\t-'));
    expect(facts.recordedNow.get('/etc/l')).toStrictEqual({ type: 'link' });
    expect(facts.recordedNow.get('/etc/o')).toStrictEqual({ type: 'other' });
  });

  it('a file without a C record has no content; an "other" path is read like a dir', () => {
    const facts = parse(
      GOOD.filter((line) => !line.startsWith('C\t')).map((line) =>
        line.startsWith('P\t3\t') ? 'P\t3\tother\t600\troot\troot\t0\t-\t-' : line,
      ),
    );
    expect(facts.paths.get('/etc/app.conf')).not.toHaveProperty('content');
    expect(facts.paths.get('/srv/d')).toStrictEqual({
      path: '/srv/d',
      type: 'other',
      mode: 0o600,
      owner: 'root',
      group: 'root',
      size: 0,
    });
  });

  it('a link whose target needs hex decodes it, newline included', () => {
    const facts = parse(withLine(23, `P\t2\tlink\t777\troot\troot\t9\t-\t${hex('/etc/x\n')}`));
    expect(facts.paths.get('/srv/l')?.target).toBe('/etc/x\n');
  });

  it('a directory and a resolution given in hex are read as their text', () => {
    const facts = parse(
      withLine(17, `D\t${hex('/etc/a b')}\t700\t0\t0\troot\troot\t-\nA\t0\t${hex('/etc/a b/c')}`),
    );
    expect(facts.dirs.get('/etc/a b')?.mode).toBe(0o700);
    expect(facts.resolved.get('/etc/app.conf')).toBe('/etc/a b/c');
  });
});

/** [what, line number, the line(s) put there, the reason the error line must give]. */
const CORRUPT: [string, number, string, string][] = [
  // B: the banner
  ['another magic', 1, `B\tsvc-fact\t${FACTS_VERSION}`, `not svc facts version ${FACTS_VERSION}`],
  ['another version', 1, 'B\tsvc-facts\t4', `not svc facts version ${FACTS_VERSION}`],
  ['a banner with a field less', 1, 'B\tsvc-facts', 'a B record has 2 fields, got 1'],
  [
    'a banner with a field more',
    1,
    `B\tsvc-facts\t${FACTS_VERSION}\tx`,
    'a B record has 2 fields, got 3',
  ],
  [
    'another tag first (its first 40 characters shown)',
    1,
    `X${'y'.repeat(50)}`,
    `expected a B record, got "X${'y'.repeat(39)}"`,
  ],
  [
    'a tag with a space after it',
    1,
    `B \tsvc-facts\t${FACTS_VERSION}`,
    `expected a B record, got "B \\tsvc-facts\\t${FACTS_VERSION}"`,
  ],
  // I, H, L, M, S
  ['an unknown init', 2, 'I\tsysv', 'unknown init system "sysv"'],
  ['an init with a suffix', 2, 'I\tsystemdx', 'unknown init system "systemdx"'],
  ['an init record with two fields', 2, 'I\tsystemd\tx', 'a I record has 1 fields, got 2'],
  ['a plain hostname with a space', 3, 'H\t=a b', 'the hostname is not encoded text'],
  ['a plain hostname with a quote', 3, "H\t=a'b", 'the hostname is not encoded text'],
  ['a plain hostname with a dollar', 3, 'H\t=a$b', 'the hostname is not encoded text'],
  ['an empty plain hostname', 3, 'H\t=', 'the hostname is not encoded text'],
  ['an odd-length hex hostname', 3, 'H\tabc', 'the hostname is not encoded text'],
  ['an upper-case hex hostname', 3, 'H\t4A', 'the hostname is not encoded text'],
  ['a hex hostname with a non-hex letter', 3, 'H\t4g', 'the hostname is not encoded text'],
  ['a plain value after a prefix', 3, 'H\tx=ab', 'the hostname is not encoded text'],
  ['hex after a plain prefix', 3, `H\tx${hex('a')}`, 'the hostname is not encoded text'],
  ['another login user', 4, 'L\troot\t=/root', 'login record does not match the request'],
  [
    'a login home that is not encoded text',
    4,
    'L\tdeploy\t=/a b',
    'login record does not match the request',
  ],
  ['monit installed 2', 5, 'M\t2\t0', 'monit record is not 0/1'],
  ['monit running 2', 5, 'M\t1\t2', 'monit record is not 0/1'],
  ['monit installed 01', 5, 'M\t01\t0', 'monit record is not 0/1'],
  ['monit installed 10', 5, 'M\t10\t0', 'monit record is not 0/1'],
  ['monit running 11', 5, 'M\t1\t11', 'monit record is not 0/1'],
  ['monit running 01', 5, 'M\t1\t01', 'monit record is not 0/1'],
  ['service active 2', 6, 'S\t2\t-', 'service record is malformed'],
  ['service active 10', 6, 'S\t10\t-', 'service record is malformed'],
  ['service active 01', 6, 'S\t01\t-', 'service record is malformed'],
  ['a pid that is no number', 6, 'S\t1\t42x', 'service record is malformed'],
  ['a pid with a sign', 6, 'S\t1\t-42', 'service record is malformed'],
  ['an empty pid', 6, 'S\t1\t', 'service record is malformed'],
  ['a 16-digit pid', 6, `S\t1\t${'9'.repeat(16)}`, 'service record is malformed'],
  // R: the service's own records
  ['records that are not base64', 7, 'R\tnot base64!', 'records are not base64'],
  ['records with base64 after other text', 7, `R\t!${b64('{}')}`, 'records are not base64'],
  ['records with three = of padding', 7, 'R\te30===', 'records are not base64'],
  ['records with = in the middle', 7, 'R\te=30', 'records are not base64'],
  [
    'records that are not JSON',
    7,
    `R\t${b64('{files')}`,
    'svc records on the host are not valid JSON',
  ],
  ['empty records', 7, 'R\t', 'svc records on the host are not valid JSON'],
  // The R line read from its own record: the host's line counter is where the records came from.
  ['records of null', 7, `R\t${b64('null')}`, 'svc records on the host are malformed'],
  ['records without files', 7, `R\t${b64('{}')}`, 'svc records on the host are malformed'],
  [
    'files that are not a list',
    7,
    `R\t${b64('{"files":"/etc/x"}')}`,
    'svc records on the host are malformed',
  ],
  [
    'a relative path in files',
    7,
    `R\t${b64('{"files":["/etc/x","etc/y"]}')}`,
    'svc records on the host are malformed',
  ],
  [
    'a number in files',
    7,
    `R\t${b64('{"files":["/etc/x",1]}')}`,
    'svc records on the host are malformed',
  ],
  [
    'adopted that is not a list',
    7,
    `R\t${b64('{"files":[],"adopted":"/etc/x"}')}`,
    'svc records on the host are malformed',
  ],
  [
    'a relative path in adopted',
    7,
    `R\t${b64('{"files":[],"adopted":["x"]}')}`,
    'svc records on the host are malformed',
  ],
  [
    'sha256 that is not a list',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x'], sha256: sum('a') }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a sha256 less than files',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x', '/etc/y'], sha256: [sum('a')] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a sha256 more than files',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x'], sha256: [sum('a'), sum('b')] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a sha256 that is not hex',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x'], sha256: [sum('g')] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a bad sha256 after a good one',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x', '/etc/y'], sha256: [sum('a'), sum('g')] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a sha256 in a list of its own',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x'], sha256: [[sum('a')]] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'a sha256 that is a number',
    7,
    `R\t${b64(JSON.stringify({ files: ['/etc/x'], sha256: [1] }))}`,
    'svc records on the host are malformed (sha256)',
  ],
  [
    'history that is not a list',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: {} }))}`,
    'svc release history on the host is malformed',
  ],
  [
    'a history entry of null',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: [null] }))}`,
    'svc release history on the host is malformed',
  ],
  [
    'a history entry without an id',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: [{ status: 'good', at: 'x' }] }))}`,
    'svc release history on the host is malformed',
  ],
  [
    'a history entry of another status',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: [{ id: 'r', status: 'ok', at: 'x' }] }))}`,
    'svc release history on the host is malformed',
  ],
  [
    'a history entry without a time',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: [{ id: 'r', status: 'bad' }] }))}`,
    'svc release history on the host is malformed',
  ],
  [
    'a bad history entry after a good one',
    7,
    `R\t${b64(JSON.stringify({ files: [], history: [HISTORY[0], { id: 1, status: 'good', at: 'x' }] }))}`,
    'svc release history on the host is malformed',
  ],
  // X, W, O
  ['a release name that is not encoded text', 9, 'X\t=r 2', 'a release name is not encoded text'],
  [
    'an installed file that is not encoded text',
    10,
    `W\t=/etc/a b\tfile\t${sum('c')}`,
    'bad record of an installed file',
  ],
  [
    'an installed file with a relative path',
    10,
    `W\t=etc/x\tfile\t${sum('c')}`,
    'bad record of an installed file',
  ],
  [
    'an installed file of an unknown type',
    10,
    `W\t=/etc/x\tfifo\t${sum('c')}`,
    'bad record of an installed file',
  ],
  ['an installed file with a bad hash', 10, 'W\t=/etc/x\tfile\t-', 'bad sha256 for /etc/x'],
  [
    'an installed file with a short hash',
    10,
    `W\t=/etc/x\tfile\t${'c'.repeat(63)}`,
    'bad sha256 for /etc/x',
  ],
  [
    'an installed file with a long hash',
    10,
    `W\t=/etc/x\tfile\t${'c'.repeat(65)}`,
    'bad sha256 for /etc/x',
  ],
  [
    'an absent installed file with a hash',
    11,
    `W\t=/etc/gone\tabsent\t${sum('c')}`,
    'bad sha256 for /etc/gone',
  ],
  [
    'a claim by a service that is not encoded text',
    12,
    `O\t=api other\t${hex('"/etc/x"')}`,
    'bad claim of another service',
  ],
  ['a claim that is not encoded text', 12, 'O\t=api-other\t=a b', 'bad claim of another service'],
  [
    'a claim that is no JSON',
    12,
    'O\t=api-other\t=/etc/x',
    'a claim of another service is not a JSON string',
  ],
  ['a claim that is a JSON number', 12, 'O\t=api-other\t=5', 'a claim is not an absolute path'],
  [
    'a claim of a relative path',
    12,
    `O\t=api-other\t${hex('"etc/x"')}`,
    'a claim is not an absolute path',
  ],
  // P and C
  [
    'a path record out of order',
    13,
    `P\t1\tfile\t640\troot\tadm\t12\t${sum('d')}\t-`,
    'expected facts for path 0 (/etc/app.conf), got 1',
  ],
  [
    'an absent path record out of order',
    18,
    'P\t2\tabsent',
    'expected facts for path 1 (/home/deploy/service/x), got 2',
  ],
  [
    'a two-field path record that is not absent',
    18,
    'P\t1\tgone',
    'bad path record for /home/deploy/service/x',
  ],
  [
    'a path record with 7 fields',
    13,
    `P\t0\tfile\t640\troot\tadm\t12\t${sum('d')}`,
    'a P record has 8 fields, got 7',
  ],
  ['a path record with 1 field', 18, 'P\t1', 'a P record has 8 fields, got 1'],
  [
    'a path of an unknown type',
    13,
    `P\t0\tfifo\t640\troot\tadm\t12\t${sum('d')}\t-`,
    'unknown type "fifo" for /etc/app.conf',
  ],
  [
    'an eight-field absent path',
    13,
    'P\t0\tabsent\t640\troot\tadm\t12\t-\t-',
    'unknown type "absent" for /etc/app.conf',
  ],
  [
    'a mode of two digits',
    13,
    `P\t0\tfile\t64\troot\tadm\t12\t${sum('d')}\t-`,
    'bad mode for /etc/app.conf',
  ],
  [
    'a mode of five digits',
    13,
    `P\t0\tfile\t06400\troot\tadm\t12\t${sum('d')}\t-`,
    'bad mode for /etc/app.conf',
  ],
  [
    'a mode with an 8',
    13,
    `P\t0\tfile\t648\troot\tadm\t12\t${sum('d')}\t-`,
    'bad mode for /etc/app.conf',
  ],
  [
    'a mode with a suffix',
    13,
    `P\t0\tfile\t640x\troot\tadm\t12\t${sum('d')}\t-`,
    'bad mode for /etc/app.conf',
  ],
  [
    'a mode with a prefix',
    13,
    `P\t0\tfile\tx640\troot\tadm\t12\t${sum('d')}\t-`,
    'bad mode for /etc/app.conf',
  ],
  [
    'an owner with a space',
    13,
    `P\t0\tfile\t640\tro ot\tadm\t12\t${sum('d')}\t-`,
    'bad owner for /etc/app.conf',
  ],
  [
    'an owner starting with $',
    13,
    `P\t0\tfile\t640\t$root\tadm\t12\t${sum('d')}\t-`,
    'bad owner for /etc/app.conf',
  ],
  [
    'an empty owner',
    13,
    `P\t0\tfile\t640\t\tadm\t12\t${sum('d')}\t-`,
    'bad owner for /etc/app.conf',
  ],
  [
    'a group with a space',
    13,
    `P\t0\tfile\t640\troot\ta dm\t12\t${sum('d')}\t-`,
    'bad owner for /etc/app.conf',
  ],
  [
    'a group with a trailing slash',
    13,
    `P\t0\tfile\t640\troot\tadm/\t12\t${sum('d')}\t-`,
    'bad owner for /etc/app.conf',
  ],
  [
    'a size that is no number',
    13,
    `P\t0\tfile\t640\troot\tadm\t1x\t${sum('d')}\t-`,
    'bad size for /etc/app.conf',
  ],
  [
    'a file without a hash',
    13,
    'P\t0\tfile\t640\troot\tadm\t12\t-\t-',
    'bad sha256 for /etc/app.conf',
  ],
  [
    'a file with an upper-case hash',
    13,
    `P\t0\tfile\t640\troot\tadm\t12\t${sum('D')}\t-`,
    'bad sha256 for /etc/app.conf',
  ],
  [
    'a file with a link target',
    13,
    `P\t0\tfile\t640\troot\tadm\t12\t${sum('d')}\t=x`,
    'bad link target for /etc/app.conf',
  ],
  [
    'a dir with a hash',
    25,
    `P\t3\tdir\t0755\twww-data\t_www.x\t4096\t${sum('d')}\t-`,
    'bad sha256 for /srv/d',
  ],
  [
    'a dir with a link target',
    25,
    'P\t3\tdir\t0755\twww-data\t_www.x\t4096\t-\t=x',
    'bad link target for /srv/d',
  ],
  [
    'a link with a hash',
    23,
    `P\t2\tlink\t777\troot\troot\t9\t${sum('d')}\t=../target`,
    'bad sha256 for /srv/l',
  ],
  [
    'a link without a target',
    23,
    'P\t2\tlink\t777\troot\troot\t9\t-\t-',
    'bad link target for /srv/l',
  ],
  [
    'a link with an empty target',
    23,
    'P\t2\tlink\t777\troot\troot\t9\t-\t',
    'bad link target for /srv/l',
  ],
  [
    'a link target that is not encoded text',
    23,
    'P\t2\tlink\t777\troot\troot\t9\t-\t=a b',
    'bad link target for /srv/l',
  ],
  [
    'content for another path',
    14,
    `C\t1\t${b64('old content\n')}`,
    'bad content record for /etc/app.conf',
  ],
  ['content that is not base64', 14, 'C\t0\tnot base64!', 'bad content record for /etc/app.conf'],
  ['content with a field less', 14, 'C\t0', 'a C record has 2 fields, got 1'],
  // D
  [
    'a directory that is not encoded text',
    15,
    'D\t=/a b\t755\t0\t0\troot\troot\t-',
    'bad directory record for =/a b',
  ],
  ['a relative directory', 15, 'D\t=etc\t755\t0\t0\troot\troot\t-', 'bad directory record for etc'],
  [
    'a directory with a trailing slash',
    15,
    'D\t=/etc/\t755\t0\t0\troot\troot\t-',
    'bad directory record for /etc/',
  ],
  [
    'a directory with an unknown ACL mark',
    15,
    'D\t=/\t755\t0\t0\troot\troot\t*',
    'bad directory record for /',
  ],
  [
    'a directory with a bad mode',
    15,
    'D\t=/\t75\t0\t0\troot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a mode with a suffix',
    15,
    'D\t=/\t755x\t0\t0\troot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a mode with a prefix',
    15,
    'D\t=/\tx755\t0\t0\troot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a uid that is no number',
    15,
    'D\t=/\t755\tx\t0\troot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a gid that is no number',
    15,
    'D\t=/\t755\t0\tx\troot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a bad owner',
    15,
    'D\t=/\t755\t0\t0\tro ot\troot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a bad group',
    15,
    'D\t=/\t755\t0\t0\troot\tro ot\t-',
    'bad directory record for /',
  ],
  [
    'a directory with a field less',
    15,
    'D\t=/\t755\t0\t0\troot\troot',
    'a D record has 7 fields, got 6',
  ],
  // K and A
  [
    'a link holder for another path',
    20,
    'K\t0\t=/home',
    'bad link-holder record for /home/deploy/service/x',
  ],
  [
    'a relative link holder',
    20,
    'K\t1\t=home',
    'bad link-holder record for /home/deploy/service/x',
  ],
  [
    'a link holder that is not encoded text',
    20,
    'K\t1\t=/a b',
    'bad link-holder record for /home/deploy/service/x',
  ],
  ['a link holder with a field more', 20, 'K\t1\t=/home\tx', 'a K record has 2 fields, got 3'],
  [
    'a resolution for another path',
    17,
    'A\t1\t=/etc/app.conf',
    'bad resolution record for /etc/app.conf',
  ],
  ['a relative resolution', 17, 'A\t0\t=etc/app.conf', 'bad resolution record for /etc/app.conf'],
  [
    'a resolution that is not canonical',
    17,
    'A\t0\t=/etc/../app.conf',
    'bad resolution record for /etc/app.conf',
  ],
  [
    'a resolution that is not encoded text',
    17,
    'A\t0\t=/a b',
    'bad resolution record for /etc/app.conf',
  ],
  [
    'an unresolved path for another path',
    22,
    'A\t0\t-',
    'bad resolution record for /home/deploy/service/x',
  ],
  ['a missing resolution', 17, 'P\t1\tabsent', 'expected a A record, got "P\\t1\\tabsent"'],
  // U and G
  [
    'a user record for another user',
    27,
    `U\troot\t${hex(PASSWD)}`,
    'expected the user record for deploy',
  ],
  ['a user entry that is not encoded text', 27, 'U\tdeploy\t=a b', 'bad user record for deploy'],
  [
    'a passwd entry with 6 fields',
    27,
    `U\tdeploy\t${hex('deploy:x:1000:1001::/home/deploy')}`,
    'bad passwd entry for deploy',
  ],
  [
    'a passwd entry with 8 fields',
    27,
    `U\tdeploy\t${hex(`${PASSWD}:x`)}`,
    'bad passwd entry for deploy',
  ],
  [
    'a passwd entry of another user',
    27,
    `U\tdeploy\t${hex(PASSWD.replace(/^deploy/, 'root'))}`,
    'bad passwd entry for deploy',
  ],
  [
    'a passwd entry with a bad uid',
    27,
    `U\tdeploy\t${hex(PASSWD.replace(':1000:', ':x:'))}`,
    'bad uid or gid for deploy',
  ],
  [
    'a passwd entry with a bad gid',
    27,
    `U\tdeploy\t${hex(PASSWD.replace(':1001:', ':-1:'))}`,
    'bad uid or gid for deploy',
  ],
  ['a group record for another group', 29, 'G\troot\t50', 'bad group record for staff'],
  ['a group with a gid that is no number', 29, 'G\tstaff\t5x', 'bad group record for staff'],
  // E
  ['another end marker', 31, 'E\tsvc-fact', 'trailing output after the end marker'],
  [
    'a record after the end marker',
    31,
    'E\tsvc-facts\nP\t9\tabsent',
    'trailing output after the end marker',
  ],
  [
    'an empty line after the end marker',
    31,
    'E\tsvc-facts\n',
    'trailing output after the end marker',
  ],
];

describe('parseFacts: each corruption alone, with its exact error', () => {
  it.each(CORRUPT)('refuses %s', (_, line, replacement, reason) => {
    const lines = withLine(line, replacement);
    expect(() => parse(lines)).toThrow(new FactsError(`web1: facts line ${line}: ${reason}`));
  });

  it.each(CORRUPT)('names the error a FactsError: %s', (_, line, replacement) => {
    expect(() => parse(withLine(line, replacement))).toThrow(
      expect.objectContaining({ name: 'FactsError' }),
    );
  });

  it.each([
    ['a blank line for output', [''], 1, 'expected a B record, got ""'],
    ['output cut after the banner', GOOD.slice(0, 1), 2, 'output ended early, expected a I record'],
    [
      'output cut before the end marker',
      GOOD.slice(0, -1),
      31,
      'output ended early, expected a E record',
    ],
    // Past the R record every record kind is optional until P: none may be read from nothing.
    [
      'output cut after the records',
      GOOD.slice(0, 7),
      8,
      'output ended early, expected a P record',
    ],
    [
      'output cut before the resolution',
      GOOD.slice(0, 16),
      17,
      'output ended early, expected a A record',
    ],
  ])('refuses %s', (_, lines, line, reason) => {
    expect(() => parseFacts(lines.join('\n'), REQUEST, 'web1')).toThrow(
      new FactsError(`web1: facts line ${line}: ${reason}`),
    );
  });

  it('the error line names the host it came from', () => {
    expect(() => parseFacts(text(withLine(2, 'I\tsysv')), REQUEST, 'db-2')).toThrow(
      'db-2: facts line 2: unknown init system "sysv"',
    );
  });
});

describe('canonicalPath', () => {
  it.each([
    ['/', true],
    ['/etc', true],
    ['/etc/app.conf', true],
    ['/.hidden/..x/x.', true],
    ['/a b', true],
    [undefined, false],
    ['', false],
    ['etc', false],
    ['./etc', false],
    ['//', false],
    ['//etc', false],
    ['/etc/', false],
    ['/etc//x', false],
    ['/etc/./x', false],
    ['/etc/../x', false],
    ['/.', false],
    ['/..', false],
    ['/etc/x\n', false],
    ['/etc/\u0000x', false],
    ['/etc/\u001fx', false],
    ['/etc/\u007fx', false],
    ['/etc/\tx', false],
    ['/etc/\u0080x', true],
  ])('%j -> %s', (path, canonical) => {
    expect(canonicalPath(path)).toBe(canonical);
  });
});
