// Runs one piece of work on every host a TARGET names, in parallel over one connection each: the
// shape of every lifecycle command. A host that fails is reported with its reason; the others
// still run.
import { resolve } from 'node:path';
import { connectProblem } from '../core/connect-problem.js';
import { EXIT, SvcError } from '../core/errors.js';
import { visible } from '../core/visible.js';
import type { Manifest } from '../core/manifest.js';
import { resolveTarget, type HostSpec, type TargetContext } from '../core/targets.js';
import { readManifestFile } from '../project/read.js';
import { mapLimit } from './plan-hosts.js';
import { parallelism, sshOptions, targetContext, type ConnectFlags } from './run-context.js';
import { checkBareWords } from './target-words.js';
import { ConnectionPool, type HostConnection, type SshOptions } from './ssh.js';

export interface EachHostFlags extends ConnectFlags {
  dir?: string;
  parallel?: string;
}

/**
 * interrupted: Ctrl-C came, and this host's script was cut short (or never started);
 * notStarted: never started.
 */
export type HostOutcomeOf<T> =
  | { host: HostSpec; ok: true; value: T }
  | { host: HostSpec; ok: false; error: string; interrupted?: true; notStarted?: true };

/**
 * The project's manifest and the hosts TARGET names (narrowed by `select`), checked before any
 * connection is made.
 */
export async function targetHosts(
  target: string,
  flags: { dir?: string },
  select: (hosts: HostSpec[]) => HostSpec[] = (hosts) => hosts,
): Promise<{ manifest: Manifest; ctx: TargetContext; hosts: HostSpec[] }> {
  const manifest = readManifestFile(resolve(flags.dir ?? '.'));
  const ctx = targetContext(manifest);
  const hosts = select(resolveTarget(target, ctx));
  await checkBareWords(hosts, ctx);
  return { manifest, ctx, hosts };
}

/**
 * `work` on every host. With `signal` (remote/ctrl-c.ts), a host not yet begun when it aborts is
 * not begun; `work` passes it on to runChecked.
 */
export async function forEachHost<T>(
  target: string,
  flags: EachHostFlags,
  work: (connection: HostConnection, host: HostSpec, manifest: Manifest) => Promise<T>,
  signal?: AbortSignal,
): Promise<{ manifest: Manifest; results: HostOutcomeOf<T>[] }> {
  const { manifest, ctx, hosts } = await targetHosts(target, flags);
  const results = await onEachHost(hosts, sshOptions(flags, ctx, undefined), flags.parallel, {
    work: (connection, host) => work(connection, host, manifest),
    signal,
  });
  return { manifest, results };
}

/**
 * `work` on each of `hosts`, `parallel` at once, over one connection each (closed at the end).
 * A host whose connection or work fails with an SvcError has that as its outcome; after
 * `signal` aborts, a host not yet begun (or still connecting) is not begun.
 */
export async function onEachHost<T>(
  hosts: readonly HostSpec[],
  options: SshOptions,
  parallel: string | undefined,
  run: { work: (connection: HostConnection, host: HostSpec) => Promise<T>; signal?: AbortSignal },
): Promise<HostOutcomeOf<T>[]> {
  const { work, signal } = run;
  const pool = new ConnectionPool(options);
  try {
    return await mapLimit(hosts, parallelism(parallel), async (host): Promise<HostOutcomeOf<T>> => {
      if (signal?.aborted) return notStarted(host);
      try {
        const connection = await pool.get(host);
        // Ctrl-C while it connected: not begun either.
        if (signal?.aborted) return notStarted(host);
        return { host, ok: true, value: await work(connection, host) };
      } catch (error) {
        if (error instanceof SvcError) return failed(host, error);
        throw error;
      }
    });
  } finally {
    await pool.closeAll();
  }
}

/** A host Ctrl-C kept from starting. */
function notStarted(host: HostSpec): HostOutcomeOf<never> {
  return {
    host,
    ok: false,
    error: 'not started: interrupted',
    interrupted: true,
    notStarted: true,
  };
}

/** A host that failed: a connection problem names the address, anything else the host's words. */
function failed(host: HostSpec, error: SvcError): HostOutcomeOf<never> {
  const problem = connectProblem(error.message);
  return {
    host,
    ok: false,
    error:
      problem === undefined
        ? error.message.replace(`${host.name}: `, '')
        : `${host.address}:${host.port}: ${problem}`,
    ...(error.exitCode === EXIT.interrupted && { interrupted: true as const }),
  };
}

/**
 * The script's stdout, or an SvcError naming the host and what the host said. With `signal`,
 * Ctrl-C reaches the script; one that then ended other than well is an SvcError with exit code
 * 130, and the last line it said (a lifecycle script's: how it left the service).
 */
export async function runChecked(
  connection: HostConnection,
  script: string,
  step: string,
  signal?: AbortSignal,
): Promise<string> {
  const result = await connection.run(script, step, signal && { signal });
  // Cut short by Ctrl-C: its trap's 130, or dead of the signal (no status: -1). A script that
  // failed for its own reason while Ctrl-C was on its way keeps that reason.
  if (signal?.aborted && (result.code === EXIT.interrupted || result.code < 0)) {
    const said =
      result.code === 130 ? result.stderr.toString('utf8').trim().split('\n').at(-1) : '';
    throw new SvcError(
      `${connection.endpoint.name}: ${said ? visible(said) : `interrupted while ${step}`}`,
      EXIT.interrupted,
    );
  }
  if (result.code !== 0) {
    const said = result.stderr.toString('utf8').trim().split('\n').slice(-2).join(' | ');
    throw new SvcError(
      `${connection.endpoint.name}: ${step} failed (exit ${result.code})${said ? `: ${said}` : ''}`,
    );
  }
  return result.stdout.toString('utf8');
}

/**
 * What a run over hosts exits with: 130 when Ctrl-C cut some host short (or kept it from
 * starting), else 1 when any failed. A Ctrl-C that came as every host finished is no interrupt.
 */
export function hostsExit(results: readonly HostOutcomeOf<unknown>[]): number {
  if (results.some((result) => !result.ok && result.interrupted)) return EXIT.interrupted;
  return results.some((result) => !result.ok) ? EXIT.error : EXIT.ok;
}
