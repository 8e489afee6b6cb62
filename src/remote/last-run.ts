// The last deploy's result, kept in the project's .svc/ so `--retry-failed` knows which hosts to
// retry. Local state only: nothing here is read from or written to a host.
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
  const temporary = `${file(projectDir)}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600 });
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
