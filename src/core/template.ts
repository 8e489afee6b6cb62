// EJS, the one template language of svc (scaffolds, config/*.ejs, playbook values). EJS compiles
// templates to JavaScript, so: the options object is a frozen constant that no data can reach;
// includes are refused; and `<%=` (HTML escaping) is allowed only in HTML, because elsewhere it
// would look like quoting while protecting nothing: a template calls its format's quoter instead,
// `<%- it.q.sh(x) %>`, or rendering fails.
import ejs, { type Options } from 'ejs';
import { cutoverOf, isSwitch, slotsOf, upstreamFile } from './cutover.js';
import { hostLayout } from './layout.js';
import { kindOf, type Manifest } from './manifest.js';
import { quoters } from './quote.js';

function refuseHtmlEscape(): never {
  throw new Error(
    '<%= escapes HTML only; call the quoter for this file format, e.g. <%- it.q.sh(x) %>',
  );
}
function refuseInclude(): never {
  throw new Error('templates may not include other files');
}

const BASE_OPTIONS: Options = Object.freeze({
  strict: true,
  localsName: 'it',
  // Stryker disable next-line BooleanLiteral: EJS forces _with off whenever strict is on (ejs.js: `if (options.strict) options._with = false`); said here for the reader
  _with: false,
  async: false,
  cache: false,
  compileDebug: true,
  rmWhitespace: false,
  includer: refuseInclude,
});
const HTML_OPTIONS: Options = Object.freeze({ ...BASE_OPTIONS });
const OTHER_OPTIONS: Options = Object.freeze({ ...BASE_OPTIONS });

/** A frozen, null-prototype copy of exactly the given keys: the only values a template sees. */
export function templateDataOf(values: Record<string, unknown>): object {
  const data = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) data[key] = value;
  return Object.freeze(data);
}

/** Renders template source; `html` decides whether `<%=` is allowed. `filename` is for errors. */
export function renderText(source: string, data: object, html: boolean, filename: string): string {
  if (html) return ejs.render(source, data, { ...HTML_OPTIONS, filename });
  // EJS also passes the file name through `escape` when it reports an error (with its line): that
  // call is let through, or every error in a template would read as a refused `<%=`.
  const escape = (value: unknown) => (value === filename ? filename : refuseHtmlEscape());
  return ejs.render(source, data, { ...OTHER_OPTIONS, filename, escape });
}

/** What every template sees of a manifest (scaffolds, config/*.ejs, playbooks add their own). */
export function manifestTemplateValues(manifest: Manifest): Record<string, unknown> {
  return {
    name: manifest.name,
    kind: kindOf(manifest),
    description: manifest.description,
    runtime: manifest.runtime,
    port: manifest.port,
    appPort: manifest.appPort,
    cutover: cutoverOf(manifest),
    // cutover: switch: where nginx reads which slot is live, and the slots' ports.
    upstreamFile: upstreamFile(manifest.name),
    slotPorts: isSwitch(manifest) ? slotsOf(manifest).map((slot) => slot.port) : undefined,
    health: manifest.health,
    init: manifest.init,
    monit: manifest.monit,
    alert: manifest.alert,
    user: manifest.user,
    group: manifest.user,
    command: manifest.command ? [...manifest.command] : undefined,
    stopTimeout: manifest.stopTimeout,
    env: Object.entries(manifest.env),
    paths: hostLayout(manifest.name),
    q: quoters,
  };
}
