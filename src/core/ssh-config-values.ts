// The values OpenSSH 9.2's readconf.c checks on every ssh_config line, also in a Host or Match
// block that does not apply: a bad one makes ssh (and ssh -G) refuse the whole config, so svc
// refuses it too, naming file:line, even for an option svc does not use. Each rule is readconf.c's
// parser for that keyword (parse_time, parse_int, parse_forward, ...), ported for its yes/no only;
// algorithm names are the exception (algorithmListShaped: a newer ssh knows more than 9.2).
// test/unit/ssh-config-values-table.test.ts asks the real `ssh -G` for every case.
import { SvcError } from './errors.js';
import { SSH_VALUE_KINDS, VALUE_WORDS, type ValueKind } from './ssh-config-value-kinds.js';
import {
  a2port,
  algorithmListShaped,
  convtime,
  dollarSyntaxValid,
  domainValid,
  escapeCharValid,
  forwardValid,
  hpdelim,
  INT_MAX,
  ipqosValid,
  scanScaled,
  strtonum,
  tunValid,
  type Service,
} from './ssh-config-value-parsers.js';

/** Says what is wrong with a line's value; ssh refuses the same line. */
function refuse(where: string, keyword: string, what: string): never {
  throw new SvcError(`${where}: ${keyword} ${what} (ssh refuses it too)`);
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
      if (!algorithmListShaped(value))
        bad(value, `names no algorithm (ssh -Q ${kind.query} lists them)`);
      return;
    }
    case 'list':
      checkNoneAlone(args, where, keyword, true);
      return;
    default:
      checkSpecial(kind.type, args, where, keyword, service);
  }
}

/** misc.c's StreamLocalBindMask: an octal mask (strtol base 8) from 0 to 0777. */
function bindMaskValid(value: string): boolean {
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-7]+)/.exec(value);
  if (match === null) return false;
  const mask = parseInt(match[2]!, 8);
  return mask <= 0o777 && (match[1] !== '-' || mask === 0);
}

/** The keywords of one value that one rule decides, and what the refusal says is wrong. */
const ONE_VALUE_RULES = new Map<string, { valid: (value: string) => boolean; what: string }>([
  ['escapechar', { valid: escapeCharValid, what: 'is not none, one character or ^ and a letter' }],
  ['streamlocalbindmask', { valid: bindMaskValid, what: 'is not an octal mask from 0 to 0777' }],
  ['tunneldevice', { valid: tunValid, what: 'is not a tun device (any, 0, local:remote)' }],
]);

/** The keywords with a parser of their own in readconf.c. */
function checkSpecial(
  type: string,
  args: readonly string[],
  where: string,
  keyword: string,
  service?: Service,
): void {
  const bad = (value: string, what: string) => refuse(where, keyword, `${value} ${what}`);
  const oneValue = ONE_VALUE_RULES.get(type);
  if (oneValue !== undefined) {
    const value = single(args, where, keyword);
    if (!oneValue.valid(value)) bad(value, oneValue.what);
    return;
  }
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
