// Fetches a host's key without logging in: the handshake stops at host-key verification. Used by
// `svc trust` to show the fingerprint before anything is recorded.
import ssh2 from 'ssh2';

const { Client } = ssh2;
import { SvcError } from '../core/errors.js';
import type { SshEndpoint } from './ssh.js';
import { hostKeyAlgorithms } from './host-key-check.js';
import type { KnownHostEntry } from '../core/known-hosts.js';

/**
 * The key the host presents when asked as ssh would ask (the algorithms of the keys `entries`
 * know for it first): a host pinned by its RSA key shows that key, not a new ED25519 one.
 */
export function fetchHostKey(
  endpoint: SshEndpoint,
  entries: readonly KnownHostEntry[],
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let key: Buffer | undefined;
    const finish = () => {
      clearTimeout(timer);
      client.destroy();
      if (key) resolve(key);
      else
        reject(
          new SvcError(
            `${endpoint.name} (${endpoint.address}:${endpoint.port}): no host key received`,
          ),
        );
    };
    const timer = setTimeout(() => {
      client.destroy();
      reject(
        new SvcError(
          `${endpoint.name} (${endpoint.address}:${endpoint.port}): connect timed out after ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
    client.on('error', (error) => {
      if (key) return finish();
      clearTimeout(timer);
      reject(
        new SvcError(`${endpoint.name} (${endpoint.address}:${endpoint.port}): ${error.message}`),
      );
    });
    client.on('close', finish);
    client.connect({
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: hostKeyAlgorithms(endpoint, entries) },
      // Refusing here ends the handshake before any authentication.
      hostVerifier: (hostKey: Buffer) => {
        key = hostKey;
        return false;
      },
    });
  });
}
