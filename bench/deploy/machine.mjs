// The machine: CPU time spent (all processes: svc or ssh, sshd, the hosts' commands, the
// services), and a quiet machine before each timed run, since other work may share it.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { QUIET_WAIT_S } from './options.mjs';

function cpuTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Measures `work()`'s wall time and the machine's busy CPU time meanwhile (ms). */
export async function measured(work) {
  const before = cpuTicks();
  const result = await work();
  const after = cpuTicks();
  return { ...result, cpuMs: (after.busy - before.busy) * TICK_MS };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to --quiet-wait, 60 s) until the machine is at most 10% busy over 300 ms, so a run
 * does not start while the sandbox is still settling or someone else's work is running. Returns
 * whether it was.
 */
export async function quiet() {
  const deadline = performance.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const before = cpuTicks();
    await sleep(300);
    const after = cpuTicks();
    const busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    if (busy <= 0.1) return true;
    if (performance.now() > deadline) return false;
  }
}
