// Bundles the CLI into ES modules under dist/bundle/: svc.mjs, which bin/svc runs, and the chunks
// it imports. Resolving and loading ~400 separate modules cost about 0.12 s of every command's
// start-up (svc --version 0.28 s -> 0.16 s), and a deploy to ten hosts is partly CPU-bound on the
// machine running svc. The bundle is split at each dynamic `import()`: src/cli/main.ts imports
// each command's module only when that command runs, so `svc --version` and `svc --help` read
// svc.mjs alone (commander and main), not the 3 MB that ssh2, zod, yaml and the rest add.
// tsc still emits dist/**.js beside it (bench/ imports the sandbox modules from there).
//
// Every file sits two levels under the package root like dist/cli/*.js, so the
// `new URL('../../scaffolds/', import.meta.url)` lookups in the sources resolve the same; the
// directory is emptied first so no chunk of an older build is left beside the new ones.
// ssh2 and other CommonJS dependencies use require, __filename and __dirname: the banner gives
// each ES module file those. cpu-features is ssh2's optional native helper, never installed here.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const banner = [
  "import { createRequire as __svcCreateRequire } from 'node:module';",
  "import { fileURLToPath as __svcFileURLToPath } from 'node:url';",
  'const require = __svcCreateRequire(import.meta.url);',
  'const __filename = __svcFileURLToPath(import.meta.url);',
  "const __dirname = __svcFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

const outdir = 'dist/bundle';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { svc: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['cpu-features'],
  banner: { js: banner },
  logLevel: 'warning',
});
