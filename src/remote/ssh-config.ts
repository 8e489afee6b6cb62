// ~/.ssh/config, as ssh would read it for a host. core/ssh-config.ts resolves (Host, Match, the
// first value wins, the final pass); this file is the edge: it reads the files, expands Include
// globs, runs Match exec with the user's shell, and expands the path options (~, ${VAR}, %-tokens)
// with this machine's home, user and host name.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { SvcError } from '../core/errors.js';
import {
  parseSshConfigText,
  pathTokens,
  resolveSshConfig,
  type ConfigLine,
  type SshConfigRequest,
} from '../core/ssh-config.js';
import { expandPath, expandTilde, type UserHome } from '../core/ssh-tokens.js';
import type { SshConfigEntry, SshConfigGiven, SshConfigLookup } from '../core/targets.js';
type Env = Readonly<Record<string, string | undefined>>;

/** The system-wide file ssh reads after the user's (Debian's includes ssh_config.d/*.conf). */
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

/** ssh's own directory: a relative Include in the system file is under it. */
const SYSTEM_SSH_DIR = '/etc/ssh';

export interface SshConfigOptions {
  /**
   * The config file, as ssh's -F: that file only, no system file. Default: ~/.ssh/config, then
   * `systemFile`, as ssh reads them without -F. A missing file is an empty config.
   */
  file?: string;
  /** The system-wide file read after ~/.ssh/config when `file` is not given; for tests. */
  systemFile?: string;
  home?: string;
  /** The local user name (%u, and the default remote user for %r). */
  localUser?: string;
  /** The local host name (%l, %L). */
  localHost?: string;
  /** For ${VAR} in IdentityFile. */
  env?: Env;
  /** `~user`'s home; default: the passwd database (passwdHome). */
  userHome?: UserHome;
}

function defaultLocalUser(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root';
  }
}

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

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new SvcError(`${file}: cannot read: ${(error as Error).message}`);
  }
}

/**
 * A tcp service's port from /etc/services, as getservbyname(3) finds it there (a name or an
 * alias): ssh's `Port ssh` is port 22. None when the file is missing.
 */
export function tcpServicePort(name: string, file = '/etc/services'): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [service, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
    if (match && (service === name || aliases.includes(name))) return Number(match[1]);
  }
  return undefined;
}

/**
 * A user's home from the passwd database, for ssh's `~user` (getpwnam(3)): getent asks NSS as
 * getpwnam does. getent also takes a uid, which getpwnam does not: only an entry of that name counts.
 */
export function passwdHome(name: string): string | undefined {
  // The own user's entry needs no process, nor getent (macOS has none): getpwuid's, as os.userInfo
  // reads it.
  const me = ownUser();
  if (me !== undefined && name === me.username) return me.homedir;
  const result = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 10_000 });
  // getent missing or hung is not "no such user": say so rather than blame the config.
  if (result.error)
    throw new SvcError(
      `cannot ask the passwd database (getent: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message})`,
    );
  const fields = result.status === 0 ? result.stdout.split('\n')[0]!.split(':') : [];
  return fields.length >= 7 && fields[0] === name ? fields[5] : undefined;
}

function ownUser(): { username: string; homedir: string } | undefined {
  try {
    return userInfo();
  } catch {
    return undefined; // a uid passwd does not know
  }
}

/** Match exec: the command through the user's shell, as ssh runs it; true when it exits 0. */
function runExec(command: string, env: Env): boolean {
  const shell = env.SHELL && isAbsolute(env.SHELL) ? env.SHELL : '/bin/sh';
  const result = spawnSync(shell, ['-c', command], {
    stdio: 'ignore',
    env: env as NodeJS.ProcessEnv,
    timeout: 30_000,
  });
  return result.status === 0;
}

/** StrictHostKeyChecking no, off, false or accept-new, as HostKeyPolicy.notStrict says it. */
function notStrict(
  set: { value: string; where: string } | undefined,
  home: string,
): { notStrict?: { value: string; where: string } } {
  if (set === undefined || ['yes', 'true', 'ask'].includes(set.value)) return {};
  const where = set.where.startsWith(`${home}/`) ? `~${set.where.slice(home.length)}` : set.where;
  return { notStrict: { value: set.value, where } };
}

/**
 * Reads the config once; the returned lookup resolves one host's settings. `given` is the user
 * and port that win over the config, as ssh's -l (or user@) and -p do.
 */
export function loadSshConfig(options: SshConfigOptions = {}): SshConfigLookup {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const file = options.file ?? join(home, '.ssh', 'config');
  const systemFile =
    options.file === undefined ? (options.systemFile ?? SYSTEM_SSH_CONFIG) : undefined;
  const localUser = options.localUser ?? defaultLocalUser(env);
  const localHost = options.localHost ?? hostname();
  // One passwd lookup (a getent process) per user name for the whole run, not one per path, per
  // pass and per host: ssh asks getpwnam once per path of one connection; svc resolves many.
  const askPasswd = options.userHome ?? passwdHome;
  const homes = new Map<string, string | undefined>();
  const userHome: UserHome = (name) => {
    if (!homes.has(name)) homes.set(name, askPasswd(name));
    return homes.get(name);
  };
  const texts = new Map<string, ConfigLine[]>();
  const lines = (path: string) => {
    let parsed = texts.get(path);
    if (!parsed) texts.set(path, (parsed = parseSshConfigText(readText(path), path)));
    return parsed;
  };
  const roots = [
    { lines: lines(file), user: true },
    ...(systemFile !== undefined ? [{ lines: lines(systemFile), user: false }] : []),
  ];
  const effects = {
    // Include: ~ is home, a relative path is under ~/.ssh (/etc/ssh in the system file),
    // wildcards expand, sorted. ~user is that user's home (ssh's glob GLOB_TILDE): a user the
    // passwd database does not know matches no file.
    include: (argument: string, from: string, user: boolean) => {
      const where = `${from}: Include ${argument}`;
      let expanded: string;
      try {
        expanded = expandTilde(argument, home, userHome, where);
      } catch (error) {
        // glob's GLOB_TILDE: a user passwd does not know matches no file. A passwd database svc
        // could not ask (getent missing) is said, not read as no file.
        const name = /^~([^/]*)/.exec(argument)![1]!;
        if (homes.has(name) && homes.get(name) === undefined) return [];
        throw error;
      }
      const path = isAbsolute(expanded)
        ? expanded
        : join(user ? join(home, '.ssh') : SYSTEM_SSH_DIR, expanded);
      return expandIncludePath(path).map((included) => ({
        file: included,
        text: readText(included),
      }));
    },
    exec: (command: string) => runExec(command, env),
    service: (name: string) => tcpServicePort(name),
  };

  return (host: string, given: SshConfigGiven = {}): SshConfigEntry => {
    const request: SshConfigRequest = {
      host,
      ...given,
      localUser,
      localHost,
      home,
      uid: String(process.getuid?.() ?? ''),
    };
    const settings = resolveSshConfig(roots, request, effects);
    const tokens = pathTokens(settings, request);
    // A message names the line that set the value (the file for a default).
    const where = (value: string, what: string) =>
      `${settings.pathWhere[`${what.toLowerCase()} ${value}`] ?? file}: ${what} ${value} (for ${host})`;
    const path = (value: string, what: string) =>
      expandPath(value, tokens, home, userHome, env, where(value, what));
    const identityFiles = [
      ...new Set(settings.identityFiles.map((value) => path(value, 'IdentityFile'))),
    ];
    const agent = settings.identityAgent;
    const identityAgent =
      agent === undefined
        ? undefined
        : agent.toLowerCase() === 'none'
          ? 'none'
          : agent === 'SSH_AUTH_SOCK'
            ? (env.SSH_AUTH_SOCK ?? 'none')
            : agent.startsWith('$')
              ? (env[agent.slice(1)] ?? 'none')
              : path(agent, 'IdentityAgent');
    return {
      hostName: settings.hostName,
      ...(settings.user !== undefined && settings.user !== given.user
        ? { user: settings.user }
        : {}),
      ...(settings.port !== undefined && given.port === undefined ? { port: settings.port } : {}),
      identityFiles,
      identityFilesConfigured: settings.identityFilesConfigured,
      ...(settings.proxyJump !== undefined ? { proxyJump: settings.proxyJump } : {}),
      identitiesOnly: settings.identitiesOnly,
      ...(identityAgent !== undefined ? { identityAgent } : {}),
      hostKeys: {
        userFiles: settings.userKnownHostsFiles.map((value) => path(value, 'UserKnownHostsFile')),
        // ssh expands only ~ in GlobalKnownHostsFile (no %-tokens, no ${VAR}): the same file.
        globalFiles: settings.globalKnownHostsFiles.map((value) =>
          expandTilde(value, home, userHome, where(value, 'GlobalKnownHostsFile')),
        ),
        ...(settings.hostKeyAlias !== undefined ? { alias: settings.hostKeyAlias } : {}),
        hash: settings.hashKnownHosts,
        ...(settings.revokedHostKeys !== undefined
          ? { revokedFile: path(settings.revokedHostKeys, 'RevokedHostKeys') }
          : {}),
        ...(settings.hostKeyAlgorithms !== undefined
          ? { algorithms: settings.hostKeyAlgorithms }
          : {}),
        ...notStrict(settings.strictHostKeyChecking, home),
        ...(settings.checkHostIp ? { checkHostIp: true } : {}),
      },
    };
  };
}
