// The values OpenSSH 9.2's readconf.c checks on every ssh_config line, also in a Host or Match
// block that does not apply: a bad one makes ssh (and ssh -G) refuse the whole config, so svc
// refuses it too, naming file:line, even for an option svc does not use. Each rule is readconf.c's
// parser for that keyword (parse_time, parse_int, parse_forward, ...), ported for its yes/no only.
// test/unit/ssh-config-values-table.test.ts asks the real `ssh -G` for every case.
import { SvcError } from './errors.js';
import {
  ALGORITHMS,
  SSH_VALUE_KINDS,
  VALUE_WORDS,
  type ValueKind,
} from './ssh-config-value-kinds.js';

type Service = (name: string) => number | undefined;

/** Says what is wrong with a line's value; ssh refuses the same line. */
function refuse(where: string, keyword: string, what: string): never {
  throw new SvcError(`${where}: ${keyword} ${what} (ssh refuses it too)`);
}

const INT_MAX = 2147483647n;

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
function a2port(text: string, service: Service | undefined): number {
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

/** An algorithm list: `-` anything, else (after `+`/`^`) names up to the first empty one. */
function algorithmsValid(value: string, known: readonly string[], patterns: boolean): boolean {
  if (value.startsWith('-')) return true;
  const list = /^[+^]/.test(value) ? value.slice(1) : value;
  if (list === '') return false;
  for (const name of list.split(',')) {
    if (name === '') break;
    if (known.includes(name)) continue;
    if (patterns && keyPatternMatches(name)) continue;
    return false;
  }
  return true;
}

/** sshkey_names_valid2's second chance: a short name (RSA) or a pattern that matches a key type. */
function keyPatternMatches(name: string): boolean {
  if (ALGORITHMS.keyShortNames.includes(name.toUpperCase())) return true;
  const negated = name.startsWith('!');
  const source = (negated ? name.slice(1) : name).replace(/[*?]|[^*?]+/g, (part) =>
    part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'),
  );
  const pattern = new RegExp(`^${source}$`, 's');
  return ALGORITHMS.keyTypes.some((type) => pattern.test(type));
}

/** GSSAPIKexAlgorithms: names up to the first empty one, each starting with a method's prefix. */
function gssKexValid(value: string): boolean {
  if (value === '') return false;
  for (const name of value.split(',')) {
    if (name === '') break;
    if (!ALGORITHMS.gssKex.some((prefix) => name.startsWith(prefix))) return false;
  }
  return true;
}

/** misc.c parse_ipqos: a name (any case) or a number 0-255 as strtol(…, 0) reads it. */
function ipqosValid(text: string): boolean {
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
function tunValid(text: string): boolean {
  const one = (part: string) =>
    part.toLowerCase() === 'any' || strtonum(part, 0n, 0x7ffffffdn) !== undefined;
  const colon = text.indexOf(':');
  return colon < 0 ? one(text) : one(text.slice(0, colon)) && one(text.slice(colon + 1));
}

/**
 * misc.c dollar_expand's own errors: a `${` without its `}`, or `${}`. Whether each variable is set
 * depends on the environment ssh runs in, which svc's pure core does not see: left alone.
 */
function dollarSyntaxValid(text: string): boolean {
  for (let at = text.indexOf('${'); at >= 0; at = text.indexOf('${', at)) {
    const close = text.indexOf('}', at + 2);
    if (close < 0 || close === at + 2) return false;
    at = close + 1;
  }
  return true;
}

/** misc.c valid_domain, as CanonicalDomains checks each. */
function domainValid(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

/** readconf.c's EscapeChar: `none`, one byte, or ^ and a byte from 64 to 127. */
function escapeCharValid(text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  return (
    text === 'none' ||
    bytes.length === 1 ||
    (bytes.length === 2 && bytes[0] === 0x5e && bytes[1]! >= 64 && bytes[1]! < 128)
  );
}

/** A list where `none` may stand only alone and no item is empty (LogVerbose, known hosts files). */
function checkNoneAlone(args: readonly string[], where: string, keyword: string, empty: boolean) {
  args.forEach((arg) => {
    if (empty && arg === '') refuse(where, keyword, 'has an empty value');
    if (arg.toLowerCase() === 'none' && args.length > 1)
      refuse(where, keyword, `${arg} must stand alone`);
  });
}

/** A one-value keyword: the value must be there (non-empty) and alone. */
function single(args: readonly string[], where: string, keyword: string): string {
  const [first] = args;
  if (first === undefined || first === '') refuse(where, keyword, 'needs a value');
  if (args.length > 1)
    refuse(where, keyword, `takes one value, not ${args.length} (quote a value with spaces)`);
  return first;
}

/** readconf.c's parser for the keyword's kind, reduced to "does ssh take it". */
function checkKind(
  kind: ValueKind,
  args: readonly string[],
  where: string,
  keyword: string,
  service?: Service,
): void {
  const bad = (value: string, what: string) => refuse(where, keyword, `${value} ${what}`);
  switch (kind.type) {
    case 'any':
      return;
    case 'present':
      if (args.length === 0) refuse(where, keyword, 'needs a value');
      return;
    case 'nonempty':
      if (args.includes('')) refuse(where, keyword, 'has an empty value');
      return;
    case 'string':
      single(args, where, keyword);
      return;
    case 'time': {
      const value = single(args, where, keyword);
      if (value !== 'none' && !convtime(value)) bad(value, 'is not a time (none, 30, 5m, 1h30m)');
      return;
    }
    case 'int': {
      const value = single(args, where, keyword);
      if (strtonum(value, 0n, INT_MAX) === undefined)
        bad(value, `is not a whole number from 0 to ${INT_MAX}`);
      return;
    }
    case 'words': {
      const value = single(args, where, keyword);
      if (!kind.words.includes(value.toLowerCase()))
        bad(value, `is not one of ${kind.words.join(', ')}`);
      return;
    }
    case 'algorithms': {
      const value = single(args, where, keyword);
      const valid =
        kind.list === 'gssKex'
          ? gssKexValid(value)
          : algorithmsValid(value, ALGORITHMS[kind.list], kind.list === 'keyTypes');
      if (!valid) bad(value, `names an algorithm OpenSSH 9.2 does not know (ssh -Q ${kind.query})`);
      return;
    }
    case 'list':
      checkNoneAlone(args, where, keyword, true);
      return;
    default:
      checkSpecial(kind.type, args, where, keyword, service);
  }
}

/** The keywords with a parser of their own in readconf.c. */
function checkSpecial(
  type: string,
  args: readonly string[],
  where: string,
  keyword: string,
  service?: Service,
): void {
  const bad = (value: string, what: string) => refuse(where, keyword, `${value} ${what}`);
  switch (type) {
    case 'controlpersist': {
      const value = single(args, where, keyword);
      if (!['yes', 'no', 'true', 'false'].includes(value) && !convtime(value))
        bad(value, 'is not yes, no or a time');
      return;
    }
    case 'rekeylimit': {
      const [limit, interval, ...rest] = args;
      if (limit === undefined || limit === '') refuse(where, keyword, 'needs a value');
      const bytes = limit === 'default' ? 0n : scanScaled(limit);
      if (bytes === undefined || (bytes !== 0n && bytes < 16n))
        bad(limit, 'is not default or a size of at least 16 (1G, 500M)');
      if (interval !== undefined && interval !== 'none' && !convtime(interval))
        bad(interval, 'is not a time (none, 30, 5m, 1h30m)');
      if (rest.length > 0) refuse(where, keyword, 'takes at most two values');
      return;
    }
    case 'loglevel':
    case 'syslogfacility':
    case 'fingerprinthash': {
      const value = single(args, where, keyword);
      const words = VALUE_WORDS[type];
      if (!words.includes(value.toUpperCase())) bad(value, `is not one of ${words.join(', ')}`);
      return;
    }
    case 'escapechar': {
      const value = single(args, where, keyword);
      if (!escapeCharValid(value)) bad(value, 'is not none, one character or ^ and a letter');
      return;
    }
    case 'streamlocalbindmask': {
      const value = single(args, where, keyword);
      const match = /^[ \t\n\v\f\r]*([+-]?)([0-7]+)/.exec(value);
      const mask = match === null ? undefined : parseInt(match[2]!, 8);
      if (mask === undefined || mask > 0o777 || (match![1] === '-' && mask !== 0))
        bad(value, 'is not an octal mask from 0 to 0777');
      return;
    }
    case 'tunneldevice': {
      const value = single(args, where, keyword);
      if (!tunValid(value)) bad(value, 'is not a tun device (any, 0, local:remote)');
      return;
    }
    case 'ipqos': {
      if (args.length === 0 || args.length > 2) refuse(where, keyword, 'takes one or two values');
      for (const arg of args)
        if (!ipqosValid(arg)) bad(arg, 'is not an IPQoS value (af21, cs1, lowdelay, 0-255)');
      return;
    }
    case 'addkeystoagent':
      return checkAddKeysToAgent(args, where, keyword);
    case 'sendenv':
      for (const arg of args)
        if (arg === '' || arg.includes('='))
          bad(arg || '""', 'is not an environment variable name');
      return;
    case 'setenv':
      for (const arg of args) if (!arg.includes('=')) bad(arg || '""', 'is not NAME=VALUE');
      return;
    case 'canonicaldomains':
      checkNoneAlone(args, where, keyword, true);
      for (const arg of args) if (!domainValid(arg)) bad(arg || '""', 'is not a domain name');
      return;
    case 'permittedcnames':
      checkNoneAlone(args, where, keyword, false);
      for (const arg of args)
        if (arg.toLowerCase() !== 'none' && arg !== '*' && !/:./s.test(arg))
          bad(arg || '""', 'is not source:target domain lists');
      return;
    case 'permitremoteopen':
      return checkPermitRemoteOpen(args, where, keyword, service);
    case 'agentpath': {
      const value = single(args, where, keyword);
      // ${NAME} must be closed (whether it is set depends on the environment); the legacy $NAME
      // form must be a variable name.
      if (!dollarSyntaxValid(value)) bad(value, 'has a ${ without its } or an empty ${}');
      if (/^\$(?!\{)/.test(value) && !/^\$[A-Za-z0-9_]+$/.test(value))
        bad(value, 'is not a valid environment variable name');
      return;
    }
    default:
      return checkForward(type, args, where, keyword, service);
  }
}

/** AddKeysToAgent: a yes/no/ask/confirm word, `confirm TIME`, or a time alone. */
function checkAddKeysToAgent(args: readonly string[], where: string, keyword: string): void {
  const [word, time, ...rest] = args;
  const state =
    word === undefined
      ? -1
      : ['yes', 'no', 'true', 'false', 'ask', 'confirm'].indexOf(word.toLowerCase());
  const ok =
    rest.length === 0 &&
    (state === 5 && time !== undefined
      ? convtime(time)
      : state < 0 && time === undefined
        ? word !== undefined && convtime(word)
        : state >= 0 && time === undefined);
  if (!ok)
    refuse(
      where,
      keyword,
      `${args.join(' ') || '""'} is not yes, no, ask, confirm, a time or confirm and a time`,
    );
}

/** misc.c hpdelim: host and port split at `:` (a `[...]` host kept whole); a `/` fails. */
function hpdelim(arg: string): { host: string; port?: string } | undefined {
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

/** PermitRemoteOpen: any or none alone, else each host:port with a port or *. */
function checkPermitRemoteOpen(
  args: readonly string[],
  where: string,
  keyword: string,
  service?: Service,
): void {
  if (args.length === 0) refuse(where, keyword, 'needs a value');
  for (const arg of args) {
    if (['none', 'any'].includes(arg.toLowerCase())) {
      if (args.length > 1) refuse(where, keyword, `${arg} must stand alone`);
      continue;
    }
    const port = hpdelim(arg)?.port;
    if (port === undefined || (port !== '*' && a2port(port, service) <= 0))
      refuse(where, keyword, `${arg || '""'} is not host:port (the port a number or *)`);
  }
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
  const local = (listen: Field, connect: Field) => ({ listen, connect });
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
    const { listen, connect } = local(a, c);
    return {
      listenPort: port(listen),
      connectPort: port(connect),
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
function forwardValid(spec: string, dynamic: boolean, remote: boolean, service?: Service): boolean {
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

/** LocalForward takes a listen and a connect value, RemoteForward one or two, DynamicForward one. */
function checkForward(
  type: string,
  args: readonly string[],
  where: string,
  keyword: string,
  service?: Service,
): void {
  const [listen, connect] = args;
  if (listen === undefined || listen === '') refuse(where, keyword, 'needs a value');
  const remote = type === 'remoteforward';
  const dynamic = type === 'dynamicforward' || (remote && (connect ?? '') === '');
  if (type === 'localforward' && (connect ?? '') === '')
    refuse(where, keyword, `${listen} needs a target (host:port)`);
  if (args.length > (type === 'dynamicforward' ? 1 : 2))
    refuse(where, keyword, `${args.join(' ')} has a value too many`);
  if (!forwardValid(dynamic ? listen : `${listen}:${connect}`, dynamic, remote, service))
    refuse(where, keyword, `${args.join(' ')} is not a valid forwarding`);
}

/**
 * Refuses, naming `where`, a line whose value ssh refuses in any block. `bare`: nothing at all
 * after the keyword (ssh: "no argument after keyword", whatever the keyword).
 */
export function checkSshValue(
  keyword: string,
  args: readonly string[],
  bare: boolean,
  where: string,
  service?: Service,
): void {
  if (bare) refuse(where, keyword, 'needs a value');
  const kind = SSH_VALUE_KINDS.get(keyword);
  if (kind !== undefined) checkKind(kind, args, where, keyword, service);
}
