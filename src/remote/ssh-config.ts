// ~/.ssh/config, as ssh would read it for a host: HostName, User, Port, IdentityFile, ProxyJump.
// The `ssh-config` package parses and computes (first obtained value wins, IdentityFile
// accumulates); this file reads the files, follows Include (the package does not), and expands
// IdentityFile's ~, ${VAR} and %-tokens as ssh does.
import SSHConfig, { type Line, type Section } from 'ssh-config';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { SvcError } from '../core/errors.js';
import type { SshConfigEntry, SshConfigGiven, SshConfigLookup } from '../core/targets.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface SshConfigOptions {
  /** The config file; default ~/.ssh/config. A missing file is an empty config. */
  file?: string;
  home?: string;
  /** The local user name (%u, and the default remote user for %r). */
  localUser?: string;
  /** The local host name (%l, %L). */
  localHost?: string;
  /** For ${VAR} in IdentityFile. */
  env?: Env;
}

/** OpenSSH's limit on nested Include. */
const MAX_INCLUDE_DEPTH = 16;

function defaultLocalUser(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root';
  }
}

const isDirective = (line: Line): line is Extract<Line, { param: string }> =>
  line.type === SSHConfig.DIRECTIVE;

function values(line: Line): string[] {
  if (!isDirective(line)) return [];
  return typeof line.value === 'string' ? [line.value] : line.value.map(({ val }) => val);
}
const isSection = (line: Line): line is Section => isDirective(line) && 'config' in line;
const isInclude = (line: Line) => isDirective(line) && /^include$/i.test(line.param);

/** A glob(3) pattern for one path component: `*`, `?`, `[...]`; dot files only if asked for. */
function componentMatcher(pattern: string): (name: string) => boolean {
  const source = pattern.replace(/\[[^\]]*\]|[*?]|[^*?[]+/g, (part) =>
    part === '*'
      ? '[^/]*'
      : part === '?'
        ? '[^/]'
        : part.startsWith('[')
          ? part.replace(/^\[!/, '[^')
          : part.replace(/[.+^${}()|\\]/g, '\\$&'),
  );
  const regex = new RegExp(`^${source}$`);
  return (name) => (name.startsWith('.') ? pattern.startsWith('.') : true) && regex.test(name);
}

/** The files an Include path names, sorted as glob(3) sorts them; none if nothing matches. */
function expandIncludePath(path: string): string[] {
  const parts = path.split('/').filter((part, index) => part !== '' || index === 0);
  let found = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(parts[0] === '' ? 1 : 0)) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => join(dir, part));
      continue;
    }
    const matches = componentMatcher(part);
    found = found.flatMap((dir) => {
      try {
        return readdirSync(dir)
          .filter(matches)
          .sort()
          .map((name) => join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return found.filter((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

class ConfigFiles {
  private readonly parsed = new Map<string, SSHConfig>();
  constructor(private readonly home: string) {}

  read(file: string): SSHConfig {
    let config = this.parsed.get(file);
    if (config) return config;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') text = '';
      else throw new SvcError(`${file}: cannot read: ${(error as Error).message}`);
    }
    try {
      config = SSHConfig.parse(text);
    } catch (error) {
      throw new SvcError(`${file}: cannot parse: ${(error as Error).message}`);
    }
    this.parsed.set(file, config);
    return config;
  }

  /** Include's arguments: ~ is home, a relative path is under ~/.ssh, wildcards expand. */
  included(line: Line): string[] {
    return values(line).flatMap((path) => {
      const expanded = path === '~' || path.startsWith('~/') ? this.home + path.slice(1) : path;
      return expandIncludePath(isAbsolute(expanded) ? expanded : join(this.home, '.ssh', expanded));
    });
  }
}

/**
 * OpenSSH's Host matching: case-sensitive, `*` any run, `?` exactly one character, and a matching
 * negated pattern rules the block out. (The package's own matcher takes `?` as "at most one".)
 */
function hostBlockMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const source = body.replace(/[*?]|[^*?]+/g, (part) =>
      part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    );
    if (!new RegExp(`^${source}$`, 's').test(host)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/**
 * The config as one flat list for `host`: Host blocks are decided here (those that do not match
 * are left out, those that do become `Host *`), and every Include is replaced by what it
 * includes. An Include inside a Host block only counts when the block matches (ssh reads the
 * file with its Host lines unable to match otherwise); its top-level lines join the block, its own
 * Host and Match blocks follow, and the rest of the outer block continues after them.
 */
function flatten(
  config: SSHConfig,
  host: string,
  files: ConfigFiles,
  file: string,
  depth: number,
): Line[] {
  if (depth > MAX_INCLUDE_DEPTH) throw new SvcError(`${file}: Include nested too deeply`);
  const includedLines = (line: Line) =>
    files
      .included(line)
      .flatMap((included) => flatten(files.read(included), host, files, included, depth + 1));
  const out: Line[] = [];
  for (const line of config) {
    if (!isSection(line)) {
      if (isInclude(line)) out.push(...includedLines(line));
      else out.push(line);
      continue;
    }
    const isHost = /^host$/i.test(line.param);
    if (isHost && !hostBlockMatches(values(line), host)) continue;
    const part = (): Section => ({
      ...line,
      ...(isHost ? { value: '*' } : {}),
      config: new SSHConfig(),
    });
    let current = part();
    out.push(current);
    for (const sub of line.config) {
      if (!isInclude(sub)) {
        current.config.push(sub);
        continue;
      }
      if (!isHost) {
        throw new SvcError(`${file}: Include inside a Match block is not supported by svc`);
      }
      for (const included of includedLines(sub)) {
        if (isSection(included)) {
          out.push(included);
          current = part();
          out.push(current);
        } else current.config.push(included);
      }
    }
  }
  return out;
}

function asString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** OpenSSH's percent_expand: every %x must be known; %% is a %. */
function percentExpand(text: string, tokens: Record<string, string>, what: string): string {
  return text.replace(/%(.?)/g, (_, key: string) => {
    const value = key === '%' ? '%' : tokens[key];
    if (value === undefined) throw new SvcError(`${what}: unknown or unsupported token %${key}`);
    return value;
  });
}

function dollarExpand(text: string, env: Env, what: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new SvcError(`${what}: environment variable ${name} is not set`);
    return value;
  });
}

/**
 * Reads the config (and what it includes) once; the returned lookup computes one host's settings.
 * `given` is the user and port that win over the config, as ssh's -l and -p do.
 */
export function loadSshConfig(options: SshConfigOptions = {}): SshConfigLookup {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const file = options.file ?? join(home, '.ssh', 'config');
  const localUser = options.localUser ?? defaultLocalUser(env);
  const localHost = options.localHost ?? hostname();
  const files = new ConfigFiles(home);
  const root = files.read(file);

  return (host: string, given: SshConfigGiven = {}): SshConfigEntry => {
    const config = new SSHConfig();
    config.push(...flatten(root, host, files, file, 0));
    // Match exec would run shell commands from the config just to list hosts; svc skips it.
    const computeOptions = { ignoreCase: true, matchExec: false };
    const own = config.compute(host, computeOptions);
    const computed =
      given.user === undefined
        ? own
        : config.compute({ Host: host, User: given.user }, computeOptions);

    const hostNameValue = asString(computed.hostname);
    const hostName = (
      hostNameValue === undefined
        ? host
        : percentExpand(hostNameValue, { h: host }, `${file}: HostName for ${host}`)
    ).toLowerCase();
    const user = asString(own.user);
    const portValue = asString(computed.port);
    let port: number | undefined;
    if (portValue !== undefined) {
      port = /^\d{1,5}$/.test(portValue) ? Number(portValue) : 0;
      if (port < 1 || port > 65535) {
        throw new SvcError(`${file}: Port ${portValue} (for ${host}) is not a port number`);
      }
    }
    const proxyJumpValue = asString(computed.proxyjump);
    const proxyJump =
      proxyJumpValue === undefined || proxyJumpValue.toLowerCase() === 'none'
        ? undefined
        : proxyJumpValue;

    const tokens: Record<string, string> = {
      d: home,
      h: hostName,
      i: String(process.getuid?.() ?? ''),
      L: localHost.split('.')[0]!,
      l: localHost,
      n: host,
      p: String(given.port ?? port ?? 22),
      r: given.user ?? user ?? localUser,
      u: localUser,
    };
    const identityValues = computed.identityfile;
    const identityFiles = [
      ...new Set(
        (Array.isArray(identityValues)
          ? identityValues
          : identityValues
            ? [identityValues]
            : []
        ).map((path) => {
          const what = `${file}: IdentityFile ${path}`;
          const tilde = path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
          return percentExpand(dollarExpand(tilde, env, what), tokens, what);
        }),
      ),
    ];
    return {
      hostName,
      ...(user !== undefined ? { user } : {}),
      ...(port !== undefined ? { port } : {}),
      identityFiles,
      ...(proxyJump !== undefined ? { proxyJump } : {}),
    };
  };
}
