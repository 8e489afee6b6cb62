// A release change's contents as plan text: one summary line against the live release, then
// the paths with sizes (at most MAX_LISTED, then "... and N more"), and with --diff each changed
// text file's diff under its line.
// Every path and diff line came from the host (its recorded list, its live files): shown with
// control and bidi characters escaped, so a host cannot move the cursor or reorder the plan.
import type { ReleaseContents } from './release-contents.js';
import { escapeControls as shown } from './visible.js';

export interface ContentsPaint {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  dim(text: string): string;
}

/** Paths listed per release change; the rest are counted. */
export const MAX_LISTED = 20;
const INDENT = '      ';

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function releaseContentsLines(contents: ReleaseContents, paint: ContentsPaint): string[] {
  if (contents.unknown !== undefined)
    return [
      `${INDENT}${paint.dim(`files: live release ${contents.live} unknown: ${shown(contents.unknown)}`)}`,
    ];
  const { added, changed, removed } = contents;
  if (added.length + changed.length + removed.length === 0)
    return [`${INDENT}${paint.dim(`files: the same as live release ${contents.live}`)}`];
  const lines = [
    `${INDENT}files against live release ${contents.live}: ${paint.green(`+ ${added.length} added`)}, ${paint.yellow(`~ ${changed.length} changed`)}, ${paint.red(`- ${removed.length} removed`)}`,
  ];
  const entries: string[][] = [
    ...added.map((file) => [
      `${INDENT}${paint.green(`+ ${shown(file.path)}`)}  ${paint.dim(formatBytes(file.size))}`,
    ]),
    ...changed.map((file) => {
      const sizes =
        file.size === file.sizeBefore
          ? formatBytes(file.size)
          : `${formatBytes(file.sizeBefore)} -> ${formatBytes(file.size)}`;
      const mode = file.mode !== undefined ? `, mode ${file.modeBefore} -> ${file.mode}` : '';
      const head = `${INDENT}${paint.yellow(`~ ${shown(file.path)}`)}  ${paint.dim(`${sizes}${mode}`)}`;
      if (file.sensitive)
        return [head, `${INDENT}  ${paint.yellow('(sensitive: content not shown)')}`];
      if (file.diff === undefined) return [head];
      return [
        head,
        ...file.diff.split('\n').map((text) => {
          const line = shown(text);
          const painted = line.startsWith('+')
            ? paint.green(line)
            : line.startsWith('-')
              ? paint.red(line)
              : line;
          return `${INDENT}  ${painted}`;
        }),
      ];
    }),
    ...removed.map((file) => [
      `${INDENT}${paint.red(`- ${shown(file.path)}`)}  ${paint.dim(formatBytes(file.size))}`,
    ]),
  ];
  for (const entry of entries.slice(0, MAX_LISTED)) lines.push(...entry);
  if (entries.length > MAX_LISTED)
    lines.push(`${INDENT}${paint.dim(`... and ${entries.length - MAX_LISTED} more`)}`);
  return lines;
}
