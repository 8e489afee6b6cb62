// ProxyJump hops and Port values, case by case against the real `ssh -G -F`: jumpHopTarget must
// print a single hop as ssh prints it, or refuse it where ssh calls it invalid; sshPort with
// /etc/services (tcpServicePort) must give the port ssh gives, or none where ssh refuses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jumpHopTarget, sshPort } from '../../src/core/proxy-jump.js';
import { tcpServicePort } from '../../src/remote/ssh-config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-proxy-jump-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What `ssh -G` prints for `keyword` after a config of one line, or undefined if it refuses. */
function sshSays(line: string, keyword: string): string | undefined {
  const file = join(dir, 'config');
  writeFileSync(file, `${line}\n`);
  const result = spawnSync('ssh', ['-G', '-F', file, 'target.example'], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const found = result.stdout.split('\n').find((l) => l.startsWith(`${keyword} `));
  return found?.slice(keyword.length + 1);
}

const HOPS = [
  'ssh://jump.example',
  'ssh://u@jump.example',
  'ssh://u@jump.example:2200',
  'ssh://u@jump.example:2200/',
  'ssh://u;fingerprint=x@jump.example',
  'ssh://u%2Dx@jump.example',
  'ssh://u@jump.example:ssh',
  'ssh://10.0.0.1:22',
  'ssh://h_x.example',
  'ssh://u@jump.example/path',
  'ssh://u@jump.example:0',
  'ssh://u@jump.example:70000',
  'ssh://@jump.example',
  'ssh://u@-bad.example',
  'ssh://u@a@jump.example',
  'ssh://u@[::1]:22',
  'ssh://u@jump..example',
  'plain.example',
  'u@plain.example:2200',
  'u@plain.example:ssh',
  'plain.example:domain',
  'plain.example:',
  'plain.example/2200',
  'plain.example:22/',
  'u/x@plain.example',
  '[]:22',
  '10.0.0.1:ssh',
  '[::1]:ssh',
  '[::1]',
  'a@b@plain.example:0022',
  'plain.example:nope',
  'plain.example:0',
  'plain.example:22:33',
  '@plain.example',
  'u@:22',
  '::1',
  '[::1]x',
];

describe('jumpHopTarget says what ssh -G says', () => {
  it.each(HOPS)('%s', (hop) => {
    const ssh = sshSays(`ProxyJump ${hop}`, 'proxyjump');
    let svc: string | undefined;
    try {
      svc = jumpHopTarget(hop, 'config:1', tcpServicePort);
    } catch (error) {
      expect((error as Error).message).toMatch(
        /^config:1: ProxyJump .* is not a valid (ssh:\/\/ URI|\[user@\]host\[:port\]) \(/,
      );
      svc = undefined;
    }
    expect(svc).toBe(ssh);
  });
});

const PORTS = [
  '22',
  '+22',
  '0022',
  '0',
  '65535',
  '65536',
  'ssh',
  'https',
  'domain',
  'SSH',
  'nope',
  '-1',
  '2x',
];

describe('sshPort with /etc/services says what ssh -G says', () => {
  it.each(PORTS)('Port %s', (text) => {
    expect(sshPort(text, tcpServicePort)?.toString()).toBe(sshSays(`Port ${text}`, 'port'));
  });

  it('reads names and aliases of tcp lines only, without comments', () => {
    const file = join(dir, 'services');
    writeFileSync(file, '# c\nfoo 1234/udp\nfoo 2345/tcp bar # baz\nqux 99/tcp\n');
    expect(['foo', 'bar', 'baz', 'qux', 'x'].map((n) => tcpServicePort(n, file))).toEqual([
      2345,
      2345,
      undefined,
      99,
      undefined,
    ]);
    expect(tcpServicePort('foo', join(dir, 'missing'))).toBeUndefined();
  });
});
