// Grouping hosts whose plans are identical, so ten identical hosts read as one plan: a person
// reviews each distinct plan once. Pure; the JSON document (plan-format.ts) stays per host.
import type { HostOutcome } from './plan-format.js';
import type { HostPlan } from './plan.js';

export interface PlanGroup {
  /** Hosts sharing one plan, in the order they were given; one entry for a host on its own. */
  outcomes: HostOutcome[];
}

/**
 * What makes two plans the same for a reader: every change (with its diff), problem, warning, the
 * count in place and where the secrets came from. The host name and facts digest are left out: they always differ.
 */
export function planKey(plan: HostPlan): string {
  return JSON.stringify([
    plan.changes,
    plan.problems,
    plan.warnings,
    plan.unchanged,
    ...(plan.environment ? [plan.environment] : []),
  ]);
}

/** Planned hosts with identical plans share a group (first appearance decides order); a failed host stands alone. */
export function groupOutcomes(outcomes: readonly HostOutcome[]): PlanGroup[] {
  const groups: PlanGroup[] = [];
  const byKey = new Map<string, PlanGroup>();
  for (const outcome of outcomes) {
    if (outcome.status === 'failed') {
      groups.push({ outcomes: [outcome] });
      continue;
    }
    const key = planKey(outcome.plan);
    const group = byKey.get(key);
    if (group) group.outcomes.push(outcome);
    else {
      const fresh = { outcomes: [outcome] };
      byKey.set(key, fresh);
      groups.push(fresh);
    }
  }
  return groups;
}

// Stryker disable next-line Regex: without ^ the same: exec tries position 0 first, where the lazy (.*?) matches whenever any later start would
const NUMBERED = /^(.*?)(\d+)$/;

/**
 * Host names said briefly: runs of consecutive numbers with one prefix become `sbx-1..sbx-10`
 * (a run of two stays a comma list: `web1, web2`), anything else is listed as given.
 */
export function hostList(names: readonly string[]): string {
  const parts: string[] = [];
  let index = 0;
  // Stryker disable next-line EqualityOperator: one more round reads names[length], undefined, which exec sees as 'undefined' (no digits): it adds nothing
  while (index < names.length) {
    const match = NUMBERED.exec(names[index]!);
    let end = index;
    if (match) {
      const [, prefix, digits] = match;
      let number = Number(digits);
      // Stryker disable next-line EqualityOperator,ArithmeticOperator: past the end, names[end + 1] is undefined, which exec sees as 'undefined' (no digits): the loop breaks there anyway
      while (end + 1 < names.length) {
        const next = NUMBERED.exec(names[end + 1]!);
        // `sbx-01` is not `sbx-1`: only names that print back the same are a range.
        if (!next || next[1] !== prefix || next[2] !== String(number + 1)) break;
        if (String(Number(digits)) !== digits) break;
        number += 1;
        end += 1;
      }
    }
    if (end - index >= 2) parts.push(`${names[index]}..${names[end]}`);
    else parts.push(...names.slice(index, end + 1));
    index = end + 1;
  }
  return parts.join(', ');
}
