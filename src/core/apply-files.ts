// How the apply script writes into the host's directories: no cp, mv, ln or install in it
// follows a link at its destination. The plan already refuses a path below a directory another
// user can write (parent-chain.ts), so nobody but root can plant such a link; these forms make
// sure that a link there anyway (planted before the plan, by root, or between the stale check and
// the write) is replaced or refused, never written through. test/unit/apply-files.test.ts scans
// every generated script for them.
import { shellCommand, shellQuote as q } from './quote.js';

/**
 * cp for one file: a link at the source is copied as a link (-P), the destination is never taken
 * as a directory to copy into (-T), and whatever is at the destination is removed first and the
 * file created anew with O_EXCL (--remove-destination): a planted link is replaced, and one
 * planted again in between makes cp fail rather than write through it.
 */
export const CP = 'cp -p -P -T --remove-destination --';
/** rename(2) replaces a link; -T stops mv from moving INTO a directory a link points at. */
export const MV = 'mv -f -T --';

/** `cp` of `from` to `to`, both already sh words (quoted paths or "$stage/..." expressions). */
export const copy = (from: string, to: string) => `${CP} ${from} ${to}`;
/** `mv` of `from` over `to`, both plain paths. */
export const move = (from: string, to: string) => `${MV} ${q(from)} ${q(to)}`;

/** The temporary name a file is written to, beside its target, before the rename. */
export function temporaryName(path: string): string {
  const dir = path.slice(0, path.lastIndexOf('/') + 1);
  return `${dir}.${path.slice(dir.length)}.svc-new`;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * Atomic replace in the target's own directory: install to a temporary name (GNU install removes
 * what is there first; -T: never into a directory), then rename over the target.
 */
export function installFile(
  stagedFile: string,
  file: { path: string; mode: number; owner: string; group: string },
): string {
  const temporary = temporaryName(file.path);
  const install = shellCommand([
    'install',
    '-T',
    '-m',
    octal(file.mode),
    '-o',
    file.owner,
    '-g',
    file.group,
    '--',
  ]);
  // stagedFile is a "$stage/..." expression of ours, expanded by sh; everything else is quoted.
  return `${install} ${stagedFile} ${q(temporary)}\n${move(temporary, file.path)}`;
}

/**
 * Where a config file arrives in the stage: `overlay/N/` under the name of its temporary file, so
 * that one `install -t DIR` can place several files of one directory (emitFileInstalls).
 */
export function overlayEntry(index: number, path: string): string {
  const temporary = temporaryName(path);
  return `overlay/${index}/${temporary.slice(temporary.lastIndexOf('/') + 1)}`;
}

/** The staged file as an sh word: "$stage/" and the quoted entry name. */
export const stagedOverlay = (index: number, path: string) =>
  `"$stage/"${q(overlayEntry(index, path))}`;

const FILE_MARK = '\u0000file ';
type Owned = { path: string; mode: number; owner: string; group: string };
type Placed = Owned & { staged: string };

const sameModeOwner = (a: Owned, b: Owned) =>
  a.mode === b.mode && a.owner === b.owner && a.group === b.group;
const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';

/**
 * Each run of consecutive lines that carry `mark` (fileInstall, dirCreate) and belong with the
 * run's first (`together`) is replaced by the commands `emit` makes of the run; other lines stay.
 */
function emitRuns<T extends Owned>(
  lines: string[],
  mark: string,
  together: (first: T, next: T) => boolean,
  emit: (run: T[], first: T) => string[],
): void {
  const parse = (line: string | undefined): T | undefined =>
    line?.startsWith(mark) ? (JSON.parse(line.slice(mark.length)) as T) : undefined;
  for (let index = 0; index < lines.length; index++) {
    const first = parse(lines[index]);
    if (first === undefined) continue;
    const run: T[] = [first];
    let next = parse(lines[index + run.length]);
    while (next !== undefined && together(first, next)) {
      run.push(next);
      next = parse(lines[index + run.length]);
    }
    const commands = emit(run, first);
    lines.splice(index, run.length, ...commands);
    index += commands.length - 1;
  }
}

/** A file to install from the stage (installFile); `emitFileInstalls` turns runs into commands. */
export function fileInstall(
  staged: string,
  file: { path: string; mode: number; owner: string; group: string },
): string {
  const { path, mode, owner, group } = file;
  return FILE_MARK + JSON.stringify({ staged, path, mode, owner, group });
}

/**
 * Each run of files to install into the same directory with the same mode and owner becomes one
 * `install -t DIR` of their staged files, each arriving under its temporary name (GNU install
 * removes what is there first; the destination is DIR/NAME, never a directory to install into),
 * then one rename per file (atomic replace, as installFile). A run of one is installFile itself.
 */
export function emitFileInstalls(lines: string[]): void {
  emitRuns<Placed>(
    lines,
    FILE_MARK,
    (first, next) => parentOf(next.path) === parentOf(first.path) && sameModeOwner(first, next),
    (run, first) =>
      run.length === 1
        ? [installFile(first.staged, first)]
        : [
            `${shellCommand(['install', '-m', octal(first.mode), '-o', first.owner, '-g', first.group, '-t', parentOf(first.path), '--'])} ${run.map((file) => file.staged).join(' ')}`,
            ...run.map((file) => move(temporaryName(file.path), file.path)),
          ],
  );
}

/**
 * A backup put back (undo, rollback): copied beside the target under PATH.svc-old, then renamed
 * over it. A link planted at PATH.svc-old is removed by cp, not followed.
 */
export function restoreFile(backup: string, path: string): string {
  const old = `${path}.svc-old`;
  return `${copy(backup, q(old))} && ${move(old, path)}`;
}

/** A new link where nothing is: ln -T fails on anything there instead of linking inside it. */
export const createLink = (path: string, target: string) =>
  shellCommand(['ln', '-s', '-T', '--', target, path]);

/** A link that moves: a new link beside it, renamed over the old one. */
export function moveLink(path: string, target: string): string {
  const temporary = `${path}.svc-new`;
  return `${shellCommand(['ln', '-s', '-f', '-n', '-T', '--', target, temporary])}\n${move(temporary, path)}`;
}

/**
 * A root-only directory of svc's own (/var/lib/svc/...): kept if it is a directory, made if
 * nothing is there; a link there makes mkdir fail. One that was there is checked; one mkdir made
 * just now is root's 0700 by construction (in a parent already checked: every caller's is), so
 * it needs no stat.
 */
export function privateDir(dir: string, check = true): string {
  const there = `[ -d ${q(dir)} ] && [ ! -L ${q(dir)} ]`;
  const make = `mkdir -m 0700 -- ${q(dir)}`;
  return check
    ? `if ${there}; then\n${checkPrivateDir(dir)}\nelse ${make}; fi`
    : `${there} || ${make}`;
}

/**
 * svc's state directories (/var/lib/svc, locks/, NAME/, adopted/) must be root's alone before
 * root writes its lock, holder note or records there: a directory, not a link, owned by uid 0,
 * writable by neither group nor others. Anything else is refused with one line, never repaired
 * silently: someone else has had a hand in svc's state.
 */
export function checkPrivateDir(dir: string): string {
  const name = dir.replace(/["$`\\]/g, '');
  return [
    `if [ -L ${q(dir)} ] || [ ! -d ${q(dir)} ]; then svc_state=bad; else`,
    `  case $(stat -c '%u %a' -- ${q(dir)}) in '0 '*[2367]? | '0 '*[2367]) svc_state=bad ;; '0 '*) svc_state=ok ;; *) svc_state=bad ;; esac`,
    'fi',
    `[ "$svc_state" = ok ] || { say "FAIL	${name} is not root's own private directory (a link, another owner, or writable by group or others); svc does not keep its state there"; exit 1; }`,
  ].join('\n');
}

/** A directory whose mode or owner changes: only while it is a directory, not a link to one. */
export function updateDir(path: string, mode: number, owner: string, group: string): string[] {
  return [
    `[ -d ${q(path)} ] && [ ! -L ${q(path)} ] || { say "FAIL	${path.replace(/["$`\\]/g, '')} is no longer a directory"; exit 1; }`,
    shellCommand(['chown', '-h', `${owner}:${group}`, '--', path]),
    shellCommand(['chmod', octal(mode), '--', path]),
  ];
}

const DIR_MARK = '\u0000dir ';

/** A directory to make; `emitDirCreates` turns runs of these into commands. */
export function dirCreate(path: string, mode: number, owner: string, group: string): string {
  return DIR_MARK + JSON.stringify({ path, mode, owner, group });
}

/**
 * Each run of directories to make with the same mode and owner becomes three commands (fewer
 * processes on the host, same order): the missing parents (as install -d would make them; none
 * for a parent `isDirectory` says is a real directory already), then
 * `mkdir -m MODE` of the directories themselves, which fails on anything already there (a link
 * included) so root never chmods or chowns through one, then `chown -h`.
 */
export function emitDirCreates(
  lines: string[],
  isDirectory: (path: string) => boolean = () => false,
): void {
  emitRuns<Owned>(lines, DIR_MARK, sameModeOwner, (run, first) => {
    const paths = run.map((dir) => dir.path);
    // A parent the facts showed as a real directory (and the stale check found unchanged) needs
    // no `mkdir -p`: a process fewer per run.
    const parents = [...new Set(paths.map(parentOf))].filter(
      (parent) => !paths.includes(parent) && !isDirectory(parent),
    );
    return [
      ...(parents.length > 0 ? [shellCommand(['mkdir', '-p', '--', ...parents])] : []),
      shellCommand(['mkdir', '-m', octal(first.mode), '--', ...paths]),
      shellCommand(['chown', '-h', `${first.owner}:${first.group}`, '--', ...paths]),
    ];
  });
}
