// The last deploy's result, kept in the project's .svc/ so `--retry-failed` knows which hosts to
// retry. Local state only: nothing here is read from or written to a host.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LastRun {
  at: string;
  target: string;
  failed: string[];
}

const file = (projectDir: string) => join(projectDir, '.svc', 'last-run.json');

export function saveLastRun(projectDir: string, run: LastRun): void {
  mkdirSync(join(projectDir, '.svc'), { recursive: true, mode: 0o700 });
  // A name of this run's own, created afresh ('wx'): two svc runs in one project at once (a
  // deploy still draining and a rollback) each write their own file, and the last rename wins.
  const temporary = `${file(projectDir)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file(projectDir));
}

export function loadLastRun(projectDir: string): LastRun | undefined {
  try {
    const data = JSON.parse(readFileSync(file(projectDir), 'utf8')) as Partial<LastRun>;
    return Array.isArray(data.failed) ? (data as LastRun) : undefined;
  } catch {
    return undefined;
  }
}
