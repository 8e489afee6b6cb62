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

/** A leading ~ or ~/ is the home directory. */
export function expandTilde(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
}

/** A path option (IdentityFile, UserKnownHostsFile, IdentityAgent): ~, then ${VAR}, then %. */
export function expandPath(path: string, tokens: SshTokens, home: string, env: Env, what: string) {
  return expandTokens(expandEnv(expandTilde(path, home), env, what), tokens, what);
}
