// Every ssh_config keyword svc accepts is one OpenSSH accepts, and the other way round for the
// near misses below (issue 17): all are asked of the real `ssh -G` at once, each on a line of a block
// that does not apply (`Host nomatch`, so no value is used). ssh says "Bad configuration
// option: KEYWORD" for a keyword it does not know, and so must svc.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSshConfigText, resolveSshConfig } from '../../src/core/ssh-config.js';
import { SSH_CONFIG_KEYWORDS, SSH_CONFIG_WORDS } from '../../src/core/ssh-config-keywords.js';

const NEAR_MISSES = [
  'frobnicate',
  'ports',
  'hostnames',
  'identityfiles',
  'userknownhostfile',
  'proxyjumps',
  'knownhosts',
  'sshversion',
  'hostkeyalgorithm',
  'matchs',
  'includes',
  'port2',
];
/**
 * OpenSSH 9.2's own table (its source, not svc's): the keywords svc's table could miss. It lacked
 * two that ssh takes (KeepAlive, RSAAuthentication), and refused a config with either.
 */
const OPENSSH_TABLE = readFileSync(
  new URL('../fixtures/openssh-9.2-readconf-keywords.txt', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'));
const ASKED = [...new Set([...SSH_CONFIG_KEYWORDS, ...OPENSSH_TABLE]), ...NEAR_MISSES];

/** Keywords that open a block or read another file: asked in a file of their own each. */
const STRUCTURAL = new Set(['host', 'match', 'include']);

let dir: string;
/** keyword -> whether ssh -G knows it */
const openSsh = new Map<string, boolean>();

/**
 * The keywords ssh -G calls bad, asked in files of `Host nomatch` then one `KEYWORD x` line each.
 * ssh reads on after an unknown keyword, naming each ("FILE: line N: Bad configuration option:
 * K"), and ends with "terminating, N bad configuration options"; a few values stop it at once
 * (PermitRemoteOpen x): that keyword it knows, and the rest is asked again.
 */
function badForSsh(keywords: readonly string[], name: string): Set<string> {
  const bad = new Set<string>();
  let rest = [...keywords];
  for (let round = 0; rest.length > 0; round++) {
    const file = join(dir, `${name}-${round}`);
    writeFileSync(file, `Host nomatch\n${rest.map((k) => `  ${k} x\n`).join('')}`);
    const run = spawnSync('ssh', ['-G', '-F', file, 'target'], { encoding: 'utf8' });
    for (const match of run.stderr.matchAll(/Bad configuration option: (\S+)/g)) bad.add(match[1]!);
    if (run.status === 0 || run.stderr.includes('terminating,')) break;
    const lines = [...run.stderr.matchAll(/ line (\d+)\b/g)].map((match) => Number(match[1]));
    const stoppedAt = lines.at(-1);
    if (stoppedAt === undefined)
      throw new Error(`ssh -G stopped without naming a line: ${run.stderr}`);
    rest = rest.slice(stoppedAt - 1); // line 1 is Host: keyword i is on line i + 2
  }
  return bad;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-ssh-keywords-'));
  const plain = ASKED.filter((k) => !STRUCTURAL.has(k));
  const bad = badForSsh(plain, 'all');
  for (const k of plain) openSsh.set(k, !bad.has(k));
  for (const k of STRUCTURAL) openSsh.set(k, !badForSsh([k], k).has(k));
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Whether svc reads the same line without "Bad configuration option". */
function svcKnows(keyword: string): boolean {
  const lines = parseSshConfigText(`Host nomatch\n  ${keyword} x\n`, 'config');
  const request = { host: 'x', localUser: 'me', localHost: 'box', home: '/home/me', uid: '1000' };
  const effects = { include: () => [], exec: () => false };
  try {
    resolveSshConfig(lines, request, effects);
    return true;
  } catch (error) {
    // another complaint (`Match x` has no value) is about a keyword svc knows
    return !String(error).includes(`Bad configuration option ${keyword}`);
  }
}

describe('ssh_config keywords: svc knows what ssh -G knows', () => {
  it('ssh answered for every keyword asked, knew its own table, and refused every near miss', () => {
    expect(openSsh.size).toBe(ASKED.length);
    expect(OPENSSH_TABLE.length).toBeGreaterThan(100);
    for (const keyword of OPENSSH_TABLE) expect(openSsh.get(keyword), keyword).toBe(true);
    for (const keyword of NEAR_MISSES) expect(openSsh.get(keyword), keyword).toBe(false);
  });

  it.each(ASKED)('%s', (keyword) => {
    expect(svcKnows(keyword)).toBe(openSsh.get(keyword));
  });
});

/** Every word any list has, in other cases, and words no list has. */
const CANDIDATE_WORDS = [...new Set([...SSH_CONFIG_WORDS.values()].flat())].flatMap((word) => [
  word,
  word.toUpperCase(),
  word[0]!.toUpperCase() + word.slice(1),
]);
CANDIDATE_WORDS.push('maybe-not', '1', '0', 'on', 'off', 'none', 'accept-new', 'yes-', '');

/** Whether ssh -G takes `KEYWORD WORD` in a block that does not apply. */
function sshTakes(keyword: string, word: string): boolean {
  const file = join(dir, `words-${keyword}`);
  writeFileSync(file, `Host nomatch\n  ${keyword} "${word}"\nHost *\n  User u\n`);
  return spawnSync('ssh', ['-G', '-F', file, 'target'], { encoding: 'utf8' }).status === 0;
}

/** Whether svc takes the same line; a refusal must name it. */
function svcTakes(keyword: string, word: string): boolean {
  const lines = parseSshConfigText(`Host nomatch\n  ${keyword} "${word}"\n`, 'config');
  const request = { host: 'x', localUser: 'me', localHost: 'box', home: '/home/me', uid: '1000' };
  try {
    resolveSshConfig(lines, request, { include: () => [], exec: () => false });
    return true;
  } catch (error) {
    expect(String(error)).toContain('config:2: ');
    return false;
  }
}

describe('a keyword that takes one word of a list: svc takes exactly the words ssh -G takes', () => {
  it.each([...SSH_CONFIG_WORDS.keys()])('%s', (keyword) => {
    const differ = CANDIDATE_WORDS.filter(
      (word) => sshTakes(keyword, word) !== svcTakes(keyword, word),
    );
    expect(differ).toEqual([]);
  });
});
