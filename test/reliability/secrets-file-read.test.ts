// .svc/secrets/ENV as svc reads it from disk (review of issue 15): a file saved with a BOM and
// `export` lines (as a shell-sourced file often is) resolves; one with bytes that are not UTF-8 is
// refused in one line naming the file and line, without its content.
// Needs `npm run build` first (bin/svc runs dist/).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVC } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let work: string;
let project: string;

function secrets(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      SVC,
      ['secrets', '127.0.0.1', '--dir', project],
      {
        env: { ...process.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
        encoding: 'utf8',
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

function writeSecrets(bytes: Buffer): void {
  writeFileSync(join(project, '.svc', 'secrets', 'default'), bytes, { mode: 0o600 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svc-secrets-file-'));
  project = join(work, NAME);
  execFileSync(SVC, ['new', NAME, '--yes', '--cutover', 'restart', '--dir', project], {
    env: { ...process.env, CI: '1', HOME: join(work, 'home') },
  });
  const yaml = join(project, 'svc.yaml');
  writeFileSync(
    yaml,
    readFileSync(yaml, 'utf8').replace(
      /^env: \{\}$/m,
      'env: {}\nsecrets: [DB_PASSWORD, STRIPE_KEY]',
    ),
  );
  mkdirSync(join(project, '.svc', 'secrets'), { recursive: true, mode: 0o700 });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the secrets file on disk', () => {
  it('with a BOM and export lines: both keys resolve from it', async () => {
    writeSecrets(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('export DB_PASSWORD=pw-one\nSTRIPE_KEY=sk-two\n'),
      ]),
    );
    const run = await secrets();
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/default +DB_PASSWORD +file \(\.svc\/secrets\/default\)/);
    expect(run.stdout).toMatch(/default +STRIPE_KEY +file \(\.svc\/secrets\/default\)/);
    expect(run.code).toBe(0);
  });

  it('with a byte that is not UTF-8 on line 2: one line naming it, no content', async () => {
    writeSecrets(
      Buffer.concat([
        Buffer.from('DB_PASSWORD=pw-one\nSTRIPE_KEY=sk-'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    );
    const run = await secrets();
    expect(run.stderr).toBe(
      'svc: error: .svc/secrets/default:2: not valid UTF-8; save .svc/secrets/default as UTF-8\n',
    );
    expect(run.code).toBe(1);
  });
});
