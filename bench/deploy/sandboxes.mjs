// Sandboxes: up (not timed), work, and down in `finally`, even on Ctrl-C.
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOGIN } from './options.mjs';
import { children, must, svc } from './processes.mjs';

export const activeSandboxes = new Set();

const downs = new Map();

/** `svc sandbox down`, once per state directory however often it is asked for (Ctrl-C + finally). */
export function sandboxDown(stateDir) {
  if (!downs.has(stateDir)) {
    downs.set(
      stateDir,
      svc(['sandbox', 'down', '--state-dir', stateDir], stateDir).then((result) => {
        activeSandboxes.delete(stateDir);
        if (result.code !== 0) {
          process.stderr.write(`bench/deploy: sandbox down ${stateDir}: ${result.stderr.trim()}\n`);
        } else {
          rmSync(stateDir, { recursive: true, force: true });
        }
      }),
    );
  }
  return downs.get(stateDir);
}

/**
 * Runs `work({ stateDir, inventory })` on a fresh sandbox of `count` hosts, taken down after.
 * `kind` is 'light' (sshd and monit) or 'systemd' (systemd as PID 1).
 */
export async function withSandbox(count, work, { kind = 'light' } = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'svc-deploy-bench-'));
  activeSandboxes.add(stateDir);
  try {
    let result;
    for (let attempt = 0; attempt < 8; attempt++) {
      // A /16 the tests (10.128-254) and a user's own sandbox (10.231) never take.
      const net = `10.${randomInt(100, 128)}`;
      const args = ['sandbox', 'up', String(count), '--state-dir', stateDir, '--net', net];
      args.push(kind === 'systemd' ? '--systemd' : '--light');
      if (LOGIN === 'root') args.push('--user', 'root');
      result = await svc(args, stateDir);
      if (result.code === 0 || !/already (routed|used)/.test(result.stderr)) break;
    }
    must(result, `svc sandbox up ${count}`);
    const inventory = JSON.parse(readFileSync(join(stateDir, 'inventory.json'), 'utf8'));
    if (inventory.hosts.length !== count)
      throw new Error(`sandbox has ${inventory.hosts.length} hosts, not ${count}`);
    return await work({ stateDir, inventory });
  } finally {
    await sandboxDown(stateDir);
  }
}

// A reader that went away (`| head`) must not keep the sandboxes from being taken down.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** Local scratch directories (the scaffolded project), removed on Ctrl-C too. */
export const scratch = new Set();
let stopping = false;
async function interrupted(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\nbench/deploy: ${signal}: ending children and taking sandboxes down\n`);
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...activeSandboxes].map(sandboxDown));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
}
process.on('SIGINT', () => void interrupted('SIGINT'));
process.on('SIGTERM', () => void interrupted('SIGTERM'));
