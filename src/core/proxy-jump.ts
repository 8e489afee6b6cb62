// ProxyJump hops written as ssh:// URIs, read as OpenSSH 9.2's parse_ssh_uri reads them
// (misc.c: `ssh://[user[;params]@]host[:port][/]`, the user %-decoded, the host a plain domain
// name or address without `:`), so a hop svc resolves is the hop ssh would use. Plain hops
// (`[user@]host[:port]`) are read as parse_user_host_port reads them: the port may be a tcp
// service name (`h2:ssh`), which svc's target parser would refuse, so it is rewritten as a number.
import { SvcError } from './errors.js';

/** A port as ssh's a2port reads it: decimal 1-65535, else a tcp service name (via `service`). */
export function sshPort(
  text: string,
  service?: (name: string) => number | undefined,
): number | undefined {
  if (/^\+?\d+$/.test(text)) {
    const port = Number(text);
    return port >= 1 && port <= 65535 ? port : undefined;
  }
  const named = service?.(text);
  return named !== undefined && named >= 1 && named <= 65535 ? named : undefined;
}

/** misc.c valid_domain: starts alphanumeric; letters, digits, `-`, `.`, `_`; no `..`. */
function validDomain(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

/**
 * The hops of a ProxyJump value (not `none`) as parse_jump reads them: the value cut at its first
 * `#` (a comment glued to it, `jump#old`) and trailing blanks, then split at commas.
 */
export function jumpHops(value: string): string[] {
  const hash = value.indexOf('#');
  return (hash < 0 ? value : value.slice(0, hash)).replace(/[ \t]+$/, '').split(',');
}

/** A hop as ssh -G prints the last one: a numeric host (or one with `:`) in brackets. */
function hopText(user: string | undefined, host: string, port: number | undefined): string {
  const shown = /^[0-9.]*$/.test(host) || host.includes(':') ? `[${host}]` : host;
  return `${user !== undefined ? `${user}@` : ''}${shown}${port !== undefined ? `:${port}` : ''}`;
}

/**
 * A plain hop as misc.c parse_user_host_port reads it: the user up to the last `@`, the host up to
 * `:` (or a `[...]` address), the port a2port's (so `ssh` is 22); ssh refuses a `/` after the user.
 * Throws, naming `where`, where ssh says "Invalid ProxyJump".
 */
function plainHopTarget(
  hop: string,
  where: string,
  service?: (name: string) => number | undefined,
): string {
  const invalid = (why: string): never => {
    throw new SvcError(
      `${where}: ProxyJump ${hop} is not a valid [user@]host[:port] (${why}), as ssh says`,
    );
  };
  const at = hop.lastIndexOf('@');
  const user = at >= 0 ? hop.slice(0, at) : undefined;
  if (user === '') invalid('no user before the @');
  const rest = hop.slice(at + 1);
  const split = /^(\[[^\]]*\]|[^:/]*)(?::([^/]*))?$/s.exec(rest);
  if (!split) invalid('not host[:port], or a "/" in it');
  if (split![1] === '') invalid('no host');
  const host = split![1]!.replace(/^\[(.*)\]$/s, '$1');
  const text = split![2];
  let port: number | undefined;
  if (text !== undefined && text !== '') {
    port = sshPort(text, service);
    if (port === undefined) invalid(`"${text}" is not a port number or tcp service name`);
  }
  return hopText(user, host, port);
}

/**
 * One hop as `[user@]host[:port]`, the port a number: an ssh:// URI rewritten so, a plain hop as
 * ssh reads it. Throws, naming `where`, for a hop ssh would call an invalid ProxyJump.
 */
export function jumpHopTarget(
  hop: string,
  where: string,
  service?: (name: string) => number | undefined,
): string {
  if (!hop.startsWith('ssh://')) return plainHopTarget(hop, where, service);
  const invalid = (why: string): never => {
    throw new SvcError(
      `${where}: ProxyJump ${hop} is not a valid ssh:// URI (${why}), as ssh says`,
    );
  };
  let rest = hop.slice('ssh://'.length);
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at).split(';')[0]!;
    if (user === '') invalid('no user before the @');
    try {
      user = decodeURIComponent(user);
    } catch {
      invalid('a bad %-escape in the user');
    }
    rest = rest.slice(at + 1);
  }
  const hostMatch = /^(\[[^\]]*\]|[^:/]*)(.*)$/s.exec(rest)!;
  const host = hostMatch[1]!.replace(/^\[(.*)\]$/s, '$1');
  if (!validDomain(host)) invalid(`"${host}" is not a host name`);
  let tail = hostMatch[2]!;
  let port: number | undefined;
  if (tail.startsWith(':')) {
    const end = tail.indexOf('/');
    const text = tail.slice(1, end < 0 ? undefined : end);
    port = sshPort(text, service);
    if (port === undefined) invalid(`"${text}" is not a port`);
    tail = end < 0 ? '' : tail.slice(end);
  }
  if (tail !== '' && tail !== '/') invalid('a path is not allowed');
  return hopText(user, host, port);
}
