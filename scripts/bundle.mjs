// Bundles the CLI into one ES module, dist/bundle/svc.mjs, which bin/svc runs: resolving and
// loading ~400 separate modules cost about 0.12 s of every command's start-up (svc --version
// 0.28 s -> 0.16 s), and a deploy to ten hosts is partly CPU-bound on the machine running svc.
// tsc still emits dist/**.js beside it (bench/ imports the sandbox modules from there).
//
// The bundle sits two levels under the package root like dist/cli/*.js, so the
// `new URL('../../scaffolds/', import.meta.url)` lookups in the sources resolve the same.
// ssh2 and other CommonJS dependencies use require, __filename and __dirname: the banner gives
// an ES module those. cpu-features is ssh2's optional native helper, never installed here.
import { build } from 'esbuild';

const banner = [
  "import { createRequire as __svcCreateRequire } from 'node:module';",
  "import { fileURLToPath as __svcFileURLToPath } from 'node:url';",
  'const require = __svcCreateRequire(import.meta.url);',
  'const __filename = __svcFileURLToPath(import.meta.url);',
  "const __dirname = __svcFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/svc.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['cpu-features'],
  banner: { js: banner },
  logLevel: 'warning',
});
