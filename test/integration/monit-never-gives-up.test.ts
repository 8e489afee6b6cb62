// The generated monit check on a real sandbox host (monit with a 5 s cycle, init monit): a
// release that crashes a few seconds after each start is restarted over and over; monit's
// restart limit (3 within 5 cycles) alerts, but monit never stops watching (the old check's
// unmonitor gave up for good here), and once the release works again monit brings the service
// back by itself.
//
// Needs root and a built dist/. SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, sandboxSupport, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-stubborn';
const HOST = 'sbx-1';

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('monit never gives up', () => {
  let sbx: Sandbox | undefined;
  let work = '';

  const onHost = (command: string) => {
    const result = sbx!.ssh(HOST, command, { user: 'root' });
    expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    work = mkdtempSync(join(tmpdir(), 'svc-monit-'));
    const project = join(work, NAME);
    execFileSync(
      SVC,
      ['new', NAME, '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
      {
        env: { ...process.env, CI: '1' },
      },
    );
    sbx = await startSandbox({ count: 1 });
    const deployed = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
      ...sbx.env,
      HOME: join(work, 'home'),
    });
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('keeps restarting a crashing service past 3 restarts, alerting, and brings it back once it works', async () => {
    const server = `/var/www/${NAME}/current/server.js`;
    // The release now crashes 3 s after each start (a crash burst: every start succeeds, then
    // the process dies), kept aside to put back; and the running process dies now.
    onHost(
      `cp ${server} /root/server.js.good && echo 'setTimeout(() => process.exit(1), 3000);' > ${server} && kill -9 "$(cat /run/${NAME}.pid)"`,
    );
    // 3 restarts within 5 cycles of 5 s: monit's restart limit fires (alert, here to its log:
    // there is no mail server in the sandbox); then it must go on trying.
    const log = () => onHost('cat /var/log/monit.log');
    const limit = new RegExp(
      `'${NAME}' service restarted \\d+ times within \\d+ cycles\\(s\\) - (\\w+)`,
    );
    const tries = () => (log().match(new RegExp(`'${NAME}' trying to restart`, 'g')) ?? []).length;
    let deadline = Date.now() + 120_000;
    while (!limit.test(log()) && Date.now() < deadline) await sleep(1_000);
    expect(log().match(limit)?.[1], log()).toBe('alert');
    const atLimit = tries();
    deadline = Date.now() + 60_000;
    while (tries() < atLimit + 2 && Date.now() < deadline) await sleep(1_000);
    expect(tries(), log()).toBeGreaterThanOrEqual(atLimit + 2);
    expect(onHost(`monit summary ${NAME}`)).not.toMatch(/Not monitored/);
    expect(log()).not.toMatch(new RegExp(`'${NAME}' .*unmonitor`));

    // The release works again: monit starts it on its own and it answers.
    onHost(`cp /root/server.js.good ${server}`);
    let ok = '';
    const back = Date.now() + 60_000;
    while (ok !== 'ok' && Date.now() < back) {
      await sleep(1_000);
      ok = sbx!
        .ssh(HOST, 'curl -fsS --max-time 2 http://127.0.0.1:3000/ok', { user: 'root' })
        .stdout.trim();
    }
    expect(ok, onHost('tail -30 /var/log/monit.log')).toBe('ok');
    let summary = '';
    const settled = Date.now() + 30_000;
    do {
      summary = onHost(`monit summary ${NAME}`);
      if (new RegExp(` ${NAME} +OK +Process`).test(summary)) break;
      await sleep(1_000);
    } while (Date.now() < settled);
    expect(summary).toMatch(new RegExp(` ${NAME} +OK +Process`));
  }, 180_000);
});
