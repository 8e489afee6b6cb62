// Renders the bundled EJS templates under scaffolds/. EJS compiles templates to JavaScript, so:
// only our own templates are rendered; the options object is fixed and frozen, never built from
// answers; the data object is assembled from allow-listed keys on a null prototype; and `<%=`
// (HTML escaping) is allowed only in HTML files: everywhere else a template must call the quoter
// for its format (`<%- it.q.sh(...) %>`), or rendering fails.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs, { type Options } from 'ejs';
import { hostLayout } from '../core/layout.js';
import { kindOf, type Manifest } from '../core/manifest.js';
import { quoters, QuoteError } from '../core/quote.js';
import { SvcError } from '../core/errors.js';
import { stringifyManifest } from '../core/manifest-file.js';
import { projectFiles, type ProjectFile } from './project.js';

export const SCAFFOLDS_DIR = fileURLToPath(new URL('../../scaffolds/', import.meta.url));

function refuseHtmlEscape(): never {
  throw new Error(
    '<%= escapes HTML only; call the quoter for this file format, e.g. <%- it.q.sh(x) %>',
  );
}
function refuseInclude(): never {
  throw new Error('templates may not include other files');
}

const BASE_OPTIONS: Options = {
  strict: true,
  localsName: 'it',
  _with: false,
  async: false,
  cache: false,
  compileDebug: true,
  rmWhitespace: false,
  includer: refuseInclude,
};
const HTML_OPTIONS = Object.freeze({ ...BASE_OPTIONS });
const OTHER_OPTIONS = Object.freeze({ ...BASE_OPTIONS, escape: refuseHtmlEscape });

/** The only values a template sees. */
export function templateData(manifest: Manifest): object {
  const data = Object.create(null) as Record<string, unknown>;
  const allowed = {
    name: manifest.name,
    kind: kindOf(manifest),
    description: manifest.description,
    runtime: manifest.runtime,
    port: manifest.port,
    health: manifest.health,
    init: manifest.init,
    monit: manifest.monit,
    user: manifest.user,
    group: manifest.user,
    command: manifest.command ? [...manifest.command] : undefined,
    stopTimeout: manifest.stopTimeout,
    env: Object.entries(manifest.env),
    paths: hostLayout(manifest.name),
    configFiles: projectFiles(manifest)
      .filter((file) => file.path.startsWith('config/'))
      .map((file) => file.path.slice('config'.length)),
    q: quoters,
  };
  for (const [key, value] of Object.entries(allowed)) data[key] = value;
  return Object.freeze(data);
}

/** Renders template source; `html` decides whether `<%=` (HTML escaping) is allowed. */
export function renderSource(
  source: string,
  data: object,
  html: boolean,
  filename: string,
): string {
  return ejs.render(source, data, { ...(html ? HTML_OPTIONS : OTHER_OPTIONS), filename });
}

export function renderTemplate(template: string, data: object): string {
  const filename = `${SCAFFOLDS_DIR}${template}`;
  const source = readFileSync(filename, 'utf8');
  try {
    return renderSource(source, data, template.endsWith('.html.ejs'), filename);
  } catch (error) {
    if (
      error instanceof QuoteError ||
      (error instanceof Error && error.message.includes('QuoteError'))
    ) {
      throw new SvcError(`${template}: ${error.message.split('\n').at(-1)}`);
    }
    throw error;
  }
}

export interface RenderedFile extends ProjectFile {
  content: string;
}

export function renderProject(manifest: Manifest, files: readonly ProjectFile[]): RenderedFile[] {
  const data = templateData(manifest);
  return files.map((file) => ({
    ...file,
    content:
      file.template === undefined
        ? stringifyManifest(manifest)
        : renderTemplate(file.template, data),
  }));
}
