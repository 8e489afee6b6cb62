// The checks on where a plan writes, for HostPlanner (plan.ts): the sensitive-path gate on the
// path as written and as the host resolves it, and the parent-chain check (parent-chain.ts).
// Pure; problems and warnings go to the planner's lists.
import type { HostFacts } from './facts.js';
import { acceptable, resolvedPath, unsafeDirs } from './parent-chain.js';
import { RECORDS_ROOT } from './fact-request.js';
import { shellQuote } from './quote.js';
import { sensitiveDirRule, sensitiveRule } from './sensitive-paths.js';

/** /var/lib/svc and everything below it. */
export const isSvcState = (path: string) =>
  path === RECORDS_ROOT || path.startsWith(`${RECORDS_ROOT}/`);

export interface GateContext {
  host: string;
  facts: HostFacts;
  /** The service being planned: its own unit files are not sensitive. */
  serviceName: string | undefined;
  /** --allow-path: exact paths (sensitive files, accepted group-writable directories). */
  allowed: ReadonlySet<string>;
  /** Links this plan makes (their paths): nothing the project asks for is written below one. */
  plannedLinks: readonly string[];
  problems: string[];
  warnings: string[];
}

/**
 * The sensitive-path gate for what the project asks for (a config/ file, a project playbook's
 * dir or link step): the path as written and the path as the host resolves it (a link such as
 * /etc/rc.d -> /etc on the way must not lead around the list) must each be outside the list or
 * named exactly by --allow-path. Nor may it lie below a link this same plan makes: the host
 * cannot say yet where that leads.
 */
export function gatePath(
  ctx: GateContext,
  path: string,
  what: 'file' | 'directory' | 'link',
  /** For a directory: the mode and owner it is given. */
  dir?: { mode: number; owner: string; group: string },
): boolean {
  const below = ctx.plannedLinks.find((link) => path.startsWith(`${link}/`));
  if (below !== undefined) {
    ctx.problems.push(
      `${path} on ${ctx.host} lies below ${below}, a link this plan makes; svc does not write through a link`,
    );
    return false;
  }
  const resolved = resolvedPath(ctx.facts, path);
  // svc's records decide what a later deploy deletes, its locks who deploys: no project step may
  // make, hand out or link anything there, whatever flag.
  // The one exception: the default playbook's own step for the service's records directory,
  // exactly as svc makes it (root's, 0700), which a project's copy of that playbook keeps. A plan
  // with no service has no records directory (else /var/lib/svc/undefined would pass as one).
  const ownRecords =
    what === 'directory' &&
    ctx.serviceName !== undefined &&
    path === resolved &&
    path === `${RECORDS_ROOT}/${ctx.serviceName}` &&
    dir?.owner === 'root' &&
    dir.group === 'root' &&
    dir.mode === 0o700;
  const state = [path, resolved].find(
    (candidate) => candidate !== undefined && isSvcState(candidate),
  );
  if (state !== undefined && !ownRecords) {
    ctx.problems.push(
      `${path} on ${ctx.host}${state === path ? '' : ` resolves to ${state}, which`} is in ${RECORDS_ROOT}, svc's own state (records, locks); no ${what} from the project may be there, whatever --allow-path says`,
    );
    return false;
  }
  if (resolved === undefined) {
    ctx.problems.push(
      `${path} on ${ctx.host}: the host could not resolve the directories on its way (a link loop?); svc does not write there`,
    );
    return false;
  }
  const rule = (candidate: string) =>
    (what === 'file'
      ? sensitiveRule(candidate, ctx.serviceName)
      : homeWaiver(ctx, candidate, sensitiveDirRule(candidate, ctx.serviceName))) ??
    loginHomeRule(ctx.facts.login.home, candidate, what !== 'file');
  let ok = true;
  for (const candidate of resolved === path ? [path] : [path, resolved]) {
    const matched = rule(candidate);
    if (matched === undefined) continue;
    const via = candidate === path ? '' : `resolves to ${candidate}, which `;
    if (ctx.allowed.has(candidate)) {
      ctx.warnings.push(
        `${path} ${via}is a sensitive ${what} (${matched}), written because of --allow-path`,
      );
      continue;
    }
    ctx.problems.push(
      `${path} on ${ctx.host} ${via}is a sensitive ${what} (${matched}); svc writes it only with --allow-path ${shellQuote(candidate)}`,
    );
    ok = false;
  }
  return ok;
}

/**
 * The SSH login user runs sudo: its shell startup files (~/.profile, ~/.bashrc, ~/.config/...)
 * and ~/bin (on its PATH) decide what runs as root next time, wherever its home is (the list's
 * /home/*\/.* and /root/** cover only the usual homes). For a directory step, the home itself
 * too: a mode on it hands out all of them.
 */
function loginHomeRule(home: string, path: string, isDir: boolean): string | undefined {
  if (home === '/' || home === '') return undefined;
  if (isDir && path === home) return '~ (the login home)';
  if (!path.startsWith(`${home}/`)) return undefined;
  const below = path.slice(home.length + 1).split('/');
  if (below[0] === 'bin') return '~/bin/**';
  return below.some((part) => part.startsWith('.')) ? '~/.*' : undefined;
}

/**
 * A project playbook's directories and links in the login user's home (~/service, ~/log) are
 * the login user's own, also when that is root (/root/**): but not its dot files (shell startup,
 * .ssh) nor ~/bin (on root's PATH).
 */
function homeWaiver(ctx: GateContext, path: string, rule: string | undefined): string | undefined {
  const home = ctx.facts.login.home;
  if (rule !== '/root/**' || !path.startsWith(`${home}/`)) return rule;
  const below = path.slice(home.length + 1).split('/');
  return below[0] === 'bin' || below.some((part) => part.startsWith('.')) ? rule : undefined;
}

/**
 * Root never writes where another user can plant a link: every directory on the way to a path
 * this plan writes (as the host resolves it) must be one only root (or the login user, who is
 * root through sudo) can change. A root-owned directory writable by a group other than root can
 * be accepted with --allow-path naming exactly that directory; one owned by another user, or
 * writable by everyone (sticky or not), cannot.
 */
export function parentChainProblems(ctx: GateContext, writes: readonly string[]): void {
  for (const unsafe of unsafeDirs(ctx.facts, writes)) {
    const { dir, reason, path, more } = unsafe;
    const what = `${path}${more > 0 ? ` and ${more} more` : ''}`;
    if (acceptable(dir) && ctx.allowed.has(dir.path)) {
      ctx.warnings.push(
        `${dir.path} is ${reason}; root writes below it (${what}) because of --allow-path`,
      );
      continue;
    }
    ctx.problems.push(
      `${dir.path} on ${ctx.host} is ${reason}, and root would write below it (${what}): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)${acceptable(dir) ? ` or accept it with --allow-path ${shellQuote(dir.path)}` : ''}`,
    );
  }
}
