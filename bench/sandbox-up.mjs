#!/usr/bin/env node
// Benchmark: how long `svc sandbox up` and `down` take for 1 and 10 light hosts, and for one
// systemd host (boot to "running" with sshd answering). Uses the compiled code in dist/ (run
// `npm run build` first) and needs root. Each round gets its own state directory and /16, and
// every sandbox is taken down even when a round fails.
//
//   npm run bench                 # 3 rounds
//   npm run bench -- --rounds 5 --no-systemd
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStateDir } from '../dist/sandbox/state.js';
import { downSandbox } from '../dist/sandbox/teardown.js';
import { upSandbox } from '../dist/sandbox/up.js';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 3;
const withSystemd = !args.includes('--no-systemd');

const cases = [
  { label: '1 light host', count: 1, kind: 'light' },
  { label: '10 light hosts', count: 10, kind: 'light' },
  ...(withSystemd ? [{ label: '1 systemd host', count: 1, kind: 'systemd' }] : []),
];

async function round({ count, kind }, index) {
  const stateDir = mkdtempSync(join(tmpdir(), 'svc-sandbox-bench-'));
  try {
    const started = performance.now();
    await upSandbox(stateDir, { count, kind, net: `10.${240 + (index % 10)}` });
    const up = performance.now() - started;
    const downStarted = performance.now();
    await downSandbox(openStateDir(stateDir, false));
    return { up, down: performance.now() - downStarted };
  } catch (error) {
    const paths = openStateDir(stateDir, false);
    if (paths) await downSandbox(paths).catch(() => undefined);
    throw error;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

console.log(`svc sandbox up/down, ${rounds} rounds each (median, min-max)`);
let index = 0;
for (const benchCase of cases) {
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await round(benchCase, index++));
  const ups = results.map((r) => r.up);
  const downs = results.map((r) => r.down);
  console.log(
    `${benchCase.label.padEnd(16)} up ${seconds(median(ups))} (${seconds(Math.min(...ups))}-${seconds(Math.max(...ups))})` +
      `   down ${seconds(median(downs))} (${seconds(Math.min(...downs))}-${seconds(Math.max(...downs))})`,
  );
}
