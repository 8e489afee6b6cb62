// The unit tests alone (pure code, no hosts): what the mutation run executes against each
// mutant of src/core. `npx vitest run -c vitest.unit.config.ts` runs the same set by hand.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // One event-loop turn before each test (test/setup/breathe.ts).
    setupFiles: ['test/setup/breathe.ts'],
    testTimeout: 30_000,
  },
});
