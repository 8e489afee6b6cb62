// Reading and writing svc.yaml as text. Parsing is strict: invalid UTF-8, duplicate keys, YAML
// errors and alias bombs are reported with the file (and line) rather than half-understood.
import { Document, parseDocument } from 'yaml';
import { SvcError } from './errors.js';
import { formatProblems, validateManifest, type Manifest } from './manifest.js';

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
    throw new ManifestError([`${file}: larger than ${MAX_MANIFEST_BYTES / 1024} KiB; is this the right file?`]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestError([`${file}: not valid UTF-8`]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? `${file}:${at.line}:${at.col}` : file;
        return `${where}: ${e.message.split('\n')[0]}`;
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
  if (!result.ok) throw new ManifestError(formatProblems(file, result.problems));
  return result.manifest;
}

const HEADER = ` svc.yaml: how this service was made and how svc deploys it.
 Written by \`svc new\`; edit freely, \`svc\` validates it on every run.`;

export function stringifyManifest(manifest: Manifest): string {
  const doc = new Document(manifest);
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
