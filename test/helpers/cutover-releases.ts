// Releases for the cutover load tests: the scaffold's server.js made to say which release
// answers (a header on every response, from release-id.txt in the release) and to answer /slow
// after 2 s; `crash` exits at start, `sick` runs but never answers its health path. (The same
// patch for every per-init load test.)
import { expect } from 'vitest';

export const RELEASE_HEADER = 'x-release';

/**
 * What happens while the load runs, in order (after a first deploy of r1): ten alternating
 * releases (r1, r2), among them `crash` (exits at start) and `sick` (runs but never answers its
 * health path), and `rollback` (svc rollback: back to the release live before the last one).
 */
export const SEQUENCE = [
  'r2',
  'r1',
  'r2',
  'crash',
  'r1',
  'r2',
  'sick',
  'r1',
  'r2',
  'r1',
  'rollback',
  'r2',
  'r1',
];

/** The bounded load: only to the sandbox host's address, a fixed number of requests and time. */
export const LOAD = {
  path: '/',
  slowPath: '/slow',
  header: RELEASE_HEADER,
  maxRequests: 60_000,
  seconds: 480,
  keepAliveWorkers: 4,
  newConnectionWorkers: 2,
  slowWorkers: 2,
};

export function patchServer(original: string, release: string): string {
  const patched = original
    .replace(
      "import { createServer } from 'node:http';",
      "import { createServer } from 'node:http';\nimport { readFileSync } from 'node:fs';\nconst RELEASE = readFileSync('release-id.txt', 'utf8').trim();",
    )
    .replace(
      'function answer(request, response) {',
      `function answer(request, response) {\n  response.setHeader('${RELEASE_HEADER}', RELEASE);`,
    )
    .replace(
      "} else if (pathname === '/') {",
      "} else if (pathname === '/' || pathname === '/slow') {",
    )
    .replace(
      '    answer(request, response);\n  } catch',
      "    if (request.url === '/slow') setTimeout(() => answer(request, response), 2000);\n    else answer(request, response);\n  } catch",
    );
  expect(patched.match(/RELEASE|\/slow/g)?.length, 'the server.js patch applied').toBe(4);
  if (release === 'sick') {
    // Answers everything but its health path (404): a release nginx must never be sent to.
    expect(patched).toContain('const HEALTH_PATH = "/ok";');
    return patched.replace('const HEALTH_PATH = "/ok";', 'const HEALTH_PATH = "/not-ok";');
  }
  return release === 'crash' ? `process.exit(3);\n${patched}` : patched;
}
