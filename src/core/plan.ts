// The planner: operations + facts -> the changes that would make the host match. Pure, so a
// plan can be checked against fixture facts, and `svc deploy` applies exactly what was shown.
import { createTwoFilesPatch } from 'diff';
import { gatePath, isSvcState, parentChainProblems, type GateContext } from './write-gate.js';
import { resolvedPath, unsafeDirs } from './parent-chain.js';
import type { HostFacts, PathFact } from './facts.js';
import { MAX_DIFF_BYTES } from './facts.js';
import { RECORDS_ROOT } from './fact-request.js';
import { attachReleaseContents, type ReleaseContents } from './release-contents.js';
import { envChanges, type EnvKeyChange } from './env-diff.js';
import { isTextContent } from './release-facts.js';
import { liveReleaseOf } from './layout.js';
import { releasesToPrune } from './release-retention.js';
import type { SecretOrigin } from './env-file.js';
import { planSwitch, switchLeftBehind } from './cutover-plan.js';
import type {
  DirOperation,
  FileOperation,
  LinkOperation,
  MonitOperation,
  Operation,
  ServiceOperation,
} from './operations.js';

export type Action = 'create' | 'update' | 'delete' | 'restart' | 'start' | 'reload' | 'switch';

export interface Change {
  action: Action;
  kind: Operation['kind'];
  /** A path, a user name or a service name. */
  target: string;
  /** Why: "absent", "mode 0644 -> 0600", "release changed", ... */
  reasons: string[];
  /** What it will be: "0644 root:root", "-> releases/abc". */
  detail?: string;
  /** Unified diff of a file's content; never present for a secret file. */
  diff?: string;
  /** Bytes of a new file's content: its one-line summary when the diff is not shown. Never for a
   *  secret file: a size tells a secret's length. */
  size?: number;
  /** A secret file's content differs: shown only as "(sensitive value changed)". */
  sensitive?: boolean;
  /** The env file's changed keys (env-diff.ts): values of svc.yaml's keys, a secret's name only. */
  env?: EnvKeyChange[];
  /** Something the user must decide before deploy applies this (e.g. --adopt). */
  warnings?: string[];
  /** A release change: its files against the live release's (release-contents.ts). */
  contents?: ReleaseContents;
  /** A switch: the steps it takes, in order (`start slot b with release X`, ...). */
  steps?: string[];
}

export interface HostPlan {
  host: string;
  changes: Change[];
  unchanged: number;
  /** Things that make this host's plan impossible to apply: deploy refuses while any remain. */
  problems: string[];
  /** Worth knowing before applying, but no reason to refuse. */
  warnings: string[];
  /** Identifies the facts the plan was made from: deploy refuses a stale plan. */
  factsDigest: string;
  /** The environment the host is deployed as and where each secret came from; never a value. */
  environment?: { name: string; secrets: SecretOrigin[] };
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');
const resolveHome = (path: string, facts: HostFacts) =>
  path.startsWith('~/') ? `${facts.login.home}/${path.slice(2)}` : path;
const NOT_A = {
  file: 'a file',
  dir: 'a directory',
  link: 'a symbolic link',
  other: 'not a regular file',
} as const;

function ownershipReasons(
  fact: PathFact,
  want: { mode: number; owner: string; group: string },
): string[] {
  const reasons: string[] = [];
  if (fact.mode !== want.mode) reasons.push(`mode ${octal(fact.mode ?? 0)} -> ${octal(want.mode)}`);
  if (fact.owner !== want.owner || fact.group !== want.group) {
    reasons.push(`owner ${fact.owner}:${fact.group} -> ${want.owner}:${want.group}`);
  }
  return reasons;
}

function fileDiff(
  op: FileOperation,
  before: Uint8Array | undefined,
  beforeSize: number,
): string | undefined {
  if (op.content.length > MAX_DIFF_BYTES || beforeSize > MAX_DIFF_BYTES)
    return `(larger than ${MAX_DIFF_BYTES / 1024} KiB: compared by sha256 only)`;
  if (before === undefined && beforeSize > 0) return '(content differs; the host did not send it)';
  const old = before ?? new Uint8Array();
  if (!isTextContent(old) || !isTextContent(op.content)) return '(binary content differs)';
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const patch = createTwoFilesPatch(
    before ? op.path : '/dev/null',
    op.path,
    decode(old),
    decode(op.content),
    '',
    '',
    { context: 3 },
  );
  return patch.split('\n').slice(1).join('\n').trimEnd();
}

class HostPlanner {
  readonly changes: Change[] = [];
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  unchanged = 0;
  private readonly changedPaths = new Set<string>();
  /** What the sensitive-path and parent-chain checks (write-gate.ts) need, and where they report. */
  readonly gateContext: GateContext;

  constructor(
    private readonly host: string,
    private readonly facts: HostFacts,
    /** The service being planned: its own unit files are not sensitive. */
    private readonly serviceName: string | undefined,
    /** --allow-path: sensitive paths the person running svc agreed to let config/ write. */
    private readonly allowed: ReadonlySet<string>,
    /** Directories the service user owns (/var/log/NAME, /var/db/NAME). */
    private readonly userDirs: readonly string[] = [],
    /** Links this plan makes (their paths): nothing the project asks for is written below one. */
    plannedLinks: readonly string[] = [],
  ) {
    this.gateContext = {
      host,
      facts,
      serviceName,
      allowed,
      plannedLinks,
      problems: this.problems,
      warnings: this.warnings,
    };
  }

  /**
   * Whether the plan may write a file from the project's config/ (svc's own files, such as the
   * helper scripts in a root login's /root/script/, are not the project's to ask for). A
   * sensitive path is a problem unless --allow-path names it, and then a warning: the plan always
   * says it. Deleting a file that left config/ needs no flag: svc only ever deletes what it wrote.
   */
  private mayWrite(op: FileOperation): boolean {
    // svc's records decide what a later deploy deletes: no project may write them, whatever flag.
    if (op.source.startsWith('config/') && isSvcState(op.path)) {
      this.problems.push(
        `${op.source}: ${RECORDS_ROOT} is svc's own state (records, locks); config/ can never write there`,
      );
      return false;
    }
    // root writing inside a directory the service user controls could be led by a link that user
    // planted between the plan and the write: such files are the service's own to write.
    const userDir = this.userDirs.find((dir) => op.path.startsWith(`${dir}/`));
    if (op.source.startsWith('config/') && userDir !== undefined) {
      this.problems.push(
        `${op.source}: ${userDir} belongs to the service user; svc (root) does not write into it: ship the file in the release, or let the service create it`,
      );
      return false;
    }
    return op.source.startsWith('config/') ? gatePath(this.gateContext, op.path, 'file') : true;
  }

  private fact(path: string): PathFact {
    return this.facts.paths.get(path) ?? { path, type: 'absent' };
  }

  private add(change: Change): void {
    this.changes.push(change);
    if (change.action === 'create' || change.action === 'update')
      this.changedPaths.add(change.target);
  }

  private wrongType(path: string, fact: PathFact, expected: string): void {
    this.problems.push(
      `${path} on ${this.host} is ${NOT_A[fact.type as keyof typeof NOT_A]}, expected ${expected}; svc does not replace or follow what it did not make`,
    );
  }

  dir(op: DirOperation): void {
    const path = resolveHome(op.path, this.facts);
    if (op.step !== undefined && !gatePath(this.gateContext, path, 'directory', op)) return;
    const fact = this.fact(path);
    const detail = `${octal(op.mode)} ${op.owner}:${op.group}`;
    if (fact.type === 'absent')
      return this.add({ action: 'create', kind: 'dir', target: path, reasons: ['absent'], detail });
    if (fact.type !== 'dir') return this.wrongType(path, fact, 'a directory');
    const reasons = op.ensureOnly ? [] : ownershipReasons(fact, op);
    if (reasons.length === 0) this.unchanged++;
    else this.add({ action: 'update', kind: 'dir', target: path, reasons, detail });
  }

  link(op: LinkOperation): void {
    const path = resolveHome(op.path, this.facts);
    if (op.step !== undefined && !gatePath(this.gateContext, path, 'link')) return;
    const fact = this.fact(path);
    const detail = `-> ${op.target}`;
    if (fact.type === 'absent')
      return this.add({
        action: 'create',
        kind: 'link',
        target: path,
        reasons: ['absent'],
        detail,
      });
    if (fact.type !== 'link') return this.wrongType(path, fact, 'a symbolic link');
    if (fact.target === op.target) this.unchanged++;
    else
      this.add({
        action: 'update',
        kind: 'link',
        target: path,
        reasons: [`points to ${fact.target}`],
        detail,
      });
  }

  file(op: FileOperation): void {
    const owner = this.facts.claimed.get(op.path);
    if (owner !== undefined) {
      this.problems.push(
        `${op.path} on ${this.host} is installed by service ${owner}; svc does not take another service's files`,
      );
      return;
    }
    if (!this.mayWrite(op)) return;
    const fact = this.fact(op.path);
    const detail = `${octal(op.mode)} ${op.owner}:${op.group}`;
    const content = (before: Uint8Array | undefined, size: number) =>
      op.secret ? { sensitive: true } : { diff: fileDiff(op, before, size) };
    if (fact.type === 'absent') {
      return this.add({
        action: 'create',
        kind: 'file',
        target: op.path,
        reasons: [`from ${op.source}`],
        detail,
        // A secret file's size would tell its values' length: it is said to be new, no more.
        ...(!op.secret && { size: op.content.length }),
        ...content(undefined, 0),
      });
    }
    if (fact.type !== 'file') return this.wrongType(op.path, fact, 'a file');
    // The env file svc renders is compared line by line (comments are no content): what changed
    // is said per key, a secret's only by name (env-diff.ts).
    const env =
      op.envLines !== undefined && fact.envLines !== undefined
        ? envChanges(op.envLines, fact.envLines, this.facts.salt ?? '')
        : undefined;
    const differs = env !== undefined ? env.length > 0 : fact.sha256 !== op.sha256;
    const reasons = differs ? ['content changed'] : [];
    reasons.push(...ownershipReasons(fact, op));
    if (reasons.length === 0) return void this.unchanged++;
    const change: Change = { action: 'update', kind: 'file', target: op.path, reasons, detail };
    if (env !== undefined && differs) {
      change.env = env;
      if (env.some((entry) => entry.sensitive)) change.sensitive = true;
    } else if (differs) Object.assign(change, content(fact.content, fact.size ?? 0));
    if (!(this.facts.installed ?? []).includes(op.path)) {
      change.warnings = ['not created by svc: deploy overwrites it only with --adopt'];
    }
    this.add(change);
  }

  service(op: ServiceOperation): void {
    const needs = { systemd: 'systemd', openrc: 'openrc', upstart: 'upstart', monit: undefined }[
      op.init
    ];
    if (needs !== undefined && this.facts.init !== needs) {
      this.problems.push(initMismatch(op.init, this.host, this.facts.init));
      return;
    }
    if (op.init === 'monit' && !this.facts.monit.installed) {
      const init = this.facts.init;
      const other =
        init === 'none'
          ? ''
          : `, or use init: ${init} (svc.yaml and config/, as svc new --init ${init} makes them)`;
      this.problems.push(
        `svc.yaml says init: monit, but monit is not installed on ${this.host}: install monit there${other}`,
      );
      return;
    }
    const changed = op.dependsOn.filter((path) => this.changedPaths.has(path));
    const leftBehind =
      op.cutover === undefined ? switchLeftBehind(op, this.facts, this.host) : undefined;
    if (leftBehind !== undefined) {
      this.problems.push(leftBehind);
      return;
    }
    if (op.cutover !== undefined) {
      const planned = planSwitch(op, op.cutover, this.facts, this.host, changed);
      this.problems.push(...planned.problems);
      if (planned.change !== undefined) this.add(planned.change);
      else if (planned.problems.length === 0) this.unchanged++;
      return;
    }
    if (!this.facts.service.active) {
      this.add({ action: 'start', kind: 'service', target: op.name, reasons: ['not running'] });
    } else if (changed.length > 0) {
      this.add({
        action: 'restart',
        kind: 'service',
        target: op.name,
        reasons: changed.map((path) => `${path} changed`),
      });
    } else {
      this.unchanged++;
    }
  }

  monit(op: MonitOperation): void {
    if (!this.facts.monit.installed) {
      this.problems.push(`svc.yaml says monit: true, but monit is not installed on ${this.host}`);
      return;
    }
    if (this.changedPaths.has(op.check)) {
      const warnings = this.facts.monit.running ? undefined : ['monit is not running on this host'];
      this.add({
        action: 'reload',
        kind: 'monit',
        target: op.name,
        reasons: [`${op.check} changed`],
        ...(warnings && { warnings }),
      });
    } else {
      this.unchanged++;
    }
  }

  operation(op: Operation): void {
    switch (op.kind) {
      case 'user':
        if (this.facts.users.get(op.name) !== undefined) return void this.unchanged++;
        return this.add({
          action: 'create',
          kind: 'user',
          target: op.name,
          reasons: ['absent'],
          detail: `system user, home ${op.home}, no login shell`,
        });
      case 'dir':
        return this.dir(op);
      case 'link':
        return this.link(op);
      case 'file':
        return this.file(op);
      case 'release': {
        const bad = this.facts.history.find(
          (entry) => entry.id === op.id && entry.status === 'bad',
        );
        if (bad)
          this.warnings.push(
            `release ${op.id} failed its health check on ${this.host} at ${bad.at}`,
          );
        if (op.pinned === true) {
          if (this.facts.releases.includes(op.id)) return void this.unchanged++;
          return void this.problems.push(pinnedReleaseMissing(op.id, this.host));
        }
        const fact = this.fact(op.path);
        if (fact.type === 'dir') return void this.unchanged++;
        if (fact.type !== 'absent') return this.wrongType(op.path, fact, 'a release directory');
        const kib = Math.max(1, Math.round(op.bytes / 1024));
        const install = op.install ? `; then ${op.install.join(' ')}` : '';
        return this.add({
          action: 'create',
          kind: 'release',
          target: op.path,
          reasons: ['new release'],
          detail: `${op.files} files, ${kib} KiB${install}`,
        });
      }
      case 'service':
        return this.service(op);
      case 'monit':
        return this.monit(op);
      case 'nginx': {
        const changed = op.dependsOn.filter((path) => this.changedPaths.has(path));
        if (changed.length === 0) return void this.unchanged++;
        return this.add({
          action: 'reload',
          kind: 'nginx',
          target: op.site,
          reasons: changed.map((path) => `${path} changed`),
        });
      }
      case 'health':
        return;
    }
  }

  /** Releases to delete after the deploy (release-retention.ts decides which and why). */
  prune(operations: readonly Operation[]): void {
    const release = operations.find((op) => op.kind === 'release');
    if (release === undefined || release.kind !== 'release') return;
    const releasesDir = release.path.slice(0, release.path.lastIndexOf('/'));
    const live = liveReleaseOf(
      this.facts.paths.get(`${releasesDir.replace(/\/releases$/, '')}/current`),
      { releases: releasesDir },
    );
    const pruned = releasesToPrune({
      present: this.facts.releases,
      history: this.facts.history,
      live,
      deploying: release.id,
      keep: release.keep,
    });
    for (const { id, reason } of pruned)
      this.add({
        action: 'delete',
        kind: 'release',
        target: `${releasesDir}/${id}`,
        reasons: [reason],
      });
  }

  /**
   * Files that left config/. svc removes one only if its own records list it AND its content is
   * still what svc installed (the sha256 recorded then): a file someone changed since, or one an
   * older svc recorded without a hash, is kept and said so; it is no longer svc's. A file svc took
   * over with --adopt gets its original back instead.
   */
  deletions(operations: readonly Operation[]): void {
    const wanted = new Set(operations.filter((op) => op.kind === 'file').map((op) => op.path));
    for (const path of this.facts.installed ?? []) {
      if (wanted.has(path)) continue;
      const now = this.facts.recordedNow.get(path);
      if (now?.type === 'absent') continue;
      const recorded = this.facts.installedSha256.get(path);
      const kept = (why: string) =>
        this.warnings.push(
          `${path} left config/ but is kept: ${why}; remove it by hand if it should go`,
        );
      if (recorded === undefined) {
        kept('svc has no record of the content it installed there (recorded by an older svc)');
      } else if (now === undefined || now.type !== 'file' || now.sha256 !== recorded) {
        kept(
          now === undefined
            ? 'the host did not say what it is now'
            : now.type === 'file'
              ? 'it was changed since svc installed it'
              : `it is now ${NOT_A[now.type as keyof typeof NOT_A]}`,
        );
      } else if (this.facts.adopted.has(path)) {
        this.add({
          action: 'update',
          kind: 'file',
          target: path,
          reasons: ['no longer in config/', 'the original from before --adopt is put back'],
        });
      } else {
        this.add({
          action: 'delete',
          kind: 'file',
          target: path,
          reasons: ['no longer in config/'],
        });
      }
    }
  }
}

/**
 * The host's directories as they will be once this plan has made its own: a directory the plan
 * creates or gives to another user (dir { owner: www-data }) is that user's to change from then
 * on, during the same deploy, so root must not write below it either. Keyed by where the host
 * resolves each one, as the D records are.
 */
function withPlannedDirs(
  facts: HostFacts,
  operations: readonly Operation[],
  changed: ReadonlySet<string>,
): HostFacts {
  const dirs = new Map(facts.dirs);
  for (const op of operations) {
    if (op.kind !== 'dir') continue;
    const path = resolveHome(op.path, facts);
    const where = resolvedPath(facts, path);
    // Unchanged (or refused) ones are as the host reports them.
    if (where === undefined || !changed.has(path)) continue;
    // A directory the host already has keeps its owner unless the plan changes it (update).
    if (op.ensureOnly && facts.dirs.has(where)) continue;
    const id = (name: string, known: number | undefined) => (name === 'root' ? 0 : (known ?? -1));
    dirs.set(where, {
      path: where,
      mode: op.mode,
      uid: id(op.owner, facts.users.get(op.owner)?.uid),
      gid: id(op.group, facts.groups.get(op.group)),
      owner: op.owner,
      group: op.group,
    });
  }
  return { ...facts, dirs };
}

/** `allowed`: the --allow-path values, sensitive paths this plan may write from config/. */
export function planHost(
  host: string,
  operations: readonly Operation[],
  facts: HostFacts,
  factsDigest: string,
  allowed: readonly string[] = [],
): HostPlan {
  const service = operations.find((op): op is ServiceOperation => op.kind === 'service');
  // Whose own files (unit, monit check, logrotate file, launcher) are not sensitive: the service's,
  // or for a static site (no service operation) its monit check's.
  const own =
    service?.name ?? operations.find((op): op is MonitOperation => op.kind === 'monit')?.name;
  const users = new Set(operations.filter((op) => op.kind === 'user').map((op) => op.name));
  const userDirs = operations
    .filter((op): op is DirOperation => op.kind === 'dir' && users.has(op.owner))
    .map((op) => op.path);
  const plannedLinks = operations
    .filter((op): op is LinkOperation => op.kind === 'link')
    .map((op) => resolveHome(op.path, facts));
  const planner = new HostPlanner(host, facts, own, new Set(allowed), userDirs, plannedLinks);
  for (const op of operations) planner.operation(op);
  planner.deletions(operations);
  planner.prune(operations);
  attachReleaseContents(planner.changes, operations, facts.liveRelease);
  const writes = planner.changes
    .filter((change) => change.action === 'create' || change.action === 'update')
    .filter((change) => ['dir', 'link', 'file', 'release'].includes(change.kind))
    .map((change) => change.target);
  const plannedDirs = new Set(
    planner.changes
      .filter((change) => change.kind === 'dir' && change.action !== 'delete')
      .map((change) => change.target),
  );
  const combined = withPlannedDirs(facts, operations, plannedDirs);
  parentChainProblems({ ...planner.gateContext, facts: combined }, writes);
  // What the host sent for a file below a directory another user can change may not be that
  // file: a link planted there could have led the read to any file root can read. Never shown.
  for (const change of planner.changes) {
    if (change.diff !== undefined && unsafeDirs(combined, [change.target]).length > 0)
      change.diff = "(not shown: a directory on its way is not root's alone)";
  }
  return {
    host,
    changes: planner.changes,
    unchanged: planner.unchanged,
    problems: planner.problems,
    warnings: planner.warnings,
    factsDigest,
  };
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  restart: number;
}

export function summarize(changes: readonly Change[]): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, restart: 0 };
  for (const change of changes) {
    if (change.action === 'create') summary.create++;
    else if (change.action === 'update') summary.update++;
    else if (change.action === 'delete') summary.delete++;
    else summary.restart++;
  }
  return summary;
}

/** A rollback's release that the host does not have (rollback-choice.ts says more, and first). */
export const pinnedReleaseMissing = (id: string, host: string) => `release ${id} is not on ${host}`;

/**
 * The refusal for a host whose init system is not the one svc.yaml names, with the fix in the
 * same line: no retry helps, so it says what does: a host that runs it, or another init: (whose
 * config/ files differ too, so it points at svc new, which writes both).
 */
export function initMismatch(wanted: string, host: string, found: string): string {
  const runs = found === 'none' ? `no ${wanted} (no init system svc knows)` : found;
  const sandbox = wanted === 'systemd' ? ' (a sandbox one: svc sandbox up --systemd)' : '';
  const other = found === 'none' ? 'monit' : `${found} or monit`;
  const flag = found === 'none' ? 'monit' : found;
  return `svc.yaml says init: ${wanted}, but ${host} runs ${runs}: deploy to a host that runs ${wanted}${sandbox}, or use init: ${other} (svc.yaml and config/, as svc new --init ${flag} makes them)`;
}
