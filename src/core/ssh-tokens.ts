// OpenSSH's expansions of ssh_config values: %-tokens (percent_expand), ~ and ${VAR}. %C is
// OpenSSH 9.2's connection hash, SHA-1 of %l%h%p%r in hex.
import { createHash } from 'node:crypto';
import { SvcError } from './errors.js';

export type SshTokens = Partial<
  Record<'d' | 'h' | 'i' | 'k' | 'L' | 'l' | 'n' | 'p' | 'r' | 'u', string>
> & {
  /** Names the value in error messages. */
  what?: string;
};

type Env = Readonly<Record<string, string | undefined>>;

/** percent_expand: every %x must be a known token; %% is a %. */
export function expandTokens(text: string, tokens: SshTokens, what: string): string {
  return text.replace(/%(.?)/g, (_, key: string) => {
    if (key === '%') return '%';
    if (key === 'C' && tokens.l !== undefined && tokens.h !== undefined) {
      return createHash('sha1')
        .update(`${tokens.l}${tokens.h}${tokens.p ?? ''}${tokens.r ?? ''}`)
        .digest('hex');
    }
    const value = key === 'what' ? undefined : tokens[key as keyof SshTokens];
    if (value === undefined) throw new SvcError(`${what}: unknown or unsupported token %${key}`);
    return value;
  });
}

/** ${VAR} from the environment; an unset variable is an error, as in OpenSSH. */
export function expandEnv(text: string, env: Env, what: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new SvcError(`${what}: environment variable ${name} is not set`);
    return value;
  });
}

/** A user's home directory from the passwd database (getpwnam); undefined: no such user. */
export type UserHome = (name: string) => string | undefined;

/**
 * misc.c tilde_expand: `~` and `~/path` are the home, `~user` and `~user/path` that user's passwd
 * home; the home gets one trailing `/` and the path loses its leading ones (`~` is `/home/me/`). A
 * user the passwd database does not know is an error, as ssh's "No such user".
 */
export function expandTilde(path: string, home: string, userHome: UserHome, what: string): string {
  if (!path.startsWith('~')) return path;
  const slash = path.indexOf('/');
  const name = path.slice(1, slash < 0 ? undefined : slash);
  const rest = slash < 0 ? '' : path.slice(slash).replace(/^\/+/, '');
  let dir: string | undefined;
  try {
    dir = name === '' ? home : userHome(name);
  } catch (error) {
    // The passwd database could not be asked (getent missing or hung): name the path too.
    throw new SvcError(`${what}: ~${name}: ${(error as Error).message}`);
  }
  if (dir === undefined)
    throw new SvcError(`${what}: ~${name}: no such user in the passwd database`);
  return `${dir.endsWith('/') ? dir : `${dir}/`}${rest}`;
}

/** A path option (IdentityFile, UserKnownHostsFile, IdentityAgent): ~, then ${VAR}, then %. */
export function expandPath(
  path: string,
  tokens: SshTokens,
  home: string,
  userHome: UserHome,
  env: Env,
  what: string,
) {
  return expandTokens(expandEnv(expandTilde(path, home, userHome, what), env, what), tokens, what);
}
