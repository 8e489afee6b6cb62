// Reading and writing svc.yaml as text. Parsing is strict: invalid UTF-8, duplicate keys, YAML
// errors and alias bombs are reported with the file and the line (and key) at fault rather than
// half-understood, each in one line however hostile the text.
import { Document, isMap, isPair, isScalar, parseDocument, visit, type YAMLError } from 'yaml';
import { SvcError } from './errors.js';
import {
  formatProblems,
  validateManifest,
  type Manifest,
  type ManifestProblem,
} from './manifest.js';
import { shownText } from './naming.js';

export const MANIFEST_FILE = 'svc.yaml';
export const MAX_MANIFEST_BYTES = 256 * 1024;
/** yaml's guard against alias bombs: how far aliases may multiply what they refer to. */
const MAX_ALIAS_COUNT = 50;

export class ManifestError extends SvcError {
  readonly lines: string[];
  constructor(lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ManifestError';
    this.lines = lines;
  }
}

export function parseManifest(bytes: Uint8Array, file = MANIFEST_FILE): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new ManifestError([tooLarge(bytes, file)]);
  const text = decodeUtf8(bytes, file);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0)
    throw new ManifestError(doc.errors.map((error) => describeYamlError(error, doc, text, file)));
  const result = validateManifest(toData(doc, text, file));
  if (!result.ok)
    throw new ManifestError(formatProblems(file, inDocumentOrder(doc, result.problems)));
  return result.manifest;
}

/** 1-based line and column of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

const at = (file: string, text: string, offset: number) => {
  const { line, column } = position(text, offset);
  return `${file}:${line}:${column}`;
};

/** The key a line starts with (`description: ...` -> description), if it looks like one. */
function keyOfLine(line: string): string | undefined {
  return /^\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*:/.exec(line.slice(0, 200))?.[1];
}

/** Names the line that makes the file too large when one line does (a 10 MB value, say). */
function tooLarge(bytes: Uint8Array, file: string): string {
  const limit = `${file} may be at most ${MAX_MANIFEST_BYTES / 1024} KiB`;
  let longest = { line: 0, start: 0, length: 0 };
  for (let start = 0, line = 1; start <= bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end === -1 ? bytes.length : end;
    if (stop - start > longest.length) longest = { line, start, length: stop - start };
    start = stop + 1;
  }
  if (longest.length <= MAX_MANIFEST_BYTES / 2)
    return `${file}: ${bytes.length} bytes; ${limit} (is this the right file?)`;
  const head = new TextDecoder().decode(bytes.subarray(longest.start, longest.start + 200));
  const key = keyOfLine(head);
  return `${file}:${longest.line}: ${key === undefined ? '' : `${key}: `}a line of ${longest.length} bytes; ${limit}`;
}

/** The text, or an error naming the first line that is not UTF-8. */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    return strict.decode(bytes);
  } catch {
    // A newline byte never occurs inside a multi-byte character: each line decodes on its own.
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end === -1 ? bytes.length : end;
      try {
        strict.decode(bytes.subarray(start, stop));
      } catch {
        throw new ManifestError([`${file}:${line}: not valid UTF-8; save ${file} as UTF-8`]);
      }
      if (end === -1) throw new ManifestError([`${file}: not valid UTF-8`]);
      start = end + 1;
    }
  }
}

/** The key of the pair whose key starts at `offset`, and the line of its first occurrence. */
function duplicateKey(doc: Document, text: string, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_, map) {
      const at = map.items.find((pair) => isScalar(pair.key) && pair.key.range?.[0] === offset);
      if (at === undefined || !isScalar(at.key)) return undefined;
      const key = String(at.key.value);
      const first = map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key);
      const firstLine = position(text, (first?.key as { range?: number[] }).range?.[0] ?? 0).line;
      found = `${shownText(key, 64)}: duplicate key (first on line ${firstLine})`;
      return visit.BREAK;
    },
  });
  return found;
}

/** One line for a YAML error in `file`: where, and for a duplicate key which key (answers.yaml too). */
export function describeYamlError(
  error: YAMLError,
  doc: Document,
  text: string,
  file: string,
): string {
  const where = at(file, text, error.pos[0]);
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return `${where}: ${duplicateKey(doc, text, error.pos[0]) ?? 'duplicate key'}`;
    case 'MULTIPLE_DOCS':
      return `${where}: more than one YAML document (a second ---?); ${file} is one mapping`;
    case 'RESOURCE_EXHAUSTION':
      return `${where}: nested too deeply`;
    default:
      return `${where}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '')}`;
  }
}

/** The plain data, or an error naming the top-level key whose aliases explode (billion laughs). */
function toData(doc: Document, text: string, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const reason = 'its YAML aliases expand too far (an alias bomb?)';
    const culprit = aliasBombAt(doc);
    if (culprit !== undefined && isPair(culprit) && isScalar(culprit.key)) {
      const where = at(file, text, culprit.key.range?.[0] ?? 0);
      throw new ManifestError([`${where}: ${shownText(String(culprit.key.value), 64)}: ${reason}`]);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new ManifestError([`${file}: ${/alias/i.test(message) ? reason : message}`]);
  }
}

/** The first top-level pair that, with those before it, no longer converts within the limit. */
function aliasBombAt(doc: Document): unknown {
  if (!isMap(doc.contents)) return undefined;
  const items = doc.contents.items;
  for (let count = 1; count <= items.length; count++) {
    const partial = doc.clone();
    (partial.contents as typeof doc.contents).items.splice(count);
    try {
      partial.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return items[count - 1];
    }
  }
  return undefined;
}

/** Problems sorted by where their field stands in the file; missing fields last, in schema order. */
function inDocumentOrder(doc: Document, problems: readonly ManifestProblem[]): ManifestProblem[] {
  const offset = (problem: ManifestProblem) => {
    const node = doc.getIn(problem.keys, true) as { range?: [number, number, number] } | undefined;
    return node?.range?.[0] ?? Number.MAX_SAFE_INTEGER;
  };
  return problems
    .map((problem, index) => ({ problem, index, at: offset(problem) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ problem }) => problem);
}

const HEADER = ` svc.yaml: how this service was made and how svc deploys it.
 Written by \`svc new\`; edit freely, \`svc\` validates it on every run.`;

export function stringifyManifest(manifest: Manifest): string {
  const doc = new Document(manifest);
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
