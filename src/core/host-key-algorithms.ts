// The exact, ordered host key algorithm list to offer, as OpenSSH 9.2's order_hostkeyalgs builds it:
// the default HostKeyAlgorithms with, unless the first algorithm's key type is already known for
// the host, the algorithms of known key types moved to the front, each group in list order; or
// HostKeyAlgorithms as ssh_config sets it (+ - ^ or a whole list), which OpenSSH never reorders.
// Restricted to what ssh2 implements.
import { matchPatternList } from './ssh-config.js';

/** OpenSSH 9.2's default HostKeyAlgorithms (`ssh -G` prints it). */
export const OPENSSH_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** Every host key algorithm OpenSSH 9.2 knows, in its own order (`ssh -Q HostKeyAlgorithms`). */
const OPENSSH_ALL = [
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-dss',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-rsa',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-512-cert-v01@openssh.com',
];

/**
 * kex_assemble_names: each name of a list, in the list's order, stands for every algorithm it
 * matches as a pattern (in OPENSSH_ALL's order), each algorithm once.
 */
function expandNames(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const pattern of names)
    for (const alg of OPENSSH_ALL)
      if (matchPatternList(alg, pattern, false) && !out.includes(alg)) out.push(alg);
  return out;
}

/** The server host key algorithms ssh2 can verify. */
export const SSH2_HOST_KEY_ALGORITHMS = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
]);

/** The plain key type an algorithm's keys have (rsa-sha2-512 -> ssh-rsa, certs -> their key). */
export function algorithmKeyType(algorithm: string): string {
  const plain = algorithm.replace(/-cert-v01@openssh\.com$/, '');
  if (plain === 'rsa-sha2-512' || plain === 'rsa-sha2-256') return 'ssh-rsa';
  if (plain === 'sk-ssh-ed25519') return 'sk-ssh-ed25519@openssh.com';
  if (plain === 'sk-ecdsa-sha2-nistp256') return 'sk-ecdsa-sha2-nistp256@openssh.com';
  return plain;
}

/** HostKeyAlgorithms as ssh_config sets it: a list, or + (append), - (remove), ^ (prepend). */
export function configuredHostKeyAlgorithms(value: string | undefined): string[] {
  if (value === undefined) return [...OPENSSH_HOST_KEY_ALGORITHMS];
  const list = value.slice(/^[+^-]/.test(value) ? 1 : 0);
  const names = list.split(',');
  switch (value[0]) {
    case '+':
      return expandNames([...OPENSSH_HOST_KEY_ALGORITHMS, ...names]);
    case '-':
      return OPENSSH_HOST_KEY_ALGORITHMS.filter((alg) => !matchPatternList(alg, list, false));
    case '^':
      return expandNames([...names, ...OPENSSH_HOST_KEY_ALGORITHMS]);
    default:
      return expandNames(names);
  }
}

/** The list to offer, given the key types known_hosts holds for the host (knownKeyTypes). */
export function orderHostKeyAlgorithms(
  knownTypes: readonly string[],
  configured: string | undefined,
): string[] {
  const list = configuredHostKeyAlgorithms(configured);
  const known = (alg: string) => knownTypes.includes(algorithmKeyType(alg));
  // ssh_kex2: a configured HostKeyAlgorithms is offered as it is, never reordered.
  const ordered =
    configured !== undefined || list.length === 0 || known(list[0]!)
      ? list
      : [...list.filter(known), ...list.filter((alg) => !known(alg))];
  return ordered.filter((alg) => SSH2_HOST_KEY_ALGORITHMS.has(alg));
}
