// Resolving secrets on the deployer's machine, before any host is contacted: for each key of
// svc.yaml `secrets:`, in order, (1) svc's own environment, (2) .svc/secrets/ENV (yours, 0600),
// (3) svc.yaml `secretsCommand`, run without a shell. Every problem is collected and raised as
// one SvcError, one line per key, none with a value in it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError, SvcError } from '../core/errors.js';
import type { Manifest } from '../core/manifest.js';
import type { EnvironmentInput } from '../core/env-file.js';
import { environmentValues } from '../core/environments.js';
import { refuseTrackedSecretsFile } from './secrets-tracked.js';
import {
  commandFailure,
  commandValue,
  decodeSecretsFile,
  MAX_SECRETS_FILE_BYTES,
  missingSecretLine,
  parseSecretsFile,
  secretFromEnvironment,
  secretVariables,
  secretsCommandArgv,
  secretsFilePath,
  secretsFileRefusal,
  secretValueProblem,
  type SecretSource,
} from '../core/secrets.js';
import { runSecretsCommand } from './secrets-command.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ResolvedSecret {
  key: string;
  source: SecretSource;
  /** Where it came from, for `svc secrets` and the plan: `$DB_PASSWORD__STAGING`, `.svc/secrets/staging`, ... */
  where: string;
  value: string;
}

/** The file's values, `missing` when there is none; refused files throw (one line). */
function readSecretsFile(dir: string, shown: string): Map<string, string> | 'missing' {
  let fd: number;
  try {
    // O_NOFOLLOW: the file itself is checked, never what a link there points to.
    fd = openSync(
      join(dir, shown),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ELOOP')
      throw new SvcError(`${shown}: is a symbolic link; secrets are read from a regular file only`);
    throw new SvcError(`${shown}: cannot be read (${code ?? 'error'})`);
  }
  try {
    const stat = fstatSync(fd);
    const refusal = secretsFileRefusal(
      shown,
      { isFile: stat.isFile(), mode: stat.mode, uid: stat.uid },
      process.getuid?.() ?? stat.uid,
    );
    if (refusal !== undefined) throw new SvcError(refusal);
    if (stat.size > MAX_SECRETS_FILE_BYTES)
      throw new SvcError(`${shown}: larger than ${MAX_SECRETS_FILE_BYTES / 1024} KiB`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return parseSecretsFile(decodeSecretsFile(buffer.subarray(0, read), shown), shown);
  } finally {
    closeSync(fd);
  }
}

/**
 * Every secret of one environment, resolved; throws one SvcError listing every key that is not,
 * and why. The command runs once per key per call (the caller calls once per environment).
 */
export async function resolveSecrets(
  dir: string,
  manifest: Manifest,
  environment: string,
  env: Env = process.env,
  deployed: readonly string[] = [environment],
): Promise<ResolvedSecret[]> {
  const { resolved, problems } = await lookUpSecrets(dir, manifest, environment, env, deployed);
  if (problems.length > 0) throw new SvcError(problems.map((problem) => problem.line).join('\n'));
  return resolved;
}

/**
 * Each key resolved, or its one-line problem (a refused secrets file throws: it is not per key).
 * `deployed`: every environment of the run; with more than one, a plain $KEY is refused.
 */
export async function lookUpSecrets(
  dir: string,
  manifest: Manifest,
  environment: string,
  env: Env = process.env,
  deployed: readonly string[] = [environment],
): Promise<{ resolved: ResolvedSecret[]; problems: { key: string; line: string }[] }> {
  const keys = manifest.secrets ?? [];
  const shownFile = secretsFilePath(environment);
  let file: Map<string, string> | 'missing' | undefined;
  const resolved: ResolvedSecret[] = [];
  const problems: { key: string; line: string }[] = [];
  for (const key of keys) {
    let found: Omit<ResolvedSecret, 'key'> | undefined;
    const fromEnv = secretFromEnvironment(key, environment, deployed, env);
    if (fromEnv !== undefined && 'refusal' in fromEnv) {
      problems.push({ key, line: fromEnv.refusal });
      continue;
    }
    if (fromEnv !== undefined)
      found = { source: 'environment', where: `$${fromEnv.variable}`, value: fromEnv.value };
    if (found === undefined) {
      if (file === undefined) refuseTrackedSecretsFile(dir, shownFile);
      file ??= readSecretsFile(dir, shownFile);
      const value = file === 'missing' ? undefined : file.get(key);
      if (value !== undefined && value !== '') found = { source: 'file', where: shownFile, value };
    }
    if (found === undefined && manifest.secretsCommand !== undefined) {
      const argv = secretsCommandArgv(manifest.secretsCommand, environment, key);
      const ran = await runSecretsCommand(argv, dir, {
        ...env,
        SVC_SECRET_ENV: environment,
        SVC_SECRET_KEY: key,
      });
      // Ctrl-C: svc stops here, whatever the other keys would say.
      if ('end' in ran && ran.end.kind === 'interrupted') throw new InterruptedError();
      if ('end' in ran) {
        problems.push({ key, line: commandFailure(key, environment, ran.end) });
        continue;
      }
      let text: string;
      try {
        // Never replaced: a value with U+FFFD in it would be deployed as a wrong secret.
        text = new TextDecoder('utf-8', { fatal: true }).decode(ran.stdout);
      } catch {
        problems.push({
          key,
          line: `secret ${key} (${environment}): secretsCommand printed bytes that are not UTF-8`,
        });
        continue;
      }
      const value = commandValue(text);
      if (value !== '') found = { source: 'command', where: 'secretsCommand', value };
    }
    if (found === undefined) {
      problems.push({
        key,
        line: missingSecretLine(
          key,
          environment,
          { path: shownFile, state: file === 'missing' ? 'missing' : 'without-key' },
          manifest.secretsCommand !== undefined,
          secretVariables(key, environment, deployed),
        ),
      });
      continue;
    }
    const problem = secretValueProblem(found.value);
    if (problem !== undefined) {
      // `pass show` prints the whole entry: the password, then lines of notes (README).
      const hint =
        found.source === 'command' && /[\r\n]/.test(found.value)
          ? ' (secretsCommand must print the value alone: for a pass entry, its first line only)'
          : '';
      problems.push({
        key,
        line: `secret ${key} (${environment}, from ${found.where}): ${problem}${hint}`,
      });
      continue;
    }
    resolved.push({ key, ...found });
  }
  return { resolved, problems };
}

/**
 * Each environment the run's hosts are deployed as, with its values and secrets resolved. A key
 * that does not resolve throws (every such line at once), unless `unresolvedAllowed`: a
 * rollback needs only the keys its release's own svc.yaml names, known once the release is
 * chosen, so each such key goes on its environment's `unresolved` and the rollback's plan of a
 * host fails only when its release needs one (rollback-environment.ts). A refused secrets file
 * still throws: it is no key's problem but the file's.
 */
export async function resolveEnvironments(
  dir: string,
  manifest: Manifest,
  names: readonly string[],
  env: Env = process.env,
  { unresolvedAllowed = false }: { unresolvedAllowed?: boolean } = {},
): Promise<Map<string, EnvironmentInput>> {
  const environments = new Map<string, EnvironmentInput>();
  const problems: string[] = [];
  const deployed = [...new Set(names)];
  for (const name of deployed) {
    let found: Awaited<ReturnType<typeof lookUpSecrets>>;
    try {
      found = await lookUpSecrets(dir, manifest, name, env, deployed);
    } catch (error) {
      if (!(error instanceof SvcError) || error instanceof InterruptedError) throw error;
      problems.push(error.message);
      continue;
    }
    const { resolved: secrets, problems: unresolved } = found;
    if (!unresolvedAllowed) problems.push(...unresolved.map((problem) => problem.line));
    environments.set(name, {
      name,
      env: environmentValues(manifest, name),
      secrets: secrets.map(({ key, value }) => ({ key, value })),
      sources: secrets.map(({ key, source, where }) => ({ key, source, from: where })),
      ...(unresolvedAllowed && unresolved.length > 0 && { unresolved }),
    });
  }
  // A plain $KEY refused in a run of several environments is the same line for each: said once.
  const lines = new Set(problems.flatMap((problem) => problem.split('\n')));
  if (lines.size > 0) throw new SvcError([...lines].join('\n'));
  return environments;
}
