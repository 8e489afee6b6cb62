import { defineConfig } from 'vitest/config';

// Test files run in up to three worker processes at once. Vitest's default on a 2-core machine is
// one, but the host suites mostly wait (on sshd, monit, systemd, health polls), and each test
// file has its own sandbox (own state directory, subnet and namespaces), so they do not collide.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One event-loop turn before each test (test/setup/breathe.ts).
    setupFiles: ['test/setup/breathe.ts'],
    // A backstop for a hung test, not a speed bound: a host test that deploys or plans over SSH
    // took up to 48 s with the machine busy (the assertions inside carry the promises; speed is
    // `npm run bench`'s). The unit tests keep 30 s (vitest.unit.config.ts).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 3 } },
  },
});
