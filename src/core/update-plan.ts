// What `svc update` does to each generated file, decided from three texts: base (the record: what
// svc generated last time), ours (the project's file now) and theirs (what svc generates now).
// Pure: the CLI reads the three and writes what this returns.
import { mergeManifestText } from './manifest-merge.js';
import { mergeText, type ConflictStyle } from './text-merge.js';

export const OUTCOMES = [
  'unchanged',
  'updated',
  'kept',
  'merged',
  'conflict',
  'added',
  'removed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface FileUpdate {
  path: string;
  outcome: Outcome;
  /** The file's new text, when it is written. */
  write?: string;
  /** Delete the file (only an untouched file the scaffold no longer has). */
  remove?: boolean;
  /** --conflict rej: FILE.rej's text. */
  rej?: string;
  conflicts?: number;
  note?: string;
}

export interface FileTexts {
  path: string;
  base?: string;
  ours?: string;
  theirs?: string;
}

export interface UpdateOptions {
  svcVersion: string;
  conflictStyle: ConflictStyle;
  /** The file merged as data (svc.yaml), not as lines. */
  manifestPath: string;
}

function merged(texts: Required<Omit<FileTexts, 'path'>>, path: string, options: UpdateOptions) {
  const { base, ours, theirs } = texts;
  if (path === options.manifestPath) {
    // svc.yaml conflicts always get markers: a .rej of data would say nothing a reader could apply.
    const result = mergeManifestText(base, ours, theirs, options.svcVersion);
    return {
      text: result.text,
      conflicts: result.conflicts.length,
      note: result.conflicts.length > 0 ? `keys ${result.conflicts.join(', ')}` : undefined,
    };
  }
  return { ...mergeText(base, ours, theirs, options.svcVersion, options.conflictStyle) };
}

/** Every line of the text ends with CRLF (an editor's or git's autocrlf), none with LF alone. */
function allCrlf(text: string): boolean {
  return text.includes('\r\n') && !/(^|[^\r])\n/.test(text);
}

/**
 * A file the user keeps with CRLF line ends, where svc generates LF: line ends alone are no edit.
 * It is merged as LF (else every line would differ and the whole file conflict) and what is
 * written gets CRLF back, so that only the lines the update changed differ.
 */
export function updateFile(texts: FileTexts, options: UpdateOptions): FileUpdate {
  const { ours, base, theirs } = texts;
  if (ours === undefined || !allCrlf(ours) || base?.includes('\r') || theirs?.includes('\r'))
    return updateLfFile(texts, options);
  const update = updateLfFile({ ...texts, ours: ours.replaceAll('\r\n', '\n') }, options);
  const crlf = (text: string) => text.replaceAll('\n', '\r\n');
  return {
    ...update,
    ...(update.write !== undefined && { write: crlf(update.write) }),
    ...(update.rej !== undefined && { rej: crlf(update.rej) }),
  };
}

function updateLfFile(texts: FileTexts, options: UpdateOptions): FileUpdate {
  const { path, base, ours, theirs } = texts;
  if (theirs === undefined) {
    if (ours === undefined) return { path, outcome: 'removed', note: 'already gone' };
    if (base === undefined || ours === base) return { path, outcome: 'removed', remove: true };
    return {
      path,
      outcome: 'kept',
      note: 'gone from the scaffold; you changed it, so it stays',
    };
  }
  if (ours === undefined)
    return base === undefined
      ? { path, outcome: 'added', write: theirs }
      : { path, outcome: 'kept', note: 'you deleted it; it stays deleted' };
  if (ours === theirs) return { path, outcome: 'unchanged' };
  if (base === ours) return { path, outcome: 'updated', write: theirs };
  if (base === theirs) return { path, outcome: 'kept' };
  // A file at a path svc never generated here before: both sides are new, merged from nothing.
  const result = merged({ base: base ?? '', ours, theirs }, path, options);
  if (result.conflicts === 0)
    return result.text === ours
      ? { path, outcome: 'kept' }
      : { path, outcome: 'merged', write: result.text };
  return {
    path,
    outcome: 'conflict',
    conflicts: result.conflicts,
    ...(result.text !== ours && { write: result.text }),
    ...('rej' in result && result.rej !== undefined && { rej: result.rej }),
    ...('note' in result && result.note !== undefined && { note: result.note }),
  };
}
