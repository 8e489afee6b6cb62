// What each command reads at start-up: the built bin/svc, run with a loader hook that records
// every module file it loads (test/helpers/loaded-files.mjs). `svc --version` and `svc --help`
// read the entry file and the chunk holding commander: the command list, none of ssh2, zod,
// yaml or ejs; a command reads the chunks its own module needs (scripts/bundle.mjs splits the
// bundle at each `import()` of src/cli/main.ts). Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SVC = join(ROOT, 'bin', 'svc');
const HOOK = join(ROOT, 'test', 'helpers', 'loaded-files.mjs');
let scratch = '';
let runs = 0;

beforeAll(() => {
  statSync(join(ROOT, 'dist', 'bundle', 'svc.mjs')); // dist/ is built (npm run build)
  scratch = mkdtempSync(join(tmpdir(), 'svc-startup-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs bin/svc ARGS; returns its exit code, stdout and the package files it loaded. */
function loaded(args: string[]): { code: number | null; stdout: string; files: string[] } {
  const list = join(scratch, `loaded-${runs++}`);
  const result = spawnSync(process.execPath, ['--import', HOOK, SVC, ...args], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', SVC_LOADED_FILES: list },
  });
  let text = '';
  try {
    text = readFileSync(list, 'utf8');
  } catch {
    // nothing loaded through the hook
  }
  const files = text
    .split('\n')
    .filter(Boolean)
    .map((url) => relative(ROOT, fileURLToPath(url)));
  return { code: result.status, stdout: result.stdout, files };
}

/** Whether any of `files` holds a module of the given package (esbuild's `// node_modules/NAME/` markers). */
function holds(files: string[], pkg: string): boolean {
  return files.some((file) =>
    readFileSync(join(ROOT, file), 'utf8').includes(`// node_modules/${pkg}/`),
  );
}

describe('start-up loads only what the command uses', () => {
  it.each([[['--version']], [['--help']], [['help']]])(
    'svc %j reads the entry file and commander, none of the heavy packages',
    (args) => {
      const run = loaded(args);
      expect(run.code).toBe(0);
      expect(run.files.slice(0, 2)).toEqual(['bin/svc', 'dist/bundle/svc.mjs']);
      for (const pkg of ['ssh2', 'zod', 'yaml', 'ejs', 'listr2', '@inquirer', 'diff']) {
        expect(holds(run.files, pkg), pkg).toBe(false);
      }
      // The whole bundle is over 3 MB; this is commander, main and the command list.
      const bytes = run.files.reduce((sum, file) => sum + statSync(join(ROOT, file)).size, 0);
      expect(bytes).toBeLessThan(250_000);
    },
  );

  it('svc --help still lists every command with its arguments', () => {
    const run = loaded(['--help']);
    expect(run.stdout).toContain('plan [options] <target>');
    expect(run.stdout).toContain('hosts [options] [target]');
    expect(run.stdout).toMatch(/\n {2}sandbox {2,}local test hosts/);
  });

  it('svc new --dry-run reads the scaffolding but not ssh2', () => {
    const run = loaded(['new', 'api-startup', '--yes', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.files.length).toBeGreaterThan(1);
    expect(holds(run.files, 'ejs')).toBe(true);
    expect(holds(run.files, 'ssh2')).toBe(false);
  });

  it('svc plan reads ssh2', () => {
    const run = loaded(['plan', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--detailed-exitcode');
    expect(holds(run.files, 'ssh2')).toBe(true);
  });
});
