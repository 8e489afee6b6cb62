// Where a V8 CPU profile (`node --cpu-prof`) of bin/svc spends its time: self time per function
// and per source module, grouped (ssh2 crypto and key exchange, gzip, planning, rendering, ...).
// The bundle is mapped back to its modules by the `// node_modules/PKG/...` and `// src/...`
// comment esbuild writes before each one. Used by the bench's --cpu-prof; also by hand:
//
//   node bench/deploy/cpu-profile.mjs FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// First match wins: a module path (or V8's pseudo-frame) -> the group it is counted in.
const GROUPS = [
  [/^\(garbage collector\)$/, 'GC'],
  [/^\(idle\)$/, 'idle (waiting on the network or hosts)'],
  [/^\(program\)$/, 'V8/Node native (program)'],
  [/^\((writeBuffer|writev|write\w*String)\)$/, 'socket and pipe writes (native)'],
  [/^\((openFileHandle|lstat|stat|fstat|open|close|read\w*)\)$/, 'file system (native)'],
  [/^dist\/bundle\/|^bin\//, 'bundle runtime and module top level'],
  [/node_modules\/ssh2\/lib\/protocol\/(crypto|kex|keyParser)/, 'ssh2 crypto/kex'],
  [/node_modules\/ssh2\//, 'ssh2 protocol/streams'],
  [/^node:zlib|internal\/zlib|^zlib/, 'gzip (node:zlib)'],
  [/^node:crypto|internal\/crypto/, 'node:crypto (hashing, ciphers)'],
  [/src\/core\/(tar|release)/, 'release: tar stream and ids'],
  [
    /src\/core\/(apply-script|apply-files|cutover-script|helper-scripts|expand|template)/,
    'apply script rendering',
  ],
  [/src\/core\/(plan|facts|fact-request|operations|layout|env-diff)/, 'planning and facts'],
  [
    /src\/(scaffold|ui)\/|node_modules\/(ejs|listr2|@inquirer|chalk|ansi|wrap-ansi)/,
    'rendering and terminal output',
  ],
  [/node_modules\/(yaml|zod)\//, 'svc.yaml parsing (yaml, zod)'],
  [/src\/project\//, 'reading the project'],
  [/src\/remote\//, 'svc remote (connections, host runs)'],
  [/src\/core\//, 'svc core (other)'],
  [/src\/cli\/|node_modules\/commander\//, 'cli'],
  [/node_modules\/diff\//, 'diff'],
  [
    /^node:internal\/(streams|stream_base|net|child_process|process|timers)|^node:(net|stream|child_process)/,
    'Node streams, sockets, processes',
  ],
  [/^node:internal\/(modules|vm|bootstrap)|^node:internal\/main/, 'Node module loading'],
  [/^node:/, 'Node internals (other)'],
];

function groupOf(module) {
  for (const [pattern, group] of GROUPS) if (pattern.test(module)) return group;
  return 'other';
}

/** For a bundle file: the line each module starts on, from esbuild's `// path` comments. */
function moduleMarkers(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const markers = [];
  text.split('\n').forEach((line, index) => {
    const match = /^\/\/ ((?:node_modules|src)\/\S+)$/.exec(line);
    if (match) markers.push({ line: index, module: match[1] });
  });
  return markers;
}

/** The module a frame belongs to: its bundle module, else its URL, else V8's pseudo-name. */
function moduleResolver() {
  const cache = new Map();
  return ({ url, lineNumber, functionName }) => {
    if (!url) return `(${functionName.replace(/^\(|\)$/g, '')})`;
    if (!url.startsWith('file:')) return url;
    const path = fileURLToPath(url);
    if (!cache.has(path)) cache.set(path, moduleMarkers(path));
    const markers = cache.get(path);
    let found = path.replace(/^.*\/(?=(?:node_modules|dist|bin|src)\/)/, '');
    for (const marker of markers) {
      if (marker.line > lineNumber) break;
      found = marker.module;
    }
    return found;
  };
}

/** Self time (ms) per function, module and group, and the profile's whole span. */
export function summarize(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, index) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  const moduleOf = moduleResolver();
  const functions = new Map();
  const modules = new Map();
  const groups = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id).callFrame;
    const module = moduleOf(frame);
    const name = `${frame.functionName || '(anonymous)'} (${module})`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    modules.set(module, (modules.get(module) ?? 0) + ms);
    const group = groupOf(module);
    groups.set(group, (groups.get(group) ?? 0) + ms);
    total += ms;
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(functions), modules: sorted(modules), groups: sorted(groups) };
}

/** The summary as text: groups, then the top modules and functions, with ms and share. */
export function formatSummary(summary, top = 20) {
  const busy = summary.total - (summary.groups.find(([g]) => g.startsWith('idle'))?.[1] ?? 0);
  const row = ([name, ms]) =>
    `  ${ms.toFixed(0).padStart(7)} ms ${name.startsWith('idle') || name.startsWith('(idle)') ? '     -' : `${((ms / busy) * 100).toFixed(1).padStart(5)}%`}  ${name}`;
  return [
    `profile span ${(summary.total / 1000).toFixed(2)} s, busy (not idle) ${(busy / 1000).toFixed(2)} s; shares are of busy time`,
    'by group:',
    ...summary.groups.map(row),
    `top ${top} modules (self time):`,
    ...summary.modules.slice(0, top).map(row),
    `top ${top} functions (self time):`,
    ...summary.functions.slice(0, top).map(row),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/deploy/cpu-profile.mjs FILE.cpuprofile [--top N]\n');
    process.exit(1);
  }
  const top = rest[0] === '--top' ? Number(rest[1]) : 20;
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(`${formatSummary(summarize(profile), top)}\n`);
}
