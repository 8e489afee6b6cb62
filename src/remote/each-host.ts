// Runs one piece of work on every host a TARGET names, in parallel over one connection each: the
// shape of every lifecycle command. A host that fails is reported with its reason; the others
// still run.
import { resolve } from 'node:path';
import { connectProblem } from '../core/connect-problem.js';
import { SvcError } from '../core/errors.js';
import type { Manifest } from '../core/manifest.js';
import { resolveTarget, type HostSpec } from '../core/targets.js';
import { readManifestFile } from '../project/read.js';
import { mapLimit } from './plan-hosts.js';
import { parallelism, sshOptions, targetContext, type ConnectFlags } from './run-context.js';
import { checkBareWords } from './target-words.js';
import { ConnectionPool, type HostConnection } from './ssh.js';

export interface EachHostFlags extends ConnectFlags {
  dir?: string;
  parallel?: string;
}

export type HostOutcomeOf<T> =
  { host: HostSpec; ok: true; value: T } | { host: HostSpec; ok: false; error: string };

export async function forEachHost<T>(
  target: string,
  flags: EachHostFlags,
  work: (connection: HostConnection, host: HostSpec, manifest: Manifest) => Promise<T>,
): Promise<{ manifest: Manifest; results: HostOutcomeOf<T>[] }> {
  const manifest = readManifestFile(resolve(flags.dir ?? '.'));
  const ctx = targetContext(manifest);
  const hosts = resolveTarget(target, ctx);
  await checkBareWords(hosts, ctx);
  const pool = new ConnectionPool(sshOptions(flags, ctx, undefined));
  try {
    const results = await mapLimit(
      hosts,
      parallelism(flags.parallel),
      async (host): Promise<HostOutcomeOf<T>> => {
        try {
          return { host, ok: true, value: await work(await pool.get(host), host, manifest) };
        } catch (error) {
          if (error instanceof SvcError) {
            const problem = connectProblem(error.message);
            return {
              host,
              ok: false,
              error:
                problem === undefined
                  ? error.message.replace(`${host.name}: `, '')
                  : `${host.address}:${host.port}: ${problem}`,
            };
          }
          throw error;
        }
      },
    );
    return { manifest, results };
  } finally {
    await pool.closeAll();
  }
}

/** The script's stdout, or an SvcError naming the host and what the host said. */
export async function runChecked(
  connection: HostConnection,
  script: string,
  step: string,
): Promise<string> {
  const result = await connection.run(script, step);
  if (result.code !== 0) {
    const said = result.stderr.toString('utf8').trim().split('\n').slice(-2).join(' | ');
    throw new SvcError(
      `${connection.endpoint.name}: ${step} failed (exit ${result.code})${said ? `: ${said}` : ''}`,
    );
  }
  return result.stdout.toString('utf8');
}
