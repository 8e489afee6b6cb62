// svc.yaml in `svc update` is merged as data, not as lines: a key the scaffold changed follows the
// scaffold unless the user changed it too, a key the user added or changed stays, a key the
// scaffold added appears. The changes are made through yaml's Document API on the user's own
// file, so their comments, order and layout stay; a key both sides changed differently is a
// conflict, written with the same markers as any file around that top-level key.
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, parseDocument } from 'yaml';

export type DataChange =
  | { keys: string[]; kind: 'set'; value: unknown }
  | { keys: string[]; kind: 'delete' }
  | { keys: string[]; kind: 'conflict'; ours: unknown; theirs: unknown };

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What turns `ours` into the merge of base -> theirs into ours, key by key; mappings on all sides
 * (an absent base counts as an empty one) are merged per key, anything else is one value.
 */
export function mergeData(
  base: unknown,
  ours: unknown,
  theirs: unknown,
  keys: string[] = [],
): DataChange[] {
  if (isDeepStrictEqual(ours, theirs) || isDeepStrictEqual(base, theirs)) return [];
  // Mappings are merged key by key even where the user changed nothing: one changed key is then
  // one changed node, and the comments around the others stay.
  if (isMapping(ours) && isMapping(theirs) && (base === undefined || isMapping(base))) {
    const before = base ?? {};
    const names = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])];
    return names.flatMap((name) =>
      mergeData(before[name], ours[name], theirs[name], [...keys, name]),
    );
  }
  if (isDeepStrictEqual(base, ours))
    return theirs === undefined
      ? [{ keys, kind: 'delete' }]
      : [{ keys, kind: 'set', value: theirs }];
  return [{ keys, kind: 'conflict', ours, theirs }];
}

export interface ManifestMerge {
  text: string;
  /** The top-level keys in conflict, each one block of markers in `text`. */
  conflicts: string[];
  changed: boolean;
}

/** The user's text of one top-level key (its lines, without the comments after it), or ''. */
function keyBlock(text: string, key: string): { start: number; end: number } | undefined {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return undefined;
  const items = doc.contents.items;
  const index = items.findIndex((pair) => isScalar(pair.key) && String(pair.key.value) === key);
  if (index === -1) return undefined;
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const start = lineStart((items[index]!.key as { range: [number, number, number] }).range[0]);
  const next = items[index + 1]?.key as { range?: [number, number, number] } | undefined;
  let end = next?.range ? lineStart(next.range[0]) : text.length;
  // Comments and blank lines just before the next key belong to it.
  for (;;) {
    const previous = text.lastIndexOf('\n', end - 2) + 1;
    if (previous <= start) break;
    const line = text.slice(previous, end);
    if (!/^\s*(#.*)?\n?$/.test(line)) break;
    end = previous;
  }
  return { start, end };
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Merges svc.yaml: base and theirs are svc's renders (before, now), ours the user's file. Returns
 * ours unchanged (byte for byte) when nothing from the scaffold applies.
 */
export function mergeManifestText(
  base: string,
  ours: string,
  theirs: string,
  svcVersion: string,
): ManifestMerge {
  const doc = parseDocument(ours);
  const changes = mergeData(parseDocument(base).toJS(), doc.toJS(), parseDocument(theirs).toJS());
  if (changes.length === 0) return { text: ours, conflicts: [], changed: false };
  for (const change of changes) {
    if (change.kind === 'delete') doc.deleteIn(change.keys);
    if (change.kind !== 'set') continue;
    // A scalar keeps its node, and so the comment on its line; anything else is a new node.
    const node = doc.getIn(change.keys, true);
    const plain = change.value === null || typeof change.value !== 'object';
    if (isScalar(node) && plain) node.value = change.value;
    else doc.setIn(change.keys, doc.createNode(change.value));
  }
  let text = doc.toString({ lineWidth: 0 });
  const conflicts = [
    ...new Set(changes.filter((c) => c.kind === 'conflict').map((c) => c.keys[0]!)),
  ];
  const theirsData = parseDocument(theirs).toJS() as Mapping;
  const svcSide = (key: string) =>
    theirsData[key] === undefined
      ? ''
      : new Document({ [key]: theirsData[key] }).toString({ lineWidth: 0 });
  const markers = (key: string, projectSide: string) =>
    `<<<<<<< project\n${projectSide}=======\n${svcSide(key)}>>>>>>> svc ${svcVersion}\n`;
  // Every block is found in the clean text first, then replaced from the last one up.
  const blocks = conflicts.map((key) => ({ key, at: keyBlock(text, key) }));
  const appended = blocks.filter((block) => block.at === undefined).map((b) => markers(b.key, ''));
  for (const { key, at } of blocks
    .filter((block) => block.at !== undefined)
    .sort((a, b) => b.at!.start - a.at!.start)) {
    text = `${text.slice(0, at!.start)}${markers(key, withNewline(text.slice(at!.start, at!.end)))}${text.slice(at!.end)}`;
  }
  if (appended.length > 0) text = withNewline(text) + appended.join('');
  return { text, conflicts, changed: true };
}
