// The three-way merge of one generated file for `svc update`: base = what svc generated last
// time (the record), ours = the file in the project, theirs = what svc generates now. The line
// merge itself is node-diff3's (the diff3 algorithm, as GNU diff3 and git use); this file only
// decides what a conflict looks like: git's markers, or a .rej listing of the scaffold's hunks.
import { diff3Merge } from 'node-diff3';

export type ConflictStyle = 'markers' | 'rej';

export interface TextMerge {
  /** The merged text: clean, with conflict markers, or (rej style) with the user's side kept. */
  text: string;
  conflicts: number;
  /** rej style with conflicts: what the scaffold wanted at each conflict, for FILE.rej. */
  rej?: string;
}

/** Lines with their own line ends, so a file without a final newline merges as it is. */
export function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A block of lines for between markers: the last ends with a newline, or the marker would join it. */
function block(lines: readonly string[]): string {
  const text = lines.join('');
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

function hunk(label: string, lines: readonly string[]): string {
  return lines.map((line) => `${label}${line.endsWith('\n') ? line : `${line}\n`}`).join('');
}

export function mergeText(
  base: string,
  ours: string,
  theirs: string,
  svcVersion: string,
  style: ConflictStyle = 'markers',
): TextMerge {
  const regions = diff3Merge(linesOf(ours), linesOf(base), linesOf(theirs));
  let text = '';
  let rej = '';
  let conflicts = 0;
  for (const region of regions) {
    if (region.ok !== undefined) {
      text += region.ok.join('');
      continue;
    }
    const conflict = region.conflict!;
    conflicts++;
    if (style === 'markers') {
      text += `<<<<<<< project\n${block(conflict.a)}=======\n${block(conflict.b)}>>>>>>> svc ${svcVersion}\n`;
      continue;
    }
    const line = linesOf(text).length + 1;
    text += conflict.a.join('');
    rej +=
      `@@ at line ${line} of your file: svc ${svcVersion} changed these lines, and so did you @@\n` +
      hunk('-', conflict.o) +
      hunk('+', conflict.b);
  }
  return { text, conflicts, ...(style === 'rej' && conflicts > 0 && { rej }) };
}

/** A line that only a conflict marker starts with: a file still holding an unresolved conflict. */
export function hasConflictMarkers(text: string): boolean {
  return /^(<<<<<<< project|>>>>>>> svc .*)$/m.test(text);
}
