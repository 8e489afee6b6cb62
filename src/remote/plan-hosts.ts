// Plans every host of a run: for each, one connection, one fact-gathering round trip, then the
// pure planner. Hosts are planned in parallel (bounded); a host that fails is reported with its
// reason and the others still get their plans.
import { randomBytes } from 'node:crypto';
import { connectProblem } from '../core/connect-problem.js';
import { SvcError } from '../core/errors.js';
import { expandPlaybook } from '../core/expand.js';
import type { EnvironmentInput } from '../core/env-file.js';
import { DEFAULT_ENVIRONMENT } from '../core/environment-name.js';
import { environmentValues } from '../core/environments.js';
import { buildFactRequest } from '../core/fact-request.js';
import { factScript, factsDigest, type FactRequest, type HostFacts } from '../core/facts.js';
import { parseFacts, FactsError } from '../core/facts-parse.js';
import type { Manifest } from '../core/manifest.js';
import { resolveHomePaths, type Operation } from '../core/operations.js';
import { planHost } from '../core/plan.js';
import type { RollbackRequest } from '../core/rollback-choice.js';
import { projectProblems } from '../core/project-problems.js';
import type { HostOutcome } from '../core/plan-format.js';
import type { Step } from '../core/playbook.js';
import { releaseId, type LocalFile } from '../core/release.js';
import type { HistoryWho } from '../core/history-record.js';
import { deployAction, heldFactScript } from '../core/history-script.js';
import { isHeld, runHeldFacts, type HeldFacts } from './held-facts.js';
import type { ConnectionPool, RunResult, SshEndpoint } from './ssh.js';

export interface PlanInput {
  manifest: Manifest;
  steps: readonly Step[];
  playbookFile: string;
  /** The playbook is the project's own: its dir and link steps go through the sensitive gate. */
  projectPlaybook?: boolean;
  config: readonly LocalFile[];
  release: readonly LocalFile[];
  /** --allow-path: sensitive host paths (core/sensitive-paths.ts) config/ may write. */
  allowPaths?: readonly string[];
  /** --diff: the host also sends the live content of the release's changed text files. */
  diff?: boolean;
  /**
   * Rollback: deploy a release already on the hosts instead of the project's files, one release
   * for all of them, chosen from their facts (core/rollback-choice.ts).
   */
  rollback?: RollbackRequest;
  /** Each environment of the run, its values and resolved secrets (cli/plan.ts, before connecting). */
  environments?: ReadonlyMap<string, EnvironmentInput>;
  /** Warnings about the project itself, on every host's plan (a tracked env file with values). */
  warnings?: readonly string[];
  /**
   * `svc deploy` applying each host as soon as its plan is made: the fact script waits for the
   * verdict and records `unchanged` as `who` in the same round trip (remote/held-facts.ts).
   */
  held?: { who: HistoryWho };
}

export interface PlannableHost extends SshEndpoint {
  vars: Readonly<Record<string, string | number | boolean>>;
  /** The environment it is deployed as (core/environments.ts); absent: `default`. */
  environment?: string;
}

/** Runs `work` over items with at most `limit` at a time, keeping the input order in the result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The environment a host is deployed as, from this checkout (absent: svc.yaml's env: alone). */
export function hostEnvironment(input: PlanInput, host: PlannableHost): EnvironmentInput {
  const name = host.environment ?? DEFAULT_ENVIRONMENT;
  return (
    input.environments?.get(name) ?? {
      name,
      env: environmentValues(input.manifest, name),
      secrets: [],
    }
  );
}

/**
 * A fresh random salt per host and run: the facts digest and the env file's line hashes it salts
 * are no oracle for a secret (core/facts.ts factsDigest).
 */
export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export function hostOperations(
  input: PlanInput,
  host: PlannableHost,
  pinned?: string,
  environment: EnvironmentInput | undefined = input.environments?.get(
    host.environment ?? DEFAULT_ENVIRONMENT,
  ),
): Operation[] {
  const bytes = input.release.reduce((sum, file) => sum + file.content.length, 0);
  const release =
    pinned !== undefined
      ? { id: pinned, files: 0, bytes: 0, pinned: true }
      : { id: releaseId(input.release), files: input.release.length, bytes, local: input.release };
  return expandPlaybook(input.steps, {
    manifest: input.manifest,
    host: { name: host.name, login: host.user, vars: host.vars },
    config: input.config,
    release,
    playbookFile: input.playbookFile,
    ...(input.projectPlaybook && { projectPlaybook: true }),
    environment,
  });
}

/** The outcome names its host already: drop a leading "NAME: " or "NAME (user@address:port): ". */
function withoutHostPrefix(message: string, name: string): string {
  if (message.startsWith(`${name}: `)) return message.slice(name.length + 2);
  const described = message.match(/^\S+ \([^)]*\): /);
  return described && message.startsWith(`${name} (`)
    ? message.slice(described[0].length)
    : message;
}

function firstLine(buffer: Buffer): string {
  return buffer.toString('utf8').trim().split('\n')[0] ?? '';
}

/**
 * Runs a read-only script; if the server dropped the connection meanwhile, reconnects and tries
 * once more (reading twice is harmless; applying twice is never done this way).
 */
export async function runReadOnly(
  pool: ConnectionPool,
  host: PlannableHost,
  script: string,
  step: string,
): Promise<RunResult> {
  const connection = await pool.get(host);
  try {
    return await connection.run(script, step);
  } catch (error) {
    if (!connection.lost) throw error;
    return (await pool.get(host)).run(script, step);
  }
}

/** A host's plan, with what applying it needs (absent when planning failed). */
export interface PlannedHost {
  host: PlannableHost;
  outcome: HostOutcome;
  context?: { operations: Operation[]; facts: HostFacts; request: FactRequest };
  /** The fact command, still waiting for svc's verdict (PlanInput.held): answered once, by apply. */
  verdict?: HeldFacts['verdict'];
}

type Who = Pick<PlannedHost['outcome'], 'host' | 'address' | 'port' | 'user'>;

const whoOf = (host: PlannableHost): Who => ({
  host: host.name,
  address: host.address,
  port: host.port,
  user: host.user,
});

/** A host that could not be planned: its reason, for SvcError and FactsError; anything else throws. */
export function failedHost(host: PlannableHost, error: unknown): PlannedHost {
  if (error instanceof SvcError || error instanceof FactsError) {
    return {
      host,
      outcome: {
        ...whoOf(host),
        status: 'failed',
        error: connectProblem(error.message) ?? withoutHostPrefix(error.message, host.name),
      },
    };
  }
  throw error;
}

export interface Gathered {
  request: FactRequest;
  /** The fact script's own output (what the digest covers), without `extra`'s. */
  output: string;
  facts: HostFacts;
  /** What `extra` printed after the facts' end marker (a rollback's release manifests). */
  extraOutput: string;
  verdict?: HeldFacts['verdict'];
}

const FACTS_END = '\nE\tsvc-facts\n';

/**
 * The one read-only round trip: the fact script for `request`, its output parsed. `extra`, a
 * read-only sh fragment, runs after it in the same round trip; its output (which must never hold
 * the end marker line: base64 records cannot) is returned apart and is no part of the digest.
 */
export async function gather(
  host: PlannableHost,
  pool: ConnectionPool,
  request: FactRequest,
  extra = '',
  held?: { service: string; action: 'deploy' | 'rollback'; who: HistoryWho },
): Promise<Gathered> {
  await pool.get(host);
  const result = held
    ? await runHeldFacts(
        pool,
        host,
        heldFactScript(factScript(request), held.service, held.action, held.who),
        'gathering facts',
      )
    : await runReadOnly(pool, host, factScript(request) + extra, 'gathering facts');
  if (isHeld(result)) {
    const output = result.output.toString('utf8');
    try {
      return {
        request,
        output,
        facts: parseFacts(output, request, host.name),
        extraOutput: '',
        verdict: result.verdict,
      };
    } catch (error) {
      result.verdict(false).catch(() => undefined);
      throw error;
    }
  }
  if (result.code !== 0) {
    throw new SvcError(
      `gathering facts failed (exit ${result.code}): ${firstLine(result.stderr) || 'no message'}`,
    );
  }
  const all = result.stdout.toString('utf8');
  const end = extra === '' ? -1 : all.lastIndexOf(FACTS_END);
  const output = end === -1 ? all : all.slice(0, end + FACTS_END.length);
  const extraOutput = end === -1 ? '' : all.slice(end + FACTS_END.length);
  return { request, output, facts: parseFacts(output, request, host.name), extraOutput };
}

/** How a rollback's environment differs from this checkout's (core/rollback-environment.ts). */
export interface PlannedEnvironment {
  environment: EnvironmentInput | undefined;
  /** What the plan says about it (values not from the release, secrets left out). */
  warnings: readonly string[];
}

/** The pure planner over gathered facts, with what the project itself may not ship. */
export function planGathered(
  input: PlanInput,
  host: PlannableHost,
  operations: Operation[],
  gathered: Gathered,
  pinned: string | undefined,
  /** The environment rendered (absent: this checkout's for the host). */
  rendered: PlannedEnvironment = {
    environment: input.environments?.get(host.environment ?? DEFAULT_ENVIRONMENT),
    warnings: [],
  },
): PlannedHost {
  const { facts, output, request } = gathered;
  // From here on every path is absolute: the facts told us the login user's home.
  const resolved = resolveHomePaths(operations, facts.login.home);
  const plan = planHost(
    host.name,
    resolved,
    facts,
    factsDigest(output, request.salt),
    input.allowPaths,
  );
  // What the project itself may not ship (setuid files) is a problem on every host.
  const shipped = { ...input, release: pinned === undefined ? input.release : [] };
  plan.problems.unshift(...projectProblems(shipped));
  plan.warnings.unshift(...(input.warnings ?? []), ...rendered.warnings);
  // The secrets line names the environment actually rendered (a rollback's too).
  const sources = rendered.environment?.sources;
  if (sources !== undefined && sources.length > 0)
    plan.environment = { name: host.environment ?? DEFAULT_ENVIRONMENT, secrets: [...sources] };
  return {
    host,
    outcome: { ...whoOf(host), status: 'planned', plan },
    context: { operations: resolved, facts, request },
    ...(gathered.verdict && { verdict: gathered.verdict }),
  };
}

async function planOne(
  input: PlanInput,
  host: PlannableHost,
  pool: ConnectionPool,
): Promise<PlannedHost> {
  try {
    const operations = hostOperations(input, host);
    const request = buildFactRequest(
      input.manifest,
      operations,
      host.user,
      input.diff === true,
      newSalt(),
    );
    const held = input.held && {
      service: input.manifest.name,
      action: deployAction(operations),
      who: input.held.who,
    };
    const gathered = await gather(host, pool, request, '', held);
    try {
      return planGathered(input, host, operations, gathered, undefined);
    } catch (error) {
      gathered.verdict?.(false).catch(() => undefined);
      throw error;
    }
  } catch (error) {
    return failedHost(host, error);
  }
}

/**
 * Plans every host, at most `parallel` at once. `then`, when given, runs for each host as soon as
 * its own plan is ready (deploy --yes applies it there), before that worker takes the next host.
 */
export function planHosts(
  input: PlanInput,
  hosts: readonly PlannableHost[],
  pool: ConnectionPool,
  parallel: number,
  then?: (planned: PlannedHost) => Promise<void>,
): Promise<PlannedHost[]> {
  return mapLimit(hosts, parallel, async (host) => {
    const planned = await planOne(input, host, pool);
    if (then) await then(planned);
    return planned;
  });
}
