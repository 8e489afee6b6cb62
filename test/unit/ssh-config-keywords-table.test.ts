// Every ssh_config keyword svc accepts is one OpenSSH accepts, and the other way round for the
// near misses below (issue 17): each is asked of the real `ssh -G` in a block that does not apply
// (`Host nomatch`, so no value is used), in parallel, once per run. ssh says "Bad configuration
// option: KEYWORD" for a keyword it does not know, and so must svc.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSshConfigText, resolveSshConfig } from '../../src/core/ssh-config.js';
import { SSH_CONFIG_KEYWORDS } from '../../src/core/ssh-config-keywords.js';

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
const ASKED = [...SSH_CONFIG_KEYWORDS, ...NEAR_MISSES];

let dir: string;
/** keyword -> whether ssh -G knows it */
const openSsh = new Map<string, boolean>();

function askSsh(keyword: string, index: number): Promise<void> {
  const file = join(dir, `k${index}`);
  writeFileSync(file, `Host nomatch\n  ${keyword} x\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-G', '-F', file, 'x'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      openSsh.set(keyword, !stderr.includes(`Bad configuration option: ${keyword}`));
      resolve();
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svc-ssh-keywords-'));
  for (let start = 0; start < ASKED.length; start += 16)
    await Promise.all(ASKED.slice(start, start + 16).map((k, i) => askSsh(k, start + i)));
}, 60_000);

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
  it('ssh answered for every keyword asked, and refused every near miss', () => {
    expect(openSsh.size).toBe(ASKED.length);
    for (const keyword of NEAR_MISSES) expect(openSsh.get(keyword), keyword).toBe(false);
  });

  it.each(ASKED)('%s', (keyword) => {
    expect(svcKnows(keyword)).toBe(openSsh.get(keyword));
  });
});
