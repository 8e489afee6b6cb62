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

/** Every host key algorithm OpenSSH 9.2 knows (what `+` and `^` may name). */
const OPENSSH_ALL = [
  ...OPENSSH_HOST_KEY_ALGORITHMS,
  'ssh-rsa',
  'ssh-dss',
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
];

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
  const named = (pool: readonly string[]) =>
    pool.filter((alg) => matchPatternList(alg, list, false));
  switch (value[0]) {
    case '+':
      return [
        ...OPENSSH_HOST_KEY_ALGORITHMS,
        ...named(OPENSSH_ALL).filter((a) => !OPENSSH_HOST_KEY_ALGORITHMS.includes(a)),
      ];
    case '-':
      return OPENSSH_HOST_KEY_ALGORITHMS.filter((alg) => !matchPatternList(alg, list, false));
    case '^': {
      const front = named(OPENSSH_ALL);
      return [...front, ...OPENSSH_HOST_KEY_ALGORITHMS.filter((a) => !front.includes(a))];
    }
    default:
      return list.split(',').filter((alg) => alg !== '');
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
