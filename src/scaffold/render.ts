// Renders the bundled EJS templates under scaffolds/ (and only those) with core/template.ts's
// fixed options and an allow-listed data object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestTemplateValues, renderText, templateDataOf } from '../core/template.js';
import type { Manifest } from '../core/manifest.js';
import { QuoteError } from '../core/quote.js';
import { SvcError } from '../core/errors.js';
import { stringifyManifest } from '../core/manifest-file.js';
import { NEW_SECRETS_FILE, projectFiles, type ProjectFile } from './project.js';
import { withLog } from './log-wrapper.js';

export const SCAFFOLDS_DIR = fileURLToPath(new URL('../../scaffolds/', import.meta.url));

/** The only values a template sees. */
export function templateData(manifest: Manifest): object {
  return templateDataOf({
    ...manifestTemplateValues(manifest),
    configFiles: projectFiles(manifest)
      .filter((file) => file.path.startsWith('config/'))
      .map((file) => file.path.slice('config'.length)),
    // argv that starts a command with its output appended to a log it opens itself, as the
    // service user: log-wrapper.ts. Templates quote it for their format like any other argv.
    withLog,
  });
}

export const renderSource = renderText;

export function renderTemplate(
  template: string,
  data: object,
  scaffoldsDir = SCAFFOLDS_DIR,
): string {
  const filename = join(scaffoldsDir, template);
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

/** The local secrets file: KEY=VALUE lines (core/secrets.ts parseSecretsFile reads them back). */
function secretsFileText(secrets: Readonly<Record<string, string>>): string {
  const lines = Object.entries(secrets).map(([key, value]) => `${key}=${value}`);
  return `# svc: secret values for the default environment; never commit this file (.gitignore has .svc/).\n${lines.join('\n')}\n`;
}

/**
 * svc.yaml is committed and ships in every release (world-readable on the host): it names
 * secrets but never holds their values, which go to .svc/secrets/default (0600, git-ignored).
 */
export function renderProject(
  manifest: Manifest,
  files: readonly ProjectFile[],
  secrets: Readonly<Record<string, string>> = {},
  scaffoldsDir = SCAFFOLDS_DIR,
): RenderedFile[] {
  const data = templateData(manifest);
  return files.map((file) => ({
    ...file,
    content:
      file.path === NEW_SECRETS_FILE
        ? secretsFileText(secrets)
        : file.template === undefined
          ? stringifyManifest(manifest)
          : renderTemplate(file.template, data, scaffoldsDir),
  }));
}
