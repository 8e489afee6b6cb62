// A failed ssh connection in words a person can act on: what happened and what to check, instead
// of a raw `connect ECONNREFUSED 10.0.0.9:22` or ssh2's "Connection lost before handshake".
// ssh.ts words its errors for the log; the callers that report a host's result map them here.

/** A lookup that failed for now (getaddrinfo's EAI_AGAIN), said the same for a target and a host. */
export const TEMPORARY_DNS_FAILURE =
  'looking the name up failed for now (temporary DNS failure, EAI_AGAIN): check the network and /etc/resolv.conf, then try again';

const PROBLEMS: ReadonlyArray<[RegExp, (match: RegExpMatchArray) => string]> = [
  [
    /no ssh-agent \(SSH_AUTH_SOCK\) and no usable identity file/,
    () => 'no ssh-agent and no identity file: ssh-add a key or set IdentityFile',
  ],
  [/ECONNREFUSED/, () => 'connection refused: is sshd running there?'],
  [
    /connect timed out after (\d+(?:\.\d+)?) s/,
    (match) => `timed out after ${match[1]} s: is the address right, and the host up?`,
  ],
  [
    /ETIMEDOUT|Timed out while waiting for handshake/,
    () => 'timed out: is the address right, and the host up?',
  ],
  [
    /EHOSTUNREACH|ENETUNREACH/,
    () => 'no route to the host: is the address right, and the host up?',
  ],
  // EAI_AGAIN: the resolver could not answer now (no network, no DNS server reachable): the name
  // may well exist, and the same command can work once DNS does.
  [/EAI_AGAIN/, () => TEMPORARY_DNS_FAILURE],
  [
    /ENOTFOUND|EAI_NONAME/,
    () => 'the name does not resolve: is it spelt right, or missing from ~/.ssh/config?',
  ],
  [
    /Connection lost before handshake|ECONNRESET/,
    () => 'the connection closed before the ssh handshake: is the host up, and sshd on that port?',
  ],
];

/** The one-line explanation of a connect error message, or undefined when it is not one. */
export function connectProblem(message: string): string | undefined {
  // Only what ssh.ts says about opening a connection: a session lost later is another story.
  if (!/no ssh-agent|connect failed: |connect timed out/.test(message)) return undefined;
  for (const [pattern, explain] of PROBLEMS) {
    const match = message.match(pattern);
    if (match) return explain(match);
  }
  return undefined;
}
