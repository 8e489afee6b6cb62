// The terminal helper itself (test/helpers/pty.ts): its session shell outlives svc until the test
// has read everything svc wrote, and a line typed ahead that svc never read does not end it early
// (it waits for its own ACK line, which waitForExit types once it has read the done line).
// Needs `npm run build` first (bin/svc runs dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PtySession } from '../helpers/pty.js';

const work = mkdtempSync(join(tmpdir(), 'svc-pty-helper-'));
const sessions: PtySession[] = [];

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.stop()));
  rmSync(work, { recursive: true, force: true });
});

it('a line typed ahead and left unread by svc does not end the session before the test has read it all', async () => {
  // svc --version reads nothing; `then` gives the typed line time to reach the terminal first.
  const svc = new PtySession(['--version'], work, {}, 'sleep 0.5; echo then-ran');
  sessions.push(svc);
  svc.send('typed ahead\r');
  await svc.expectOutput(/svc-pty-done/, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(svc.ended, svc.output).toBe(false);
  expect(await svc.waitForExit(), svc.output).toEqual({ code: 0, signal: null });
  expect(svc.output).toMatch(/^typed ahead\r\n[\s\S]*\d+\.\d+\.\d+\r\nsvc-exit=0\r\nthen-ran\r\n/);
}, 60_000);
