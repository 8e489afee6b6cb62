// Showing plans: Terraform-like text for people, a documented JSON document for programs
// (docs/PLAN-JSON.md). A secret file's content never appears in either.
import type { Change, HostPlan, PlanSummary } from './plan.js';
import { summarize } from './plan.js';
import { hostLogin } from './targets.js';
import { groupOutcomes, hostList } from './plan-groups.js';
import { releaseContentsLines } from './release-contents-text.js';
import { escapeControls } from './visible.js';
import { envChangeLines } from './env-diff.js';

/** How much of each change to show; `diff` is `--diff`. */
export interface ShowOptions {
  /** A new file's whole content as a diff; without it a new file is one line (mode, owner, size). */
  diff?: boolean;
}

export interface Paint {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

interface HostIdentity {
  host: string;
  address: string;
  port: number;
  user: string;
}
export type HostOutcome =
  | (HostIdentity & { status: 'planned'; plan: HostPlan })
  | (HostIdentity & { status: 'failed'; error: string });

const SYMBOL = {
  create: '+',
  update: '~',
  delete: '-',
  restart: '↻',
  start: '↻',
  reload: '↻',
  switch: '⇄',
} as const;

function colorFor(change: Change, paint: Paint): (text: string) => string {
  if (change.action === 'create') return paint.green;
  if (change.action === 'delete') return paint.red;
  return paint.yellow;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function changeLines(change: Change, paint: Paint, show: ShowOptions): string[] {
  const color = colorFor(change, paint);
  // A new file is all "+" lines: long and unreviewable at scale, so by default it is one line.
  const folded = change.action === 'create' && change.size !== undefined && show.diff !== true;
  // A secret's size is never shown, whatever a caller put in the change: it tells a value's length.
  const size = change.sensitive === true ? '' : formatSize(change.size ?? 0);
  const verb =
    change.kind === 'service' || change.kind === 'monit'
      ? `${change.action} ${change.kind}`
      : change.kind;
  const head = `  ${color(`${SYMBOL[change.action]} ${verb.padEnd(8)}`)} ${change.target}`;
  const described = folded ? `${change.detail ?? ''} ${size}`.trim() : change.detail;
  const detail = described ? `  ${paint.dim(described)}` : '';
  const lines = [`${head}${detail}`];
  // A create needs no "absent"; every other change says why.
  const reasons = change.reasons.filter((reason) => reason !== 'absent');
  if (reasons.length > 0) lines.push(`      ${paint.dim(reasons.join('; '))}`);
  if (change.env !== undefined) {
    for (const line of envChangeLines(change.env)) {
      const painted = line.startsWith('+')
        ? paint.green(line)
        : line.startsWith('-')
          ? paint.red(line)
          : paint.yellow(line);
      lines.push(`      ${painted}`);
    }
  } else if (change.sensitive) {
    const note =
      change.action === 'create' ? '(sensitive: content not shown)' : '(sensitive value changed)';
    lines.push(`      ${paint.yellow(note)}`);
  }
  for (const warning of change.warnings ?? []) lines.push(`      ${paint.yellow(`! ${warning}`)}`);
  (change.steps ?? []).forEach((step, index) => lines.push(`      ${index + 1}. ${step}`));
  if (change.contents) lines.push(...releaseContentsLines(change.contents, paint));
  if (change.diff && !folded) {
    // A live file's content came from the host: its control characters are shown escaped.
    for (const line of change.diff.split('\n').map(escapeControls)) {
      const painted = line.startsWith('+')
        ? paint.green(line)
        : line.startsWith('-')
          ? paint.red(line)
          : line;
      lines.push(`      ${painted}`);
    }
  }
  return lines;
}

export function summaryLine(summary: PlanSummary): string {
  return `${summary.create} to create, ${summary.update} to update, ${summary.delete} to delete, ${summary.restart} to (re)start or reload`;
}

/** Where each secret of the host's environment came from, never a value. */
export function secretsLine(environment: NonNullable<HostPlan['environment']>): string {
  const each = environment.secrets.map(({ key, from }) => `${key} from ${from}`);
  return `secrets (${environment.name}): ${each.join(', ')}`;
}

export function formatHostOutcome(
  outcome: HostOutcome,
  paint: Paint,
  show: ShowOptions = {},
  title = paint.bold(`${outcome.host} (${hostLogin(outcome)})`),
): string {
  // One line, said once: the footer and deploy's table name the host without repeating why.
  if (outcome.status === 'failed') return `${title}: ${paint.red(outcome.error)}\n`;
  const { plan } = outcome;
  const lines = [title];
  // A host with nothing to do says so on the line under its name (a glance down a grouped plan
  // reads each host's state there); where its secrets come from follows.
  if (plan.changes.length === 0 && plan.problems.length === 0)
    lines.push(`  ${paint.green('no changes')} (${plan.unchanged} in place)`);
  if (plan.environment !== undefined) lines.push(`  ${paint.dim(secretsLine(plan.environment))}`);
  for (const change of plan.changes) lines.push(...changeLines(change, paint, show));
  for (const problem of plan.problems) lines.push(`  ${paint.red(`✗ ${problem}`)}`);
  for (const warning of plan.warnings) lines.push(`  ${paint.yellow(`! ${warning}`)}`);
  if (plan.changes.length > 0)
    lines.push(`  Plan: ${summaryLine(summarize(plan.changes))}; ${plan.unchanged} in place.`);
  return `${lines.join('\n')}\n`;
}

/**
 * Every host's plan, hosts with identical plans shown once under their list
 * (`sbx-1..sbx-10: identical`); a host whose plan differs is shown on its own.
 */
export function formatPlans(
  outcomes: readonly HostOutcome[],
  paint: Paint,
  show: ShowOptions = {},
): string {
  return groupOutcomes(outcomes)
    .map(({ outcomes: members }) => {
      const first = members[0]!;
      if (members.length === 1) return `${formatHostOutcome(first, paint, show)}\n`;
      const names = hostList(members.map((member) => member.host));
      const title = `${paint.bold(names)}: identical (${members.length} hosts)`;
      return `${formatHostOutcome(first, paint, show, title)}\n`;
    })
    .join('');
}

export function formatFooter(outcomes: readonly HostOutcome[], paint: Paint): string {
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  const planned = outcomes.flatMap((outcome) =>
    outcome.status === 'planned' ? [outcome.plan] : [],
  );
  const blocked = planned.filter((plan) => plan.problems.length > 0);
  const total = summarize(planned.flatMap((plan) => plan.changes));
  const lines = [
    `${paint.bold('Total')}: ${summaryLine(total)} on ${planned.length} host${planned.length === 1 ? '' : 's'}.`,
  ];
  if (blocked.length > 0)
    lines.push(
      paint.red(
        `${blocked.length} host(s) have problems deploy would refuse: ${blocked.map((plan) => plan.host).join(', ')}`,
      ),
    );
  // Said once here, not on every host: the count is of things already right, not a change.
  if (planned.some((plan) => plan.unchanged > 0))
    lines.push(
      paint.dim(
        '"in place": users, directories, files, links and services svc manages that already are as svc.yaml wants; left as they are.',
      ),
    );
  if (failed.length > 0)
    lines.push(
      paint.red(
        `${failed.length} host(s) failed: ${failed.map((outcome) => outcome.host).join(', ')} (why: above)`,
      ),
    );
  return `${lines.join('\n')}\n`;
}

export const PLAN_JSON_VERSION = 1;

/** The `svc plan --json` document; its shape is documented in docs/PLAN-JSON.md. */
export function planDocument(service: string, outcomes: readonly HostOutcome[]): object {
  const planned = outcomes.flatMap((outcome) =>
    outcome.status === 'planned' ? [outcome.plan] : [],
  );
  return {
    version: PLAN_JSON_VERSION,
    service,
    summary: {
      ...summarize(planned.flatMap((plan) => plan.changes)),
      hosts: outcomes.length,
      failed: outcomes.length - planned.length,
    },
    hosts: outcomes.map((outcome) =>
      outcome.status === 'failed'
        ? {
            host: outcome.host,
            address: outcome.address,
            user: outcome.user,
            status: 'failed',
            error: outcome.error,
          }
        : {
            host: outcome.host,
            address: outcome.address,
            user: outcome.user,
            status: 'planned',
            factsDigest: outcome.plan.factsDigest,
            summary: summarize(outcome.plan.changes),
            unchanged: outcome.plan.unchanged,
            problems: outcome.plan.problems,
            warnings: outcome.plan.warnings,
            ...(outcome.plan.environment && { environment: outcome.plan.environment }),
            changes: outcome.plan.changes.map((change) => ({
              action: change.action,
              kind: change.kind,
              target: change.target,
              reasons: change.reasons,
              ...(change.detail !== undefined && { detail: change.detail }),
              ...(change.diff !== undefined && { diff: change.diff }),
              ...(change.sensitive && { sensitive: true }),
              ...(change.env && { env: change.env }),
              ...(change.warnings && { warnings: change.warnings }),
              ...(change.contents && { contents: change.contents }),
              ...(change.steps && { steps: change.steps }),
            })),
          },
    ),
  };
}
