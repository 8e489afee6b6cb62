// `release: { on: first }`: before the deploy touches any host's service, the first host gets a
// round trip of its own that only prepares: under the deploy lock and the same stale check, it
// makes what the release needs (the service user, its directories, the release directory with
// its install step) and runs the release commands in it. Nothing is switched, restarted or
// reloaded, and `current` does not move. It sends back the digest of the facts as it left them:
// that host's deploy is then its plan less what this phase made, checked against that digest
// (the chain stays unbroken: the plan's facts, this phase's changes, nothing else).
import {
  changeCommands,
  factsDigestLines,
  lockSection,
  PRELUDE,
  shFunction,
  stageSection,
  staleSection,
  type ApplyInput,
  type Context,
} from './apply-script.js';
import { emitDirCreates } from './apply-files.js';
import { historyBegin, historyDir, historyFunctions } from './history-script.js';
import { hostLayout } from './layout.js';
import type { FileOperation } from './operations.js';
import type { Change, HostPlan } from './plan.js';
import { shellQuote as q } from './quote.js';
import {
  releaseCommandLines,
  releaseCommandsOf,
  releaseEnvFile,
  RELEASE_RUN,
} from './release-commands.js';
import { releaseFilesEntry } from './release-record.js';
import type { TarEntry } from './tar.js';

/** The staged env file's name in the phase's tar stream. */
const ENV_ENTRY = 'env';

/**
 * The indices of the changes the phase makes: the service user and directories planned before
 * the release, and the new release itself (or, when the release is on the host already, the user
 * and directories planned before `current` moves). Everything else waits for the deploy.
 */
export function preparedChanges(service: string, changes: readonly Change[]): number[] {
  const created = changes.findIndex((c) => c.kind === 'release' && c.action === 'create');
  const current = hostLayout(service).current;
  const moves = changes.findIndex((c) => c.kind === 'link' && c.target === current);
  const stop = created >= 0 ? created : moves >= 0 ? moves : changes.length;
  const indices: number[] = [];
  changes.forEach((change, index) => {
    if (index === created || (index < stop && (change.kind === 'user' || change.kind === 'dir')))
      indices.push(index);
  });
  return indices;
}

/** The host's plan once the phase has run: less what it made, checked against its digest. */
export function planAfterPhase(
  plan: HostPlan,
  prepared: readonly number[],
  digest: string,
): HostPlan {
  const made = new Set(prepared);
  return {
    ...plan,
    changes: plan.changes.filter((_change, index) => !made.has(index)),
    factsDigest: digest,
  };
}

export interface ReleasePhase {
  script: string;
  entries: TarEntry[];
  /** Indices into the plan's changes of what the phase makes (see preparedChanges). */
  prepared: number[];
}

export function buildReleasePhase(
  input: ApplyInput,
  releaseFiles: readonly TarEntry[],
): ReleasePhase {
  const { manifest, plan, operations } = input;
  const commands = releaseCommandsOf(manifest);
  const release = operations.find((op) => op.kind === 'release');
  if (commands === undefined || release?.kind !== 'release')
    throw new Error('buildReleasePhase: no release commands or no release');
  const prepared = preparedChanges(manifest.name, plan.changes);
  const ctx: Context = { input, files: new Map(), overlayIndex: new Map(), rollback: [] };
  const entries: TarEntry[] = [];
  if (prepared.some((index) => plan.changes[index]!.kind === 'release')) {
    entries.push(...releaseFiles.map((file) => ({ ...file, path: `release/${file.path}` })));
    entries.push(...releaseFilesEntry(release));
  }
  // The env file this deploy installs, staged (root's, 0600) for the commands to source.
  const layout = hostLayout(manifest.name);
  const envOp = operations.find(
    (op): op is FileOperation => op.kind === 'file' && op.path === layout.envFile,
  );
  const envChange = plan.changes.some(
    (change) => change.kind === 'file' && change.target === layout.envFile,
  );
  if (envOp !== undefined && envChange)
    entries.push({ path: ENV_ENTRY, mode: 0o600, content: envOp.content });
  const body = prepared.flatMap((index) => changeCommands(plan.changes[index]!, ctx, index));
  emitDirCreates(body);
  const staged = envOp !== undefined && envChange ? `"$stage/${ENV_ENTRY}"` : undefined;
  // The deploy's history record begins here: a phase that fails (its commands, its install step)
  // or is killed leaves the deploy's record; one that succeeds leaves it to the deploy's script.
  const failed = `FAIL	svc cannot keep its history in ${historyDir(manifest.name)} (not root's own private directory, or not writable)`;
  const script = [
    PRELUDE,
    historyFunctions(manifest.name),
    RELEASE_RUN,
    stageSection(manifest.name),
    lockSection(input),
    staleSection(input),
    `${historyBegin('deploy', input.who, true)} || { say ${q(failed)}; exit 1; }`,
    shFunction(
      'undo',
      ctx.rollback
        .slice()
        .reverse()
        .map((line, index) => `{ ${line}; } || say "WARNING	undo step ${index + 1} failed"`),
    ),
    'applying=1',
    ...body,
    // A first deploy: /var/lib/svc/NAME exists now (the plan's mkdir): its pending record.
    `hist_later || { say ${q(failed)}; exit 1; }`,
    ...releaseCommandLines(
      manifest,
      commands,
      q(release.path),
      releaseEnvFile(manifest.name, plan.changes, staged),
    ),
    'applying=0',
    'hist_drop',
    ...factsDigestLines(input),
    'say "DIGEST	$digest"',
    '',
  ].join('\n');
  return { script, entries, prepared };
}
