// A turn of the event loop for a test that does long synchronous work (a loop of spawnSync): the
// vitest worker answers its runner over an RPC with a fixed 60 s timeout, and Node runs timers
// before it reads what arrived, so a worker blocked past 60 s fails the run with `Timeout calling
// "onTaskUpdate"` though every test passed (vitest-dev/vitest#8164; seen here when a 120-tree
// differential took 62 s on a slow machine). Await it once per case; test/setup/breathe.ts awaits
// it before every test.
export const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));
