// A release that crashes on start (issue 10, section 1), on real sandbox hosts: a light host where
// monit supervises (init: monit), a host booting real systemd (init: systemd), and a light host
// running Debian's OpenRC, where supervise-daemon respawns it (init: openrc, test/helpers/openrc.ts). The deploy
// notices the death within a poll of it (not the health timeout later), says how the process
// exited with the service's own log line, rolls back to the previous release and says it is live
// and healthy (the table names it), and the next deploy does not wait behind a stuck monit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-crash';
const PORT = 3211;
const CRASH_LINE = 'crash-test: cannot open the database (on purpose)';

describe.each([
  { kind: 'monit', systemd: false, openrc: false },
  { kind: 'systemd', systemd: true, openrc: false },
  { kind: 'openrc', systemd: false, openrc: true },
])('a release that exits at once, init: $kind', ({ kind, systemd, openrc }) => {
  let sbx: Sandbox;
  let work: string;
  let project: string;
  let good: string;
  let goodRelease: string;

  const onHost = (command: string) => {
    const result = sbx.ssh('sbx-1', command, { user: 'root' });
    expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const current = () =>
    onHost(`readlink /var/www/${NAME}/current`)
      .trim()
      .replace(/^releases\//, '');
  const answers = () =>
    sbx.ssh('sbx-1', `curl -fsS http://127.0.0.1:${PORT}/ok`, { user: 'root' }).code === 0;
  const deploy = async () => {
    const started = Date.now();
    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
      ...sbx.env,
      HOME: join(work, 'home'),
    });
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };

  beforeAll(async () => {
    sbx = await startSandbox({ count: 1, systemd, openrc });
    work = mkdtempSync(join(tmpdir(), `svc-crash-${kind}-`));
    project = join(work, NAME);
    execFileSync(
      SVC,
      [
        'new',
        NAME,
        '--yes',
        '--cutover',
        'restart',
        '--init',
        kind,
        '--port',
        String(PORT),
        '--dir',
        project,
      ],
      { env: { ...process.env, CI: '1' } },
    );
    good = readFileSync(join(project, 'server.js'), 'utf8');
    const first = await deploy();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    goodRelease = current();
  }, 240_000);

  afterAll(async () => {
    await sbx?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('fails fast with the exit and the log line, and the previous release is live and healthy', async () => {
    writeFileSync(
      join(project, 'server.js'),
      `console.error(${JSON.stringify(CRASH_LINE)});\nprocess.exit(1);\n${good}`,
    );
    // Twice: the second crash meets whatever the first left in monit or systemd.
    for (const round of [1, 2]) {
      const result = await deploy();
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(result.seconds, `round ${round}: ${output}`).toBeLessThan(10);
      expect(output).toMatch(
        systemd
          ? /sbx-1: release [0-9a-f]{12} exited \(status 1\) \d+\.\d s after start/
          : /sbx-1: release [0-9a-f]{12} exited( \(status 1\))? \d+\.\d s after start/,
      );
      expect(output).toContain(`| ${CRASH_LINE}`);
      expect(output).toContain(
        `the previous release is serving again: release ${goodRelease} is live and healthy`,
      );
      expect(output).not.toContain('NOT healthy');
      // The table names the release that is live now.
      expect(result.stdout).toMatch(new RegExp(`^sbx-1 +rolled back +${goodRelease} `, 'm'));
      expect(current()).toBe(goodRelease);
      expect(answers()).toBe(true);
    }
    const status = await runSvc(['status', 'sandbox', '--dir', project], {
      ...sbx.env,
      HOME: join(work, 'home'),
    });
    expect(status.stdout).toMatch(new RegExp(`^sbx-1 +${goodRelease} +running `, 'm'));
  }, 120_000);

  it('a deploy right after works without waiting on monit', async () => {
    writeFileSync(join(project, 'server.js'), `// fixed\n${good}`);
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.seconds, result.stdout).toBeLessThan(10);
    expect(current()).not.toBe(goodRelease);
    expect(await eventually(answers, 5)).toBe(true);
  }, 60_000);
});
