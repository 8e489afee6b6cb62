// What svc refuses to ship from a project, whatever the host: a setuid or setgid file. Installed
// as root, such a file would let whoever runs it act as root (or the group): a project you were
// handed must not be able to plant one. Pure; every host's plan lists these as problems, so a
// deploy refuses before anything is sent.
import type { Manifest } from './manifest.js';
import type { LocalFile } from './release.js';

const SETID = 0o6000;

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

export interface ShippedProject {
  manifest: Manifest;
  /** config/**, paths relative to config/ */
  config: readonly LocalFile[];
  /** The release's files (none when a rollback ships no release). */
  release: readonly LocalFile[];
}

export function projectProblems(project: ShippedProject): string[] {
  const problems: string[] = [];
  const refuse = (what: string, mode: number, fix: string) =>
    problems.push(
      `${what}: mode ${octal(mode)} is setuid or setgid; svc installs no such file (${fix})`,
    );
  for (const file of project.release)
    if (file.mode & SETID) refuse(file.path, file.mode & 0o7777, `chmod ug-s ${file.path}`);
  for (const file of project.config) {
    const host = `/${file.path.replace(/\.ejs$/, '')}`;
    const stated = project.manifest.files[host]?.mode;
    if (stated !== undefined) continue; // svc.yaml decides this file's mode: checked below
    if (file.mode & SETID)
      refuse(`config/${file.path}`, file.mode & 0o7777, `chmod ug-s config/${file.path}`);
  }
  for (const [path, meta] of Object.entries(project.manifest.files)) {
    const mode = parseInt(meta.mode, 8);
    if (mode & SETID) refuse(`svc.yaml: files: ${path}`, mode, 'state a mode without 4000 or 2000');
  }
  return problems;
}
