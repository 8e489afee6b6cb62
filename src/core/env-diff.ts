// What changed in the env file, key by key, without a secret ever leaving the host: the fact
// script sends svc.yaml's own lines as they are and every other line as sha256(salt, line), the
// salt being the run's random value (facts.ts). The plan then names each changed key; it shows the
// values of svc.yaml env: keys as a diff would, and of a secret only that it changed.
import type { EnvLine } from './env-file.js';
import { sha256Hex } from './release.js';

/** One line of the env file as the host reported it (an N record). */
export interface FoundEnvLine {
  key: string;
  /** The line itself: only for a key svc asked for as plain, in the file's plain part. */
  plain?: string;
  /** sha256 of the salt, a newline and the line: for every other line. */
  hash?: string;
}

export interface EnvKeyChange {
  key: string;
  change: 'added' | 'removed' | 'changed';
  /** A secret now, or a line the host did not send as it is: no value is shown. */
  sensitive?: true;
  /** The line(s) before, when the host sent them as they are and the key is no secret now. */
  before?: string[];
  /** The line(s) after, for a key that is no secret. */
  after?: string[];
}

/** The salted hash the fact script prints for a line (`printf '%s\n%s' salt line | sha256sum`). */
export function envLineHash(salt: string, line: string): string {
  return sha256Hex(`${salt}\n${line}`);
}

function byKey<T extends { key: string }>(lines: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const line of lines) map.set(line.key, [...(map.get(line.key) ?? []), line]);
  return map;
}

function same(wanted: EnvLine, found: FoundEnvLine, salt: string): boolean {
  return found.plain !== undefined
    ? found.plain === wanted.line
    : found.hash === envLineHash(salt, wanted.line);
}

/**
 * Each key whose lines differ, in the new file's order, then the keys that go. Comments are not
 * content (the host sends none): a header that changed alone changes nothing.
 */
export function envChanges(
  wanted: readonly EnvLine[],
  found: readonly FoundEnvLine[],
  salt: string,
): EnvKeyChange[] {
  const want = byKey(wanted);
  const have = byKey(found);
  const changes: EnvKeyChange[] = [];
  for (const key of new Set([...want.keys(), ...have.keys()])) {
    const now = want.get(key) ?? [];
    const before = have.get(key) ?? [];
    const unchanged =
      now.length === before.length && now.every((line, i) => same(line, before[i]!, salt));
    if (unchanged) continue;
    const change =
      before.length === 0 ? 'added' : now.length === 0 ? 'removed' : ('changed' as const);
    const secretNow = now.some((line) => line.secret);
    // A key that goes shows its old value only if the host sent it as it is (svc.yaml's part).
    const beforeShown = before.every((line) => line.plain !== undefined);
    const sensitive = secretNow || (now.length === 0 && !beforeShown);
    changes.push({
      key,
      change,
      ...(sensitive && { sensitive: true as const }),
      ...(!sensitive &&
        before.length > 0 &&
        beforeShown && { before: before.map((line) => line.plain!) }),
      ...(!sensitive && now.length > 0 && { after: now.map((line) => line.line) }),
    });
  }
  return changes;
}

/** The plan's lines for these changes: a diff of svc.yaml's values, a note for each secret. */
export function envChangeLines(changes: readonly EnvKeyChange[]): string[] {
  return changes.flatMap((change) => {
    if (change.sensitive) {
      const said = {
        added: '(sensitive value added)',
        removed: '(sensitive value removed)',
        changed: '(sensitive value changed)',
      }[change.change];
      const sign = { added: '+', removed: '-', changed: '~' }[change.change];
      return [`${sign} ${change.key} ${said}`];
    }
    const lines: string[] = [];
    if (change.before) lines.push(...change.before.map((line) => `-${line}`));
    else if (change.change === 'changed') lines.push(`-${change.key} (previous value not shown)`);
    lines.push(...(change.after ?? []).map((line) => `+${line}`));
    return lines;
  });
}
