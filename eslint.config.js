// ESLint flat config: typescript-eslint's recommended rules, plus the boundary that keeps
// src/core pure (no disk, processes, SSH, prompts or terminal progress in the planner).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const effectfulModules = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
  'ssh2',
  'inquirer',
  '@inquirer/prompts',
  'listr2',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'scaffolds/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: effectfulModules.map((name) => ({
            name,
            message:
              'src/core is pure: do I/O in cli/, scaffold/, remote/ or ui/ and pass data in.',
          })),
          patterns: [{ group: ['../*'], message: 'src/core imports nothing outside itself.' }],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/core is pure.' }],
    },
  },
);
