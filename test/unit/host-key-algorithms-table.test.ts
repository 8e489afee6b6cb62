// HostKeyAlgorithms as OpenSSH builds it (issue 17). The configured list (a whole list, + - ^) is
// compared with what the real `ssh -G` prints for the same value, asked in the test (about 10 ms a
// case). The reordering by known key types happens at key exchange, which ssh -G does not show:
// those cases are the ones test/reliability/ssh-connect-differential.test.ts holds to a real ssh
// connection, kept here as data so the mutation run sees them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  algorithmKeyType,
  configuredHostKeyAlgorithms,
  OPENSSH_HOST_KEY_ALGORITHMS,
  orderHostKeyAlgorithms,
  SSH2_HOST_KEY_ALGORITHMS,
} from '../../src/core/host-key-algorithms.js';

/** `ssh -G`'s hostkeyalgorithms line for a value (none: the default), without reading a config. */
function fromOpenSsh(value: string | undefined): string[] {
  const args = [
    '-G',
    '-F',
    '/dev/null',
    ...(value === undefined ? [] : ['-o', `HostKeyAlgorithms=${value}`]),
    'x',
  ];
  const run = spawnSync('ssh', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ssh -G failed for ${value}: ${run.stderr}`);
  const line = run.stdout.split('\n').find((l) => l.startsWith('hostkeyalgorithms '));
  if (line === undefined) throw new Error(`ssh -G printed no hostkeyalgorithms for ${value}`);
  return line.slice('hostkeyalgorithms '.length).split(',');
}

describe('configuredHostKeyAlgorithms equals ssh -G', () => {
  it.each([
    undefined,
    'ssh-ed25519',
    'ssh-ed25519,rsa-sha2-512',
    'rsa-sha2-256,ssh-ed25519,ecdsa-sha2-nistp256',
    '+ssh-rsa',
    '+ssh-dss',
    '+ssh-rsa,ssh-dss',
    '+ssh-rsa*',
    '+ssh-ed25519',
    '+*',
    '-ssh-ed25519',
    '-*cert*',
    '-ssh-ed25519,ecdsa*',
    '-rsa-sha2-512,rsa-sha2-256',
    '-ssh-rsa',
    '^ssh-rsa',
    '^ssh-rsa,ssh-dss',
    '^rsa-sha2-256',
    '^ssh-ed25519,rsa-sha2-512',
    '^*nistp384*',
    '^ssh-rsa*',
    '+ssh-dss,ssh-rsa',
    '^rsa-sha2-256,rsa-sha2-512',
    '^ssh-rsa,ssh-ed25519',
    'ssh-ed25519*',
    'rsa-sha2-512,ssh-ed25519,rsa-sha2-512',
    'ssh-ed25519,,rsa-sha2-512,',
  ])('%s', (value) => {
    expect(configuredHostKeyAlgorithms(value)).toEqual(fromOpenSsh(value));
  });

  it('the default list is a fresh copy each time', () => {
    const list = configuredHostKeyAlgorithms(undefined);
    list.pop();
    expect(configuredHostKeyAlgorithms(undefined)).toEqual(OPENSSH_HOST_KEY_ALGORITHMS);
  });

  it('drops empty names of a whole list', () => {
    expect(configuredHostKeyAlgorithms('ssh-ed25519,,rsa-sha2-512,')).toEqual([
      'ssh-ed25519',
      'rsa-sha2-512',
    ]);
  });
});

describe('algorithmKeyType', () => {
  it.each([
    ['ssh-ed25519', 'ssh-ed25519'],
    ['ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'],
    ['rsa-sha2-512', 'ssh-rsa'],
    ['rsa-sha2-256', 'ssh-rsa'],
    ['rsa-sha2-512-cert-v01@openssh.com', 'ssh-rsa'],
    ['rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa'],
    ['ssh-rsa', 'ssh-rsa'],
    ['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384'],
    ['ecdsa-sha2-nistp521-cert-v01@openssh.com', 'ecdsa-sha2-nistp521'],
    ['sk-ssh-ed25519@openssh.com', 'sk-ssh-ed25519@openssh.com'],
    ['sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com'],
    ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'],
    ['ssh-ed25519-cert-v01@openssh.comx', 'ssh-ed25519-cert-v01@openssh.comx'],
    ['ssh-ed25519-cert-v01@opensshxcom', 'ssh-ed25519-cert-v01@opensshxcom'],
  ])('%s has %s keys', (algorithm, type) => {
    expect(algorithmKeyType(algorithm)).toBe(type);
  });
});

describe('orderHostKeyAlgorithms: what svc offers (ssh2 can verify)', () => {
  const DEFAULT_SSH2 = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
  ];
  it.each([
    ['nothing known', [], undefined, DEFAULT_SSH2],
    ['ed25519 known: the first already', ['ssh-ed25519'], undefined, DEFAULT_SSH2],
    [
      'only RSA known: RSA first',
      ['ssh-rsa'],
      undefined,
      [
        'rsa-sha2-512',
        'rsa-sha2-256',
        'ssh-ed25519',
        'ecdsa-sha2-nistp256',
        'ecdsa-sha2-nistp384',
        'ecdsa-sha2-nistp521',
      ],
    ],
    [
      'ECDSA 384 and RSA known, in list order',
      ['ssh-rsa', 'ecdsa-sha2-nistp384'],
      undefined,
      [
        'ecdsa-sha2-nistp384',
        'rsa-sha2-512',
        'rsa-sha2-256',
        'ssh-ed25519',
        'ecdsa-sha2-nistp256',
        'ecdsa-sha2-nistp521',
      ],
    ],
    [
      'a configured list is never reordered',
      ['ssh-rsa'],
      'ssh-ed25519,rsa-sha2-512',
      ['ssh-ed25519', 'rsa-sha2-512'],
    ],
    [
      'a configured + is not reordered either',
      ['ssh-rsa'],
      '+ssh-rsa',
      [...DEFAULT_SSH2, 'ssh-rsa'],
    ],
    ['what ssh2 cannot verify is dropped', [], 'sk-ssh-ed25519@openssh.com,ssh-dss', ['ssh-dss']],
    ['an empty configured list stays empty', ['ssh-rsa'], ',', []],
  ] as const)('%s', (_, known, configured, offered) => {
    expect(orderHostKeyAlgorithms([...known], configured)).toEqual(offered);
  });

  it('ssh2 verifies exactly these', () => {
    expect([...SSH2_HOST_KEY_ALGORITHMS].sort()).toEqual(
      [...DEFAULT_SSH2, 'ssh-rsa', 'ssh-dss'].sort(),
    );
  });
});
