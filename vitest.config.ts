import { defineConfig } from 'vitest/config';

// Test files run in up to three worker processes at once. Vitest's default on a 2-core machine is
// one, but the host suites mostly wait (on sshd, monit, systemd, health polls), and each test
// file has its own sandbox (own state directory, subnet and namespaces), so they do not collide.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 3 } },
  },
});
