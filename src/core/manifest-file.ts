// Reading and writing svc.yaml as text. Parsing is strict: invalid UTF-8, duplicate keys, YAML
// errors and alias bombs are reported with the file (and line) rather than half-understood.
import { Document, parseDocument } from 'yaml';
import { SvcError } from './errors.js';
import {
  formatProblems,
  validateManifest,
  type Manifest,
  type ManifestProblem,
} from './manifest.js';

export const MANIFEST_FILE = 'svc.yaml';
const MAX_MANIFEST_BYTES = 256 * 1024;

export class ManifestError extends SvcError {
  readonly lines: string[];
  constructor(lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ManifestError';
    this.lines = lines;
  }
}

export function parseManifest(bytes: Uint8Array, file = MANIFEST_FILE): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError([
      `${file}: larger than ${MAX_MANIFEST_BYTES / 1024} KiB; is this the right file?`,
    ]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestError([`${file}: not valid UTF-8`]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? `${file}:${at.line}:${at.col}` : file;
        return `${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '')}`;
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw new ManifestError([`${file}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const result = validateManifest(data);
  if (!result.ok)
    throw new ManifestError(formatProblems(file, inDocumentOrder(doc, result.problems)));
  return result.manifest;
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
