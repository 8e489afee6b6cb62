// readconf.c's value parsers (and the misc.c helpers they call) in OpenSSH 9.2, each reduced to
// whether ssh takes the text: numbers and times as strtonum/strtol/convtime/scan_scaled read them,
// algorithm lists, IPQoS, tun devices, escape characters, ${VAR} syntax, forwardings.
// ssh-config-values.ts says what is wrong; test/unit/ssh-config-values-table.test.ts holds both
// to `ssh -G`.
import { VALUE_WORDS } from './ssh-config-value-kinds.js';

export type Service = (name: string) => number | undefined;

export const INT_MAX = 2147483647n;

/** strtonum(3): optional blanks and sign, decimal digits, nothing after, within min..max. */
export function strtonum(text: string, min: bigint, max: bigint): bigint | undefined {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text.trim());
  return value >= min && value <= max ? value : undefined;
}

/** misc.c convtime: numbers each with an optional s/m/h/d/w, the sum at most INT_MAX. */
export function convtime(text: string): boolean {
  if (text === '') return false;
  const multipliers: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86400n, w: 604800n };
  let total = 0n;
  // Each strtol takes leading blanks and a sign; a negative number is refused below.
  const part = /[ \t\n\v\f\r]*([+-]?)(\d+)([smhdwSMHDW]?)/y;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) return false;
    const secs = BigInt(match[2]!);
    if (match[1] === '-' && secs !== 0n) return false;
    const multiplier = multipliers[match[3]!.toLowerCase()] ?? 1n;
    // A number without a unit ends the text: strtol stops there, and anything after is no unit.
    if (match[3] === '' && part.lastIndex < text.length) return false;
    if (secs > INT_MAX / multiplier) return false;
    total += secs * multiplier;
    if (total > INT_MAX) return false;
    at = part.lastIndex;
  }
  return true;
}

/** misc.c a2port: 0-65535 (strtonum), else a tcp service name; -1 for neither. */
export function a2port(text: string, service: Service | undefined): number {
  const number = strtonum(text, 0n, 65535n);
  if (number !== undefined) return Number(number);
  return service?.(text) ?? -1;
}

/** fmt_scaled.c scan_scaled, for RekeyLimit: the number, or undefined where it fails. */
export function scanScaled(text: string): bigint | undefined {
  const match = /^[ \t\n\v\f\r]*([+-]?)(\d*)(?:\.(\d*))?(.*)$/s.exec(text)!;
  const [, sign, whole, fraction = '', rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (/^[+-]/.test(rest) || rest.startsWith('.') || whole.length >= 21) return undefined;
  const LLONG_MAX = 9223372036854775807n;
  let value = BigInt(whole === '' ? '0' : whole);
  if (value > LLONG_MAX) return undefined;
  const negative = sign === '-';
  if (rest === '') return negative ? -value : value;
  const scale = 'BKMGTPE'.indexOf(rest[0]!.toUpperCase());
  if (scale < 0 || /^[A-Za-z0-9]/.test(rest.slice(1))) return undefined;
  const factor = 1024n ** BigInt(scale);
  if (value > LLONG_MAX / factor) return undefined;
  value *= factor;
  // The fraction (at most 19 digits are kept) only adds to a number already in range.
  const digits = fraction.slice(0, 19);
  if (digits !== '') value += (BigInt(digits) * factor) / 10n ** BigInt(digits.length);
  return negative ? -value : value;
}

/**
 * An algorithm list ssh could take: `-` and anything, else some text after `+`/`^`. The names are
 * not held against OpenSSH 9.2's (`ssh -Q`): a newer ssh knows more (mlkem768x25519-sha256), and
 * refusing a config the user's own ssh takes would be worse than leaving the name to it.
 */
export function algorithmListShaped(value: string): boolean {
  if (value.startsWith('-')) return true;
  return (/^[+^]/.test(value) ? value.slice(1) : value) !== '';
}

/** misc.c parse_ipqos: a name (any case) or a number 0-255 as strtol(…, 0) reads it. */
export function ipqosValid(text: string): boolean {
  if (VALUE_WORDS.ipqos.includes(text.toLowerCase())) return true;
  const match = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (match === null) return false;
  const digits = match[2]!;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.startsWith('0')
      ? parseInt(digits, 8)
      : Number(digits);
  return value <= 255 && (match[1] !== '-' || value === 0);
}

/** misc.c a2tun: `any` or 0..SSH_TUNID_MAX, and for TunnelDevice `local:remote`. */
export function tunValid(text: string): boolean {
  const one = (part: string) =>
    part.toLowerCase() === 'any' || strtonum(part, 0n, 0x7ffffffdn) !== undefined;
  const colon = text.indexOf(':');
  return colon < 0 ? one(text) : one(text.slice(0, colon)) && one(text.slice(colon + 1));
}

/**
 * misc.c dollar_expand's own errors: a `${` without its `}`, or `${}`. Whether each variable is set
 * depends on the environment ssh runs in, which svc's pure core does not see: left alone.
 */
export function dollarSyntaxValid(text: string): boolean {
  for (let at = text.indexOf('${'); at >= 0; at = text.indexOf('${', at)) {
    const close = text.indexOf('}', at + 2);
    if (close < 0 || close === at + 2) return false;
    at = close + 1;
  }
  return true;
}

/** misc.c valid_domain, as CanonicalDomains checks each. */
export function domainValid(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

/** readconf.c's EscapeChar: `none`, one byte, or ^ and a byte from 64 to 127. */
export function escapeCharValid(text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  return (
    text === 'none' ||
    bytes.length === 1 ||
    (bytes.length === 2 && bytes[0] === 0x5e && bytes[1]! >= 64 && bytes[1]! < 128)
  );
}

/** misc.c hpdelim: host and port split at `:` (a `[...]` host kept whole); a `/` fails. */
export function hpdelim(arg: string): { host: string; port?: string } | undefined {
  let at: number;
  if (arg.startsWith('[')) {
    at = arg.indexOf(']');
    if (at < 0) return undefined;
    at++;
  } else {
    at = arg.search(/[:/]/);
    if (at < 0) at = arg.length;
  }
  if (at === arg.length) return { host: arg };
  if (arg[at] !== ':') return undefined;
  return { host: arg.slice(0, at), port: arg.slice(at + 1) };
}

/** readconf.c parse_fwd_field: the fields of a forwarding, or undefined where it fails. */
function forwardFields(spec: string): { arg: string; path: boolean }[] | undefined {
  const fields: { arg: string; path: boolean }[] = [];
  let at = spec.replace(/^[ \t\n\v\f\r]+/, '');
  while (fields.length < 4 && at !== '') {
    if (at.startsWith('[')) {
      const close = at.indexOf(']');
      if (close < 0 || (at[close + 1] !== ':' && at[close + 1] !== undefined)) return undefined;
      const arg = at.slice(1, close);
      fields.push({ arg, path: arg.includes('/') });
      at = at.slice(close + 2);
      continue;
    }
    let arg = '';
    let path = false;
    let i = 0;
    for (; i < at.length && at[i] !== ':'; i++) {
      if (at[i] === '\\') {
        if (++i >= at.length) return undefined;
      } else if (at[i] === '/') path = true;
      arg += at[i];
    }
    fields.push({ arg, path });
    at = at.slice(i + 1);
  }
  return at === '' ? fields : undefined;
}

interface Forward {
  /** a2port's answer, or undefined for a Unix socket path. */
  listenPort?: number;
  connectPort?: number;
  connectPath: boolean;
  hosts: string[];
  paths: string[];
}

type Field = { arg: string; path: boolean };

/** parse_forward's switch on the number of fields: which field is what. */
function forwardParts(fields: Field[], port: (field: Field) => number): Forward {
  const [a, b, c, d] = fields as [Field, Field, Field, Field];
  if (fields.length === 1)
    return a.path
      ? { connectPath: false, hosts: [], paths: [a.arg] }
      : { listenPort: port(a), connectPath: false, hosts: [], paths: [] };
  if (fields.length === 2) {
    if (a.path && b.path) return { connectPath: true, hosts: [], paths: [a.arg, b.arg] };
    if (b.path) return { listenPort: port(a), connectPath: true, hosts: [], paths: [b.arg] };
    return { listenPort: port(b), connectPath: false, hosts: [a.arg], paths: [] };
  }
  if (fields.length === 3) {
    if (a.path) return { connectPort: port(c), connectPath: false, hosts: [b.arg], paths: [a.arg] };
    if (c.path) return { listenPort: port(b), connectPath: true, hosts: [a.arg], paths: [c.arg] };
    return {
      listenPort: port(a),
      connectPort: port(c),
      connectPath: false,
      hosts: [b.arg],
      paths: [],
    };
  }
  return {
    listenPort: port(b),
    connectPort: port(d),
    connectPath: false,
    hosts: [a.arg, c.arg],
    paths: [],
  };
}

/** readconf.c parse_forward's yes/no (a value with ${VAR} is left to the environment). */
export function forwardValid(
  spec: string,
  dynamic: boolean,
  remote: boolean,
  service?: Service,
): boolean {
  if (spec.includes('${')) return dollarSyntaxValid(spec);
  const fields = forwardFields(spec);
  if (fields === undefined || fields.length === 0) return false;
  const forward = forwardParts(fields, (field) => a2port(field.arg, service));
  const listenPath = forward.listenPort === undefined;
  if (dynamic && fields.length > 2) return false;
  if (!dynamic && fields.length < 3 && forward.paths.length === 0) return false;
  if (!dynamic && (forward.connectPort ?? 0) <= 0 && !forward.connectPath) return false;
  if (!listenPath && (forward.listenPort! < 0 || (!remote && forward.listenPort === 0)))
    return false;
  return (
    forward.hosts.every((host) => Buffer.byteLength(host) < 1025) &&
    forward.paths.every((path) => Buffer.byteLength(path) < 108)
  );
}
