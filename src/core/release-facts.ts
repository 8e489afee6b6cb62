// The fact script's part about the live release: which release `current` points at, the file
// list svc recorded for it (V), and with --diff the live content of the new release's text files
// whose hash differs from the recorded one (Z). Still the one round trip: the deployer knows the
// new release's hashes before it asks, and the host compares them with the recorded list (awk,
// one process) and sends only what differs, within a byte budget.
import { shellQuote } from './quote.js';
import type { LocalFile } from './release.js';
import {
  encodeReleasePath,
  isSecretReleasePath,
  MAX_RELEASE_FILES_BYTES,
  parseReleaseFiles,
  type ReleaseFile,
} from './release-files.js';

/** A file larger than this is compared by hash only: a config file's, and a release file's. */
export const MAX_DIFF_BYTES = 256 * 1024;
/** At most this much live content per host and plan: the rest is compared by hash only. */
export const RELEASE_DIFF_BUDGET = 1024 * 1024;

export interface LiveReleaseRequest {
  /** /var/www/NAME/current */
  currentLink: string;
  /** /var/www/NAME/releases */
  releasesDir: string;
  /** /var/lib/svc/NAME/releases: svc's recorded file lists, root's alone. */
  listsDir: string;
  /** --diff: the new release's text files (not secret, within the cap) and their sha256. */
  candidates: { path: string; sha256: string }[];
  /** --diff was asked: a changed file's entry says why it has no diff. */
  diff: boolean;
}

export interface LiveRelease {
  /** The release `current` points at; undefined when there is none (or not svc's shape). */
  id?: string;
  /** Its recorded file list; undefined when unknown (see `unknown`). */
  files?: ReleaseFile[];
  /** Why the list is unknown: none recorded (an older svc made it), or it does not parse. */
  unknown?: string;
  /** Live content of candidates whose hash differed, by path (unchecked: see release-contents). */
  content: Map<string, Uint8Array>;
  /** --diff was asked (the request's). */
  diff: boolean;
}

/** A text file: no NUL byte, valid UTF-8. */
export function isTextContent(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A file of the new release whose live content --diff may ask for: text, not secret, within the cap. */
export function isDiffCandidate(file: LocalFile): boolean {
  return (
    file.content.length <= MAX_DIFF_BYTES &&
    !isSecretReleasePath(file.path) &&
    isTextContent(file.content)
  );
}

/** What to ask about the live release; candidates only with --diff. */
export function liveReleaseRequest(
  paths: { currentLink: string; releasesDir: string; listsDir: string },
  release: readonly LocalFile[],
  diff: boolean,
): LiveReleaseRequest {
  const candidates = diff
    ? release.filter(isDiffCandidate).map((file) => ({ path: file.path, sha256: file.sha256 }))
    : [];
  return { ...paths, candidates, diff };
}

// The id as layout.ts's liveReleaseOf reads it: `releases/ID` or the absolute path to it.
const LIVE_ID = String.raw`live_id() {
  id=-
  [ -L "$rel_current" ] || return 0
  cur=$(readlink -- "$rel_current") || return 0
  id=${'$'}{cur##*/}
  case $id in '' | . | .. | *[!A-Za-z0-9._-]*) id=-; return 0 ;; esac
  [ "$cur" = "releases/$id" ] || [ "$cur" = "$rel_dir/$id" ] || id=-
}`;

/** The sh for V (and Z) records; it needs the fact script's prelude (b64, rd). */
export function liveReleaseScript(request: LiveReleaseRequest): string {
  const lines = [
    `rel_current=${shellQuote(request.currentLink)}`,
    `rel_dir=${shellQuote(request.releasesDir)}`,
    `rel_lists=${shellQuote(request.listsDir)}`,
    LIVE_ID,
    'live_id',
    'rel_list=',
    'if [ "$id" = - ]; then printf \'V\\t-\\n\'',
    'elif rel_list=$rel_lists/$id; [ -f "$rel_list" ] && [ ! -L "$rel_list" ]; then',
    `  printf 'V\\t=%s\\t%s\\n' "$id" "$(head -c ${MAX_RELEASE_FILES_BYTES + 1} "$rel_list" | b64)"`,
    'else rel_list=; printf \'V\\t=%s\\t-\\n\' "$id"; fi',
  ];
  if (request.candidates.length === 0) return lines.join('\n');
  const cases = request.candidates
    .map((candidate, index) => `${index}) p=${shellQuote(candidate.path)} ;;`)
    .join('\n');
  // Candidates as `index TAB sha256 TAB encoded path`, the list's own encoding: awk matches the
  // path field as is, prints the index and recorded size of each file whose recorded hash
  // differs and whose recorded size fits, and stops at the budget (in the list's path order).
  const table = request.candidates
    .map(
      (candidate, index) => `${index}\t${candidate.sha256}\t${encodeReleasePath(candidate.path)}`,
    )
    .join('\n');
  lines.push(
    `rel_content() {\ncase $1 in\n${cases}\n*) return 0 ;;\nesac`,
    'f=$rel_dir/$id/$p',
    // A file only, read without following a link (rd); what it holds is checked against the
    // recorded sha256 before anything of it is shown.
    // At most the recorded size and a byte (a copy grown since shows as not what svc recorded):
    // the budget counts what is read, not only what the list says.
    `if [ -f "$f" ] && [ ! -L "$f" ]; then printf 'Z\\t%s\\t%s\\n' "$1" "$(rd "$f" | head -c $(($2 + 1)) | b64)"; fi\n}`,
    'if [ -n "$rel_list" ]; then',
    `awk -v cap=${MAX_DIFF_BYTES} -v budget=${RELEASE_DIFF_BUDGET} 'BEGIN { FS = "\\t" }`,
    'NR == FNR { idx[$3] = $1; sum[$3] = $2; next }',
    // A path the list has twice (a list the parser then calls unreadable) is asked once, and
    // sort -u keeps each index once: a Z record repeated would fail the host's whole facts.
    'FNR > 1 && $1 == "file" && ($5 in sum) && !seen[$5]++ && sum[$5] != $4 && $3 + 0 <= cap { total += $3; if (total > budget) exit; print idx[$5], $3 + 0 }',
    `' - "$rel_list" <<'SVC_RELEASE_CANDIDATES' | sort -n -u | while read -r i size; do rel_content "$i" "$size"; done`,
    table,
    'SVC_RELEASE_CANDIDATES',
    'fi',
  );
  return lines.join('\n');
}

/** The parts of facts-parse.ts's reader this needs. */
export interface RecordReader {
  next(tag: string, fields: number): string[];
  peek(tag: string): boolean;
  peekFieldCount(tag: string): number;
  check(ok: boolean, reason: string): void;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const LIVE = /^=[A-Za-z0-9._-]+$/;

function base64Bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** V, then the Z records: the transport is checked strictly; the list's own shape is its own. */
export function readLiveRelease(reader: RecordReader, request: LiveReleaseRequest): LiveRelease {
  const content = new Map<string, Uint8Array>();
  const diff = request.diff;
  const fields = reader.next('V', reader.peekFieldCount('V') === 1 ? 1 : 2);
  if (fields.length === 1) {
    reader.check(fields[0] === '-', 'bad live release record');
    reader.check(!reader.peek('Z'), 'release content without a live release');
    return { content, diff };
  }
  const [idField, list] = fields as [string, string];
  reader.check(
    LIVE.test(idField) && idField !== '=.' && idField !== '=..',
    'bad live release name',
  );
  reader.check(list === '-' || BASE64.test(list), 'the live release file list is not base64');
  const id = idField.slice(1);
  let last = -1;
  while (reader.peek('Z')) {
    const [index, body] = reader.next('Z', 2);
    const at = /^\d{1,9}$/.test(index!) ? Number(index) : -1;
    reader.check(
      at > last && at < request.candidates.length && BASE64.test(body!),
      'bad release content record',
    );
    last = at;
    content.set(request.candidates[at]!.path, base64Bytes(body!));
  }
  if (list === '-')
    return {
      id,
      unknown: 'no file list is recorded for it (an older svc made it)',
      content,
      diff,
    };
  const parsed = parseReleaseFiles(base64Bytes(list));
  if ('error' in parsed)
    return { id, unknown: `its recorded file list is unreadable: ${parsed.error}`, content, diff };
  return { id, files: parsed.files, content, diff };
}
