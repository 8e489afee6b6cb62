// `svc update`: bring a project made by `svc new` up to this svc's scaffold, keeping the user's
// edits. The base of each file's three-way merge is the record svc new left (.svc/scaffold/), so
// no old svc or old template is ever needed. Everything is read, merged and checked before the
// first byte is written; the writes are staged and renamed (scaffold/update-write.ts).
import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { SvcError } from '../core/errors.js';
import { shownText } from '../core/naming.js';
import { INIT_SYSTEMS, RUNTIMES } from '../core/manifest.js';
import { MANIFEST_FILE, ManifestError, parseManifest } from '../core/manifest-file.js';
import {
  answerChanges,
  answersOfManifest,
  RECORD_ANSWERS,
  RECORD_DIR,
  recordIsNewer,
  type RecordedAnswers,
} from '../core/scaffold-record.js';
import { hasConflictMarkers, type ConflictStyle } from '../core/text-merge.js';
import { OUTCOMES, updateFile, type FileUpdate } from '../core/update-plan.js';
import { PinnedProject } from '../project/pinned-dir.js';
import { lstatIfPresent, utf8Text } from '../project/regular-file.js';
import { gitIgnores, uncommittedPaths } from '../project/git-status.js';
import { readRecord, recordFiles, renderScaffold } from '../scaffold/record.js';
import { SCAFFOLDS_DIR, type RenderedFile } from '../scaffold/render.js';
import { refuseLinkedParents, writeUpdate, type FileWrite } from '../scaffold/update-write.js';
import { answersWithFlags, type AnswerFlags } from './update-answers.js';
import { SVC_VERSION } from './version.js';

export interface UpdateFlags extends AnswerFlags {
  dir?: string;
  dryRun?: boolean;
  force?: boolean;
  adopt?: boolean;
  conflict?: string;
}

export interface UpdateIo {
  cwd: string;
  out: NodeJS.WritableStream;
  /** Tests render a changed scaffold from a second directory; svc itself uses its own. */
  scaffoldsDir?: string;
}

const CONFLICT_STYLES = ['markers', 'rej'] as const;

/**
 * A project file's text, read through the project's directories as held open (a link met on the
 * way is refused then, not only when first looked at: project/pinned-dir.ts).
 */
function readText(project: PinnedProject, path: string): string | undefined {
  const bytes = project.read(path);
  return bytes === undefined ? undefined : utf8Text(bytes, path);
}

const leftoverMarkers = (path: string) =>
  new SvcError(
    `${path}: still has conflict markers from a svc update; resolve and commit them first, or pass --force`,
  );

function refuseUncommitted(dir: string): void {
  const dirty = uncommittedPaths(dir);
  if (dirty === undefined || dirty.length === 0) return;
  const shown =
    dirty
      .slice(0, 3)
      .map((path) => shownText(path))
      .join(', ') + (dirty.length > 3 ? `, ... (${dirty.length})` : '');
  throw new SvcError(
    `${dir}: uncommitted changes (${shown}); commit them first, so that git diff shows exactly what svc update did, or pass --force`,
  );
}

/** A record in a directory git ignores is no base for anyone else: say how to have it tracked. */
function ignoredRecordNote(dir: string): string {
  return gitIgnores(dir, RECORD_ANSWERS)
    ? `note: git ignores ${RECORD_DIR}/ here (a .gitignore line \`.svc/\`?): make it \`.svc/*\` followed by \`!${RECORD_DIR}/\`, so the record is committed\n`
    : '';
}

function readManifestText(dir: string, project: PinnedProject): string {
  const text = readText(project, MANIFEST_FILE);
  if (text === undefined)
    throw new SvcError(
      `${join(dir, MANIFEST_FILE)}: not found; svc update runs in a project svc new made (or pass --dir)`,
    );
  return text;
}

/**
 * The generated files follow the recorded answers, not svc.yaml: when svc.yaml says otherwise (a
 * port edited by hand), say which flag makes every file follow it.
 */
function driftNote(manifestText: string, answers: RecordedAnswers): string {
  if (hasConflictMarkers(manifestText)) return '';
  const inFile = answersOfManifest(parseManifest(new TextEncoder().encode(manifestText)));
  const drift = answerChanges(answers, inFile);
  return drift.length === 0
    ? ''
    : `note: svc.yaml differs from the answers the generated files follow (${drift.join(', ')}); give the answer as a flag (svc update --port N, ...) to make every file follow svc.yaml\n`;
}

const fileWrite = (file: RenderedFile): FileWrite => ({
  path: file.path,
  content: file.content,
  mode: file.mode,
});

async function adopt(
  dir: string,
  project: PinnedProject,
  io: UpdateIo,
  flags: UpdateFlags,
): Promise<number> {
  if (readRecord(dir) !== undefined)
    throw new SvcError(
      `${RECORD_ANSWERS}: this project has a record already; run svc update without --adopt`,
    );
  const manifest = parseManifest(new TextEncoder().encode(readManifestText(dir, project)));
  const answers = answersOfManifest(manifest);
  const files = renderScaffold(answers, SVC_VERSION, io.scaffoldsDir ?? SCAFFOLDS_DIR).files;
  // As an update: a linked directory would have the comparison read outside the project, and
  // the record made from it would be the base of updates that then refuse it.
  for (const file of files) refuseLinkedParents(dir, file.path);
  const differ = files.filter((file) => readText(project, file.path) !== file.content);
  io.out.write(
    `${flags.dryRun ? 'Would record' : 'Recorded'} svc ${SVC_VERSION}'s scaffold for this project's answers as the base of svc update, in ${RECORD_DIR}/: ${files.length} files, ${differ.length} of them different from yours (counted as your edits${differ.length > 0 ? `: ${differ.map((f) => f.path).join(', ')}` : ''}).\n`,
  );
  if (flags.dryRun) return 0;
  const record = recordFiles({ svc: SVC_VERSION, answers }, files).map(fileWrite);
  writeUpdate(dir, { writes: [], removes: [], record });
  io.out.write(`Commit ${RECORD_DIR}/; svc update then merges later scaffold changes.\n`);
  io.out.write(ignoredRecordNote(dir));
  return 0;
}

function report(updates: readonly FileUpdate[], style: ConflictStyle, version: string): string {
  const width = Math.max(...OUTCOMES.map((outcome) => outcome.length));
  const lines = updates.map((update) => {
    const extra = [
      update.conflicts !== undefined &&
        `${update.conflicts} conflict${update.conflicts > 1 ? 's' : ''}`,
      update.note,
    ].filter(Boolean);
    return `  ${update.outcome.padEnd(width)}  ${shownText(update.path)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
  });
  const conflicted = updates.filter((update) => update.outcome === 'conflict');
  if (conflicted.length > 0) {
    const how =
      style === 'rej'
        ? 'each FILE.rej lists the scaffold changes that were not applied'
        : `resolve each <<<<<<< project ... ======= ... >>>>>>> svc ${version} block`;
    lines.push(
      '',
      `Conflicts in ${conflicted.length} file${conflicted.length > 1 ? 's' : ''} (${how}, then commit):`,
      ...conflicted.map(
        (update) => `  ${shownText(`${update.path}${update.rej !== undefined ? '.rej' : ''}`)}`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runUpdate(flags: UpdateFlags, io: UpdateIo): Promise<number> {
  const dir = resolve(io.cwd, flags.dir ?? '.');
  const project = new PinnedProject(dir);
  try {
    return await updateProject(dir, project, flags, io);
  } finally {
    project.close();
  }
}

async function updateProject(
  dir: string,
  project: PinnedProject,
  flags: UpdateFlags,
  io: UpdateIo,
): Promise<number> {
  const style = (flags.conflict ?? 'markers') as ConflictStyle;
  if (!(CONFLICT_STYLES as readonly string[]).includes(style))
    throw new SvcError(`--conflict: must be one of ${CONFLICT_STYLES.join(', ')}`);
  const ours = readManifestText(dir, project);
  if (!flags.force && hasConflictMarkers(ours)) throw leftoverMarkers(MANIFEST_FILE);
  parseManifest(new TextEncoder().encode(ours)); // the user's svc.yaml must be valid to merge into
  refuseLinkedParents(dir, RECORD_ANSWERS); // .svc/ and .svc/scaffold/ themselves
  if (flags.adopt) return adopt(dir, project, io, flags);
  const existing = readRecord(dir);
  if (existing === undefined)
    throw new SvcError(
      `${RECORD_ANSWERS}: not found: this project has no record of what svc generated (made before svc recorded one); run svc update --adopt to record the current scaffold as its base (every difference counts as your edit), commit it, and later updates merge from there`,
    );
  if (!flags.force && recordIsNewer(existing.record.svc, SVC_VERSION))
    throw new SvcError(
      `${RECORD_ANSWERS}: made by svc ${existing.record.svc}, newer than this one (${SVC_VERSION}); an update would take the project back to svc ${SVC_VERSION}'s scaffold: run a newer svc, or pass --force`,
    );
  if (!flags.dryRun && !flags.force) refuseUncommitted(dir);
  const answers = await answersWithFlags(existing.record.answers, flags, SVC_VERSION);
  const render = renderScaffold(answers, SVC_VERSION, io.scaffoldsDir ?? SCAFFOLDS_DIR);
  const theirs = new Map(render.files.map((file) => [file.path, file]));
  const paths = [...new Set([...render.files.map((f) => f.path), ...existing.files.keys()])];
  const updates: FileUpdate[] = [];
  for (const path of paths) {
    // svc never generates into .git/ or .svc/ (the secrets file is never recorded): a record that
    // names such a path was not written by svc, and is not followed there.
    if (path.startsWith('.git/') || path.startsWith('.svc/')) continue;
    refuseLinkedParents(dir, path);
    const mine = readText(project, path);
    if (mine !== undefined && !flags.force && hasConflictMarkers(mine)) throw leftoverMarkers(path);
    const options = { svcVersion: SVC_VERSION, conflictStyle: style, manifestPath: MANIFEST_FILE };
    const base = existing.files.get(path);
    updates.push(
      updateFile({ path, base, ours: mine, theirs: theirs.get(path)?.content }, options),
    );
  }
  const manifestUpdate = updates.find((update) => update.path === MANIFEST_FILE);
  if (manifestUpdate?.write !== undefined && manifestUpdate.outcome !== 'conflict') {
    try {
      parseManifest(new TextEncoder().encode(manifestUpdate.write));
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      throw new SvcError(
        `svc.yaml as merged is not a valid manifest (nothing written): ${error.lines.join('; ')}`,
      );
    }
  }
  const changes = answerChanges(existing.record.answers, answers);
  io.out.write(
    `svc update: from svc ${existing.record.svc}'s scaffold to svc ${SVC_VERSION}'s${changes.length > 0 ? `; answers: ${changes.join(', ')}` : ''}${flags.dryRun ? ' (dry run, nothing written)' : ''}\n`,
  );
  io.out.write(report(updates, style, SVC_VERSION));
  io.out.write(driftNote(manifestUpdate?.write ?? ours, answers));
  const conflicts = updates.some((update) => update.outcome === 'conflict') ? 1 : 0;
  if (flags.dryRun) return conflicts;
  const nothingToDo =
    updates.every((update) => update.write === undefined && !update.remove) &&
    existing.record.svc === SVC_VERSION &&
    changes.length === 0 &&
    render.files.length === existing.files.size &&
    render.files.every((file) => existing.files.get(file.path) === file.content);
  if (nothingToDo) {
    io.out.write(`Up to date with svc ${SVC_VERSION}'s scaffold: nothing written.\n`);
    return conflicts;
  }
  const modeOf = (path: string) => {
    const stat = lstatIfPresent(join(dir, path));
    return stat === undefined ? theirs.get(path)!.mode : stat.mode & 0o7777;
  };
  writeUpdate(dir, {
    writes: updates.flatMap((update) => [
      ...(update.write !== undefined
        ? [{ path: update.path, content: update.write, mode: modeOf(update.path) }]
        : []),
      ...(update.rej !== undefined
        ? [{ path: `${update.path}.rej`, content: update.rej, mode: 0o644 }]
        : []),
    ]),
    removes: updates.filter((update) => update.remove).map((update) => update.path),
    record: recordFiles({ svc: SVC_VERSION, answers }, render.files).map(fileWrite),
  });
  io.out.write(
    `Recorded svc ${SVC_VERSION}'s render in ${RECORD_DIR}/. Review with git diff, then commit.\n`,
  );
  io.out.write(ignoredRecordNote(dir));
  return conflicts;
}

const EXAMPLES = `
Each generated file is merged three ways: what svc generated last time (recorded in
${RECORD_DIR}/ by svc new), your file, and what svc generates now. Exit code 1 while
conflicts remain.

Examples:
  $ svc update                  merge the current scaffold into this project
  $ svc update --dry-run        what would change, per file; nothing written
  $ svc update --port 4000      change an answer: every file that depends on it follows
  $ svc update --adopt          a project made before svc kept a record: start one`;

export function updateCommand(): Command {
  return new Command('update')
    .description("merge svc's current scaffold into a project made by svc new, keeping your edits")
    .option('--description <text>', 'change the description')
    .option('--port <port>', 'change the port')
    .option('--health <path>', 'change the health check path')
    .addOption(new Option('--runtime <runtime>', 'www- only: static or node').choices(RUNTIMES))
    .addOption(new Option('--init <system>', 'change the init system').choices(INIT_SYSTEMS))
    .option('--monit', 'add the monit check')
    .option('--no-monit', 'drop the monit check')
    .option('--alert <email>', "where monit sends this service's alerts")
    .option('--cutover <how>', 'restart or switch')
    .option('--user <user>', 'change the Linux user the service runs as')
    .addOption(
      new Option(
        '--conflict <style>',
        'how conflicts are written: markers in the file, or FILE.rej',
      )
        .choices(CONFLICT_STYLES)
        .default('markers'),
    )
    .option(
      '--adopt',
      `record the current scaffold as the base of a project without ${RECORD_DIR}/`,
    )
    .option('--dir <dir>', 'the project (default: .)')
    .option('--dry-run', 'show what would change per file; write nothing')
    .option(
      '--force',
      'run with uncommitted changes, leftover conflict markers, or a record from a newer svc',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (flags: UpdateFlags) => {
      process.exitCode = await runUpdate(flags, { cwd: process.cwd(), out: process.stdout });
    });
}
