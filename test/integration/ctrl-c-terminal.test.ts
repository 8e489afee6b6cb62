// Review 11: Ctrl-C as a person meets it, on a real terminal (util-linux `script`), against a real
// sandbox host.
// 1. `svc deploy` on a terminal draws its per-host progress with listr2's default renderer, and
//    listr2 registers its own SIGINT handler (registerSignalListeners, on by default) that calls
//    process.exit(127): the FIRST Ctrl-C then leaves svc at once, the cursor it hid never shown
//    again, instead of telling the host and waiting for its undo (exit 130).
// 2. `npm run` forwards SIGINT to its child (@npmcli/run-script signal-manager) while the
//    terminal sends it to the whole foreground group: with a script shell that execs a lone command
//    (bash: Fedora, macOS, Arch's /bin/sh), svc gets TWO SIGINTs from ONE Ctrl-C, and onCtrlC
//    takes the second as "Ctrl-C again: leaving without waiting".
// Needs `npm run build` first (bin/svc runs dist/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { LEAVING_LINE } from '../../src/remote/ctrl-c.js';
import { KEY, PtySession } from '../helpers/pty.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const LOCK_HOLDER = `/var/lib/svc/locks/${NAME}.holder`;
let sbx: Sandbox;
let work = '';
let project = '';
let server = '';
const sessions: PtySession[] = [];

const env = () => ({ ...sbx.env, HOME: join(work, 'home') });

beforeAll(async () => {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('these tests need util-linux `script`');
  sbx = await startSandbox({ count: 1, user: 'deploy' });
  work = mkdtempSync(join(tmpdir(), 'svc-ctrl-c-terminal-'));
  project = join(work, NAME);
  const made = await runSvc(['new', NAME, '--yes', '--init', 'monit', '--dir', project], {
    ...env(),
    CI: '1',
  });
  expect(made.code, made.stderr).toBe(0);
  server = readFileSync(join(project, 'server.js'), 'utf8');
  const deployed = await runSvc(['deploy', 'sbx-1', '--yes', '--dir', project], env());
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 300_000);

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
});

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * svc deploy on the terminal, Ctrl-C typed while the host is in its health gate (`twice`: again
 * 0.5 s later); then waits for the host to be done with the deploy (lock holder gone).
 */
async function ctrlCInGate(twice: boolean): Promise<PtySession> {
  const marker = `svc-gate-${Math.random().toString(36).slice(2)}`;
  writeFileSync(
    join(project, 'server.js'),
    `import { writeFileSync as sayStarted } from 'node:fs';\n` +
      `sayStarted(${JSON.stringify(`/tmp/${marker}`)}, String(process.pid));\n` +
      `await new Promise((resolve) => setTimeout(resolve, 600_000));\n` +
      server,
  );
  try {
    // --batch 1: the path that draws listr2's progress without a prompt (a person's
    // confirmation takes the same path).
    const svc = new PtySession(
      ['deploy', 'sbx-1', '--yes', '--batch', '1', '--health-timeout', '300', '--dir', project],
      work,
      env(),
    );
    sessions.push(svc);
    const inGate = await eventually(
      () =>
        sbx.ssh('sbx-1', `test -s /tmp/${marker} && test -s ${LOCK_HOLDER}`, { user: 'root' })
          .code === 0,
      90,
    );
    expect(inGate, svc.output).toBe(true);
    svc.send(KEY.ctrlC);
    if (twice) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      svc.send(KEY.ctrlC);
    }
    await svc.waitForExit(30_000).catch(() => undefined);
    await eventually(
      () => sbx.ssh('sbx-1', `test ! -e ${LOCK_HOLDER}`, { user: 'root' }).code === 0,
      60,
    );
    return svc;
  } finally {
    writeFileSync(join(project, 'server.js'), server);
  }
}

/** listr2 drew the progress: it hides the cursor while it draws (plain lines never do). */
const cursorHidden = (raw: string) => raw.includes('\u001b[?25l');
const cursorShown = (raw: string) =>
  raw.lastIndexOf('\u001b[?25h') > raw.lastIndexOf('\u001b[?25l');
/** The terminal's last bytes, escapes visible: what a failed cursor check is shown. */
const lastBytes = (raw: string) => JSON.stringify(raw.slice(-1500));

it('svc deploy on a terminal (per-host progress drawn): one Ctrl-C waits for the undo, exit 130', async () => {
  const svc = await ctrlCInGate(false);
  expect(await svc.waitForExit(), svc.output).toEqual({ code: EXIT.interrupted, signal: null });
  expect(svc.output).not.toContain('Interrupted.');
  expect(cursorHidden(svc.rawOutput), `progress not drawn: ${lastBytes(svc.rawOutput)}`).toBe(true);
  expect(cursorShown(svc.rawOutput), lastBytes(svc.rawOutput)).toBe(true);
}, 240_000);

it('svc deploy on a terminal, Ctrl-C twice: the leaving line is seen, the cursor shown again', async () => {
  // listr2 hijacks process.stdout/stderr while it draws (buffering what svc writes until its
  // renderer ends): process.exit in onCtrlC must end the renderer first, or the line is lost and
  // the cursor stays hidden.
  const svc = await ctrlCInGate(true);
  expect(await svc.waitForExit(), svc.output).toEqual({ code: EXIT.interrupted, signal: null });
  expect(svc.output).toContain(LEAVING_LINE);
  expect(cursorHidden(svc.rawOutput), `progress not drawn: ${lastBytes(svc.rawOutput)}`).toBe(true);
  expect(cursorShown(svc.rawOutput), lastBytes(svc.rawOutput)).toBe(true);
}, 240_000);

it('svc exec under `npm run` (bash as the script shell): ONE Ctrl-C is not taken as two', async () => {
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({
      name: 'ctrl-c-npm',
      version: '1.0.0',
      scripts: {
        remote: `${SVC} exec sbx-1 --dir ${project} -- sh -c 'echo started; exec sleep 60'`,
      },
    }),
  );
  // PtySession runs bin/svc; npm is run through `then` (after a harmless `svc --version`).
  const svc = new PtySession(
    ['--version'],
    work,
    env(),
    `exec npm run --silent --script-shell=/bin/bash remote < /dev/null`,
  );
  sessions.push(svc);
  await svc.expectOutput(/started/, 60_000);
  svc.send(KEY.ctrlC);
  const exit = await svc.waitForExit(30_000);
  expect(svc.output, JSON.stringify(exit)).not.toContain(LEAVING_LINE);
}, 240_000);
