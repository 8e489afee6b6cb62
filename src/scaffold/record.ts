// The scaffold record on disk (core/scaffold-record.ts says what it is): rendering the scaffold
// from recorded answers, the record's own files, and reading it back from a project.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import { kindOf } from '../core/manifest.js';
import { shownText } from '../core/naming.js';
import type { Manifest } from '../core/manifest.js';
import {
  answersOfManifest,
  RECORD_ANSWERS,
  RECORD_DIR,
  RECORD_FILES,
  parseRecordAnswers,
  recordAnswersText,
  type RecordedAnswers,
  type ScaffoldRecord,
} from '../core/scaffold-record.js';
import {
  lstatIfPresent,
  readOptionalProjectFile,
  readRegularFile,
  utf8Text,
} from '../project/regular-file.js';
import { manifestFromAnswers, projectFiles } from './project.js';
import { renderProject, SCAFFOLDS_DIR, type RenderedFile } from './render.js';

/**
 * The scaffold's files for these answers: what svc new writes, without env: and secrets: (the
 * user's data, never recorded) and so without the local secrets file. `scaffoldsDir` is for
 * tests that simulate a changed scaffold.
 */
export function renderScaffold(
  answers: RecordedAnswers,
  svcVersion: string,
  scaffoldsDir = SCAFFOLDS_DIR,
): { manifest: Manifest; files: RenderedFile[] } {
  const manifest = manifestFromAnswers(
    {
      name: answers.name,
      kind: kindOf(answers),
      description: answers.description,
      runtime: answers.runtime,
      port: answers.port,
      health: answers.health,
      init: answers.init,
      monit: answers.monit,
      user: answers.user,
      env: {},
    },
    svcVersion,
    {
      ...(answers.alert !== undefined && { alert: answers.alert }),
      ...(answers.cutover !== undefined && { cutover: answers.cutover }),
    },
  );
  return { manifest, files: renderProject(manifest, projectFiles(manifest), {}, scaffoldsDir) };
}

/** The record's files, to write with (or after) the project's: answers.yaml and files/PATH. */
export function recordFiles(record: ScaffoldRecord, pristine: readonly RenderedFile[]) {
  return [
    { path: RECORD_ANSWERS, mode: 0o644, content: recordAnswersText(record) },
    ...pristine.map((file) => ({
      path: `${RECORD_FILES}/${file.path}`,
      mode: file.mode,
      content: file.content,
    })),
  ];
}

export interface ProjectRecord {
  record: ScaffoldRecord;
  /** Path in the project -> the text svc generated there. */
  files: Map<string, string>;
}

function walk(dir: string, relative: string, into: Map<string, string>): void {
  for (const name of readdirSync(join(dir, relative)).sort()) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const full = join(dir, path);
    const stat = lstatIfPresent(full)!;
    if (stat.isDirectory()) walk(dir, path, into);
    else {
      const shown = shownText(`${RECORD_FILES}/${path}`); // a name there may hold anything
      into.set(path, utf8Text(readRegularFile(full, shown, stat), shown));
    }
  }
}

/** The project's record, or undefined when it has none (made before svc recorded one). */
export function readRecord(projectDir: string): ProjectRecord | undefined {
  const answers = readOptionalProjectFile(join(projectDir, RECORD_ANSWERS), RECORD_ANSWERS);
  if (answers === undefined) return undefined;
  const record = parseRecordAnswers(utf8Text(answers, RECORD_ANSWERS));
  const files = new Map<string, string>();
  const root = join(projectDir, RECORD_FILES);
  const stat = lstatIfPresent(root);
  if (stat !== undefined && !stat.isDirectory())
    throw new SvcError(`${RECORD_FILES}: not a directory (svc writes it; restore it from git)`);
  if (stat !== undefined) walk(root, '', files);
  return { record, files };
}

/** The record `svc new` writes beside a new project: its answers and the scaffold's render. */
export function newRecordFiles(manifest: Manifest, svcVersion: string) {
  const answers = answersOfManifest(manifest);
  return recordFiles({ svc: svcVersion, answers }, renderScaffold(answers, svcVersion).files);
}

export const RECORD_NOTE = `svc update's record of what svc generated is in ${RECORD_DIR}/: commit it with the project.\n`;
