// The ESLint rule that keeps src/core pure is part of `npm test`; prove it actually fires, with
// the project's own eslint.config.js.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../../', import.meta.url).pathname });

async function ruleIds(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

describe('the src/core boundary', () => {
  it.each([
    "import { readFileSync } from 'node:fs';",
    "import { spawn } from 'node:child_process';",
    "import { Client } from 'ssh2';",
    "import { input } from '@inquirer/prompts';",
    "import { Listr } from 'listr2';",
    "import { x } from '../cli/main.js';",
  ])('refuses %s in src/core', async (line) => {
    const ids = await ruleIds('src/core/example.ts', `${line}\nexport const y = 1;\n`);
    expect(ids).toContain('no-restricted-imports');
  });

  it('refuses process in src/core', async () => {
    expect(await ruleIds('src/core/example.ts', 'export const y = process.env;\n')).toContain(
      'no-restricted-globals',
    );
  });

  it('allows the same import outside src/core', async () => {
    const source = "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n";
    expect(await ruleIds('src/cli/example.ts', source)).toEqual([]);
  });
});
