// ssh_config(5) resolved as OpenSSH 9.2's readconf.c and ssh.c resolve it: Host and Match blocks
// (host, originalhost, user, localuser, canonical, final, exec, all, each negatable), the first
// value obtained wins, IdentityFile accumulates, and a second pass over the files when a
// `Match final` was seen or CanonicalizeHostname is on. Pure: files come in as text, and the two
// effects a config can ask for (reading an Include, running a Match exec) are callbacks.
// test/reliability/ssh-differential.test.ts holds this to `ssh -G`.
import { SvcError } from './errors.js';
import { jumpHopTarget, jumpHops, sshPort } from './proxy-jump.js';
import {
  NEWER_SSH_KEYWORDS,
  SSH_CONFIG_KEYWORDS,
  SSH_CONFIG_WORDS,
} from './ssh-config-keywords.js';
import { checkSshValue } from './ssh-config-values.js';
import { expandTokens, type SshTokens } from './ssh-tokens.js';

export interface ConfigLine {
  /** The keyword, lower case. */
  keyword: string;
  args: string[];
  /** Nothing at all after the keyword (not even a comment): ssh refuses that for any keyword. */
  bare?: boolean;
  file: string;
  line: number;
}

/** One config file ssh reads for a host: ~/.ssh/config (or -F's file), then /etc/ssh/ssh_config. */
export interface ConfigSource {
  lines: readonly ConfigLine[];
  /** ssh's SSHCONF_USERCONF: a relative Include is under ~/.ssh (else under /etc/ssh). */
  user: boolean;
}

export interface SshConfigEffects {
  /** The files an Include argument names (already globbed and sorted), with their text. */
  include(argument: string, from: string, user: boolean): { file: string; text: string }[];
  /** Runs a Match exec command (already %-expanded) with the user's shell; true on exit 0. */
  exec(command: string): boolean;
  /** A tcp service's port, as getservbyname(3) has it (ssh takes `Port ssh`); absent: none. */
  service?: (name: string) => number | undefined;
}

export interface SshConfigRequest {
  /** The host as given on the command line (OpenSSH's host_arg, %n). */
  host: string;
  /** A user and port given explicitly (-l, user@, -p): set before the config, so they win. */
  user?: string;
  port?: number;
  localUser: string;
  /** For %l / %L. */
  localHost: string;
  home: string;
  uid: string;
}

/** What the config says, before the path options are expanded (ssh -G prints IdentityFile so). */
export interface SshSettings {
  hostName: string;
  /** Given or configured; absent means the local user. */
  user?: string;
  /** Given or configured; absent means 22. */
  port?: number;
  proxyJump?: string;
  /** Raw IdentityFile values, in order, duplicates dropped; OpenSSH's defaults when none. */
  identityFiles: string[];
  identityFilesConfigured: boolean;
  identitiesOnly: boolean;
  identityAgent?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  hashKnownHosts: boolean;
  revokedHostKeys?: string;
  hostKeyAlgorithms?: string;
  /** StrictHostKeyChecking as first set, lower case, with its file:line. */
  strictHostKeyChecking?: { value: string; where: string };
  /** CheckHostIP (default no since OpenSSH 8.5). */
  checkHostIp: boolean;
  /**
   * Where each path value was set, `keyword value` -> file:line: a path that cannot be expanded
   * (`~nosuchuser/x`) is refused naming its line, as ssh only refuses it when it expands it.
   */
  pathWhere: Record<string, string>;
}

/** The path keywords whose values svc expands, for SshSettings.pathWhere. */
const PATH_KEYWORDS = new Set([
  'identityfile',
  'identityagent',
  'userknownhostsfile',
  'globalknownhostsfile',
  'revokedhostkeys',
]);

export const DEFAULT_IDENTITY_FILES = [
  '~/.ssh/id_rsa',
  '~/.ssh/id_ecdsa',
  '~/.ssh/id_ecdsa_sk',
  '~/.ssh/id_ed25519',
  '~/.ssh/id_ed25519_sk',
  '~/.ssh/id_xmss',
  '~/.ssh/id_dsa',
];
export const DEFAULT_USER_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
const MAX_INCLUDE_DEPTH = 16;

/** OpenSSH's argv_split: whitespace separates, quotes group, a backslash escapes, # ends. */
function splitArgs(text: string, where: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[ \t]/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let arg = '';
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote === undefined && /[ \t]/.test(c)) break;
      if (c === '\\' && i + 1 < text.length && /["'\\ \t]/.test(text[i + 1]!)) arg += text[++i];
      else if (quote === undefined && (c === '"' || c === "'")) quote = c;
      else if (c === quote) quote = undefined;
      else arg += c;
    }
    if (quote !== undefined) throw new SvcError(`${where}: unterminated quote`);
    args.push(arg);
  }
  return args;
}

/** The lines of one config file: keyword (before whitespace or `=`) and its arguments. */
export function parseSshConfigText(text: string, file: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    // ssh's whitespace only (space, tab, CR; a form feed too at the end): a byte order mark or a
    // no-break space is part of the keyword, which ssh then refuses as unknown.
    const content = raw.replace(/^[ \t\r]+/, '').replace(/[ \t\r\f]+$/, '');
    if (content === '' || content.startsWith('#')) return;
    const match = /^([^ \t\r=]+)[ \t\r]*(?:=[ \t\r]*)?(.*)$/.exec(content)!;
    const where = `${file}:${index + 1}`;
    lines.push({
      keyword: match[1]!.toLowerCase(),
      args: splitArgs(match[2]!, where),
      ...(match[2] === '' ? { bare: true } : {}),
      file,
      line: index + 1,
    });
  });
  return lines;
}

/** OpenSSH's match_pattern: `*` any run, `?` exactly one character; case as given. */
export function matchPattern(text: string, pattern: string): boolean {
  const source = pattern.replace(/[*?]|[^*?]+/g, (part) =>
    part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'),
  );
  return new RegExp(`^${source}$`, 's').test(text);
}

/** OpenSSH's match_pattern_list == 1: some pattern matches and no negated one does. */
export function matchPatternList(text: string, list: string, lower: boolean): boolean {
  const subject = lower ? text.toLowerCase() : text;
  let matched = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = lower ? raw.slice(negated ? 1 : 0).toLowerCase() : raw.slice(negated ? 1 : 0);
    if (!matchPattern(subject, pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Match attributes OpenSSH added after 9.2 whose answer svc has no way to know. */
const NEWER_MATCH_ATTRIBUTES = new Set(['localnetwork', 'version', 'sessiontype', 'command']);

interface State {
  hostName?: string;
  user?: string;
  port?: number;
  proxyJump?: string;
  /** ProxyCommand / KnownHostsCommand as first set, with where, to refuse them by name. */
  proxyCommand?: { value: string; where: string };
  knownHostsCommand?: { value: string; where: string };
  ignoreUnknown?: string;
  /** Tag (OpenSSH 9.4): what `Match tagged` is asked about. */
  tag?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  hashKnownHosts?: boolean;
  revokedHostKeys?: string;
  hostKeyAlgorithms?: string;
  strictHostKeyChecking?: { value: string; where: string };
  checkHostIp?: boolean;
  canonicalize?: boolean;
  /** ssh.c refuses a ConnectionAttempts of 0 it would use (naming no line); svc names it. */
  connectionAttempts?: { value: number; where: string };
  pathWhere: Record<string, string>;
}

interface Pass {
  request: SshConfigRequest;
  effects: SshConfigEffects;
  /** The name Host lines match: host_arg on the first pass, the HostName on the final one. */
  host: string;
  final: boolean;
  wantFinal: boolean;
}

function yesNo(line: ConfigLine): boolean {
  const value = line.args[0]?.toLowerCase();
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new SvcError(`${line.file}:${line.line}: ${line.keyword} must be yes or no`);
}

function portNumber(text: string, where: string, effects: SshConfigEffects): number {
  const port = sshPort(text, effects.service);
  if (port === undefined)
    throw new SvcError(`${where}: Port ${text} is not a port number or tcp service name`);
  return port;
}

/** Evaluates a Match line as match_cfg_line does (no short cut except before exec). */
function matchLine(line: ConfigLine, state: State, pass: Pass): boolean {
  const where = `${line.file}:${line.line}`;
  const { request } = pass;
  const host = pass.final
    ? state.hostName!
    : state.hostName !== undefined
      ? expandTokens(state.hostName, { h: request.host }, `${where}: HostName`)
      : request.host;
  const user = state.user ?? request.localUser;
  let result = true;
  let attributes = 0;
  const args = [...line.args];
  while (args.length > 0) {
    const raw = args.shift()!;
    const negate = raw.startsWith('!');
    const attribute = (negate ? raw.slice(1) : raw).toLowerCase();
    if (attribute === 'all') {
      if (attributes > 1 || args.length > 0)
        throw new SvcError(`${where}: Match all cannot be combined with other attributes`);
      return result && !negate;
    }
    attributes++;
    const judge = (matched: boolean) => {
      if (matched === negate) result = false;
    };
    if (attribute === 'canonical' || attribute === 'final') {
      if (attribute === 'final') pass.wantFinal = true;
      judge(pass.final);
      continue;
    }
    const criteria = args.shift();
    if (criteria === undefined) throw new SvcError(`${where}: Match ${attribute} needs a value`);
    switch (attribute) {
      case 'host':
        judge(matchPatternList(host, criteria, true));
        break;
      case 'originalhost':
        judge(matchPatternList(request.host, criteria, true));
        break;
      case 'user':
        judge(matchPatternList(user, criteria, false));
        break;
      case 'localuser':
        judge(matchPatternList(request.localUser, criteria, false));
        break;
      case 'exec': {
        if (!result) break; // OpenSSH skips the command once an earlier criterion failed
        const tokens = settingTokens(state, request, host, `${where}: Match exec`);
        judge(pass.effects.exec(expandTokens(criteria, tokens, `${where}: Match exec`)));
        break;
      }
      case 'tagged':
        // readconf.c (9.4 on): no Tag matches only an empty pattern.
        judge(state.tag ? matchPatternList(state.tag, criteria, false) : criteria === '');
        break;
      default:
        throw new SvcError(
          NEWER_MATCH_ATTRIBUTES.has(attribute)
            ? `${where}: Match ${attribute} (a newer OpenSSH's) is one svc cannot evaluate; name the hosts svc deploys to with Host or Match host`
            : `${where}: unsupported Match attribute ${attribute}`,
        );
    }
  }
  if (attributes === 0) throw new SvcError(`${where}: Match needs at least one attribute`);
  return result;
}

/** Keywords svc applies whose empty argument ssh rejects ("Missing argument"), active or not. */
const NEEDS_ARGUMENT = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'hostkeyalias',
  'hashknownhosts',
  'revokedhostkeys',
  'hostkeyalgorithms',
  'canonicalizehostname',
  'ignoreunknown',
]);

/** Keywords svc knows to take exactly one value: ssh refuses a second ("extra arguments"). */
const ONE_VALUE = new Set([
  ...NEEDS_ARGUMENT,
  'stricthostkeychecking',
  'checkhostip',
  'certificatefile',
]);

/**
 * What ssh checks on every line, in a matching block or not: the keyword exists (or IgnoreUnknown,
 * as set by an earlier line, names it), and its value is one readconf.c takes.
 */
function checkLine(line: ConfigLine, state: State, effects: SshConfigEffects): void {
  const where = `${line.file}:${line.line}`;
  if (
    !SSH_CONFIG_KEYWORDS.has(line.keyword) &&
    !NEWER_SSH_KEYWORDS.has(line.keyword) &&
    !(
      state.ignoreUnknown !== undefined && matchPatternList(line.keyword, state.ignoreUnknown, true)
    )
  ) {
    throw new SvcError(
      `${where}: Bad configuration option ${line.keyword} (ssh refuses it too; IgnoreUnknown lists keywords to skip)`,
    );
  }
  checkUsedValue(line, where, effects);
  // readconf.c parses every value before it looks whether the block applies.
  checkSshValue(line.keyword, line.args, line.bare === true, where, effects.service);
}

/** The values of the options svc uses, with the messages svc has always given for them. */
function checkUsedValue(line: ConfigLine, where: string, effects: SshConfigEffects): void {
  const first = line.args[0];
  if (NEEDS_ARGUMENT.has(line.keyword) && (first === undefined || first === ''))
    throw new SvcError(`${where}: ${line.keyword} needs a value`);
  if (line.keyword === 'host' && (line.args.length === 0 || line.args.includes('')))
    throw new SvcError(`${where}: Host needs a pattern (ssh refuses an empty one)`);
  if (first === undefined) return;
  if (ONE_VALUE.has(line.keyword) && line.args.length > 1)
    throw new SvcError(
      `${where}: ${line.keyword} takes one value, not ${line.args.length} (quote a value with spaces)`,
    );
  if (line.keyword === 'port') portNumber(first, where, effects);
  if (['identitiesonly', 'hashknownhosts', 'checkhostip'].includes(line.keyword)) yesNo(line);
  const words = SSH_CONFIG_WORDS.get(line.keyword);
  if (words !== undefined && !words.includes(first.toLowerCase()))
    throw new SvcError(
      `${where}: ${line.keyword} ${first} is not one of ${words.join(', ')} (ssh refuses it too)`,
    );
  if (line.keyword === 'proxyjump' && first.toLowerCase() !== 'none')
    for (const hop of jumpHops(first)) {
      if (hop === '') throw new SvcError(`${where}: ProxyJump ${first} has an empty hop`);
      jumpHopTarget(hop, where, effects.service);
    }
}

/** Applies one option line; the first value obtained wins. */
function apply(line: ConfigLine, state: State, effects: SshConfigEffects): void {
  const where = `${line.file}:${line.line}`;
  const first = line.args[0];
  // checkLine refused every line ssh refuses; no value left is an ignored unknown keyword or one
  // ssh takes empty (`UserKnownHostsFile # later`), which sets nothing.
  if (first === undefined) return;
  if (PATH_KEYWORDS.has(line.keyword))
    for (const arg of line.args) state.pathWhere[`${line.keyword} ${arg}`] ??= where;
  switch (line.keyword) {
    case 'hostname':
      state.hostName ??= first;
      break;
    case 'user':
      state.user ??= first;
      break;
    case 'port':
      state.port ??= portNumber(first, where, effects);
      break;
    case 'proxyjump':
      // readconf.c: ProxyJump and ProxyCommand exclude each other; the first one set wins.
      if (state.proxyCommand === undefined) state.proxyJump ??= first;
      break;
    case 'proxycommand':
      if (state.proxyJump === undefined)
        state.proxyCommand ??= { value: line.args.join(' '), where };
      break;
    case 'knownhostscommand':
      state.knownHostsCommand ??= { value: line.args.join(' '), where };
      break;
    case 'ignoreunknown':
      state.ignoreUnknown ??= first;
      break;
    case 'tag':
      state.tag ??= first;
      break;
    case 'identityfile':
      if (!state.identityFiles.includes(first)) state.identityFiles.push(first);
      break;
    case 'identitiesonly':
      state.identitiesOnly ??= yesNo(line);
      break;
    case 'identityagent':
      state.identityAgent ??= first;
      break;
    case 'userknownhostsfile':
      state.userKnownHostsFiles ??= first.toLowerCase() === 'none' ? [] : [...line.args];
      break;
    case 'globalknownhostsfile':
      state.globalKnownHostsFiles ??= first.toLowerCase() === 'none' ? [] : [...line.args];
      break;
    case 'hostkeyalias':
      state.hostKeyAlias ??= first.toLowerCase();
      break;
    case 'hashknownhosts':
      state.hashKnownHosts ??= yesNo(line);
      break;
    case 'revokedhostkeys':
      state.revokedHostKeys ??= first;
      break;
    case 'hostkeyalgorithms':
      state.hostKeyAlgorithms ??= first;
      break;
    case 'checkhostip':
      state.checkHostIp ??= yesNo(line);
      break;
    case 'connectionattempts':
      state.connectionAttempts ??= { value: Number(first), where };
      break;
    case 'stricthostkeychecking':
      state.strictHostKeyChecking ??= { value: first.toLowerCase(), where };
      break;
    case 'canonicalizehostname':
      // yes, true and always canonicalize (and bring the second pass); no and false do not.
      state.canonicalize ??= !['no', 'false'].includes(first.toLowerCase());
      break;
  }
}

function readLines(
  lines: readonly ConfigLine[],
  state: State,
  pass: Pass,
  active: boolean,
  neverMatch: boolean,
  depth: number,
  user: boolean,
): void {
  for (const line of lines) {
    checkLine(line, state, pass.effects);
    if (line.keyword === 'host') {
      active = false;
      if (neverMatch) continue;
      for (const arg of line.args) {
        const negated = arg.startsWith('!');
        if (!matchPattern(pass.host, negated ? arg.slice(1) : arg)) continue;
        if (negated) {
          active = false;
          break;
        }
        active = true;
      }
    } else if (line.keyword === 'match') {
      const matched = matchLine(line, state, pass);
      active = neverMatch ? false : matched;
    } else if (line.keyword === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH)
        throw new SvcError(`${line.file}:${line.line}: Include nested too deeply`);
      for (const argument of line.args) {
        for (const { file, text } of pass.effects.include(argument, line.file, user)) {
          const included = parseSshConfigText(text, file);
          readLines(included, state, pass, active, neverMatch || !active, depth + 1, user);
        }
      }
    } else if (active) apply(line, state, pass.effects);
  }
}

function settingTokens(
  state: State,
  request: SshConfigRequest,
  hostName: string,
  what: string,
): SshTokens {
  return {
    d: request.home,
    h: hostName,
    i: request.uid,
    k: state.hostKeyAlias ?? hostName,
    L: request.localHost.split('.')[0]!,
    l: request.localHost,
    n: request.host,
    p: String(request.port ?? state.port ?? 22),
    r: request.user ?? state.user ?? request.localUser,
    u: request.localUser,
    what,
  };
}

/**
 * The settings for one host from the config files' lines, read in order, each starting outside
 * any Host block (see SshConfigEffects for Include). A plain list of lines is one user file.
 */
export function resolveSshConfig(
  sources: readonly ConfigLine[] | readonly ConfigSource[],
  request: SshConfigRequest,
  effects: SshConfigEffects,
): SshSettings {
  const roots: readonly ConfigSource[] =
    sources.length > 0 && 'lines' in sources[0]!
      ? (sources as readonly ConfigSource[])
      : [{ lines: sources as readonly ConfigLine[], user: true }];
  const readAll = (pass: Pass) => {
    for (const root of roots) readLines(root.lines, state, pass, true, false, 0, root.user);
  };
  const state: State = {
    identityFiles: [],
    pathWhere: {},
    ...(request.user !== undefined ? { user: request.user } : {}),
    ...(request.port !== undefined ? { port: request.port } : {}),
  };
  const pass: Pass = { request, effects, host: request.host, final: false, wantFinal: false };
  readAll(pass);
  // ssh.c: the HostName (with %h) replaces the host, lower-cased, before the final pass.
  const hostName = (
    state.hostName === undefined
      ? request.host
      : expandTokens(state.hostName, { h: request.host }, `HostName for ${request.host}`)
  ).toLowerCase();
  state.hostName = hostName;
  if (pass.wantFinal || state.canonicalize) {
    readAll({ ...pass, host: hostName, final: true });
  }
  // svc connects with ssh2 directly (or through ProxyJump) and reads known_hosts itself: a
  // ProxyCommand or KnownHostsCommand it ignored would mean another route or another key source.
  for (const [name, set] of [
    ['ProxyCommand', state.proxyCommand],
    ['KnownHostsCommand', state.knownHostsCommand],
  ] as const) {
    if (set !== undefined && set.value.toLowerCase() !== 'none')
      throw new SvcError(
        `${set.where}: ${name} is set for ${request.host}, and svc does not support ${name}${name === 'ProxyCommand' ? ' (ProxyJump it does)' : ''}: refusing rather than connect another way`,
      );
  }
  if (state.connectionAttempts?.value === 0)
    throw new SvcError(
      `${state.connectionAttempts.where}: ConnectionAttempts 0 is set for ${request.host}: it must be at least 1 (ssh refuses it too)`,
    );
  // ssh keeps the last hop parsed (an ssh:// URI as user@host:port), the hops before it as written.
  const hops = state.proxyJump === undefined ? [] : jumpHops(state.proxyJump);
  const proxyJump =
    state.proxyJump === undefined || state.proxyJump.toLowerCase() === 'none'
      ? undefined
      : [...hops.slice(0, -1), jumpHopTarget(hops.at(-1)!, 'ProxyJump', effects.service)].join(',');
  const configured = state.identityFiles.length > 0;
  return {
    hostName,
    ...(state.user !== undefined ? { user: state.user } : {}),
    ...(state.port !== undefined ? { port: state.port } : {}),
    ...(proxyJump !== undefined ? { proxyJump } : {}),
    identityFiles: configured ? state.identityFiles : [...DEFAULT_IDENTITY_FILES],
    identityFilesConfigured: configured,
    identitiesOnly: state.identitiesOnly ?? false,
    ...(state.identityAgent !== undefined ? { identityAgent: state.identityAgent } : {}),
    userKnownHostsFiles: state.userKnownHostsFiles ?? [...DEFAULT_USER_KNOWN_HOSTS],
    globalKnownHostsFiles: state.globalKnownHostsFiles ?? [...DEFAULT_GLOBAL_KNOWN_HOSTS],
    ...(state.hostKeyAlias !== undefined ? { hostKeyAlias: state.hostKeyAlias } : {}),
    hashKnownHosts: state.hashKnownHosts ?? false,
    // ssh.c clears RevokedHostKeys none (first value wins, so a later file name stays unused).
    ...(state.revokedHostKeys !== undefined && state.revokedHostKeys.toLowerCase() !== 'none'
      ? { revokedHostKeys: state.revokedHostKeys }
      : {}),
    ...(state.hostKeyAlgorithms !== undefined
      ? { hostKeyAlgorithms: state.hostKeyAlgorithms }
      : {}),
    ...(state.strictHostKeyChecking !== undefined
      ? { strictHostKeyChecking: state.strictHostKeyChecking }
      : {}),
    checkHostIp: state.checkHostIp ?? false,
    pathWhere: state.pathWhere,
  };
}

/** The %-tokens of the resolved settings (for IdentityFile, UserKnownHostsFile, ...). */
export function pathTokens(settings: SshSettings, request: SshConfigRequest): SshTokens {
  return {
    ...settingTokens(
      {
        identityFiles: [],
        pathWhere: {},
        ...(settings.hostKeyAlias !== undefined ? { hostKeyAlias: settings.hostKeyAlias } : {}),
      },
      {
        ...request,
        user: settings.user ?? request.localUser,
        port: settings.port ?? 22,
      },
      settings.hostName,
      'path',
    ),
  };
}
