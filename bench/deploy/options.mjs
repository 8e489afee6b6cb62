// The bench's command line (see bench/deploy.mjs for the list), read once when first imported.
// A bad option is one line on stderr and exit 1, before any sandbox is started.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SERVICE = 'api-bench';

export function fail(message) {
  process.stderr.write(`bench/deploy: ${message}\n`);
  process.exit(1);
}

function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
}

export const HOSTS = (option('--hosts', process.env.BENCH_HOSTS || '1,10,100') ?? '')
  .split(',')
  .map((text) => text.trim())
  .filter(Boolean)
  .map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 200) fail(`host count ${text}: must be 1-200`);
    return n;
  });
// `npm run bench -- ARGS` hands ARGS to this script (the last in the chain): --rounds, the sandbox
// bench's name for runs, is taken as --runs, and its --no-systemd is let through.
const VALUED = [
  '--hosts',
  '--runs',
  '--rounds',
  '--out',
  '--login',
  '--svc',
  '--dump-floor',
  '--cpu-prof',
  '--quiet-wait',
];
const FLAGS = ['--verbose', '--no-systemd'];
process.argv.slice(2).forEach((arg, index, args) => {
  if (VALUED.includes(arg) || FLAGS.includes(arg) || VALUED.includes(args[index - 1])) return;
  fail(`unknown option ${arg} (options: ${[...VALUED, ...FLAGS].join(' ')})`);
});
export const RUNS = Number(option('--runs', option('--rounds', '3')));
if (!Number.isInteger(RUNS) || RUNS < 3) fail('--runs: at least 3 (medians of >= 3 runs)');
export const OUT = option('--out', undefined);
export const LOGIN = option('--login', 'deploy');
if (LOGIN !== 'deploy' && LOGIN !== 'root') fail('--login: deploy or root');
export const VERBOSE = process.argv.includes('--verbose');
export const DUMP_FLOOR = option('--dump-floor', undefined);
// A directory: one more cold deploy at the largest N runs under `node --cpu-prof`, summarised.
export const CPU_PROF = option('--cpu-prof', undefined);
// How long each timed run waits for a quiet machine before starting anyway (noted as suspect).
export const QUIET_WAIT_S = Number(option('--quiet-wait', '60'));
if (!(QUIET_WAIT_S >= 0)) fail('--quiet-wait: seconds, 0 or more');
// The cutover comparison needs hosts booting systemd; the sandbox bench's --no-systemd skips it.
export const CUTOVER = !process.argv.includes('--no-systemd');
// Another checkout's bin/svc (a clean build of a commit, say, while src/ is being edited here).
export const SVC = option('--svc', process.env.BENCH_SVC || join(REPO, 'bin', 'svc'));
if (HOSTS.length === 0) fail('no host counts (--hosts or BENCH_HOSTS)');
if (process.getuid?.() !== 0) fail('needs root (sandbox hosts are namespaces)');

export const SVC_TIMEOUT_MS = 300_000;
export const SSH_TIMEOUT_MS = 120_000;
