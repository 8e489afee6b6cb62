// core/as-service.ts run for real on this machine (as root, with dash): each way of becoming the
// service user (setpriv, runuser, su, chroot --userspec) gives the command the same thing: the
// user's uid, the directory, a clean environment plus the env file (read by root, which the user
// could not read), every argv word verbatim, and the command's own exit status. The user here is
// `nobody`, which every Debian system has; nothing on the machine is changed but a temporary
// directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AS_SERVICE,
  AS_SERVICE_EXIT,
  asServiceCommand,
  SWITCHERS,
} from '../../src/core/as-service.js';
import { envFileLine, shellCommand, shellQuote as q } from '../../src/core/quote.js';

let dir: string;
let release: string;
let envFile: string;
const HOSTILE = `it's "$(id -u)" \`x\` \\ $HOME`;
const ARGV = ['printf', '[%s]', "a'b", '$(id -u)', '`id`', 'x\ny', '', '\\', ' lead', '*'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-as-service-'));
  chmodSync(dir, 0o755);
  release = join(dir, 'release');
  spawnSync('mkdir', ['-m', '0755', release]);
  envFile = join(dir, 'env');
  // root's, 0600, as /etc/default/NAME: nobody cannot read it, root sources it before dropping.
  // A legacy config/ env file may define lower-case names: they must not change what runs.
  writeFileSync(envFile, `${envFileLine('GREETING', HOSTILE)}\ndir=/elsewhere\nenter=false\n`, {
    mode: 0o600,
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `command` (shell text) as nobody through `tool` in `where` with `env` sourced. */
function asNobody(tool: string | undefined, where: string, env: string, command: string) {
  const script = [
    'set -eu',
    AS_SERVICE,
    'as_service_pick nobody || exit 99',
    ...(tool === undefined ? [] : [`sa_tool=${tool}`]),
    `exec ${asServiceCommand(q(where), q(env), command)}`,
  ].join('\n');
  const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { TERM: 'dumb' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.runIf(process.getuid?.() === 0)('as the service user', () => {
  it('the first tool that works is picked (setpriv here)', () => {
    const picked = spawnSync(
      '/bin/sh',
      ['-c', `${AS_SERVICE}\nas_service_pick nobody && echo "$sa_tool $sa_uid $sa_home"`],
      {
        encoding: 'utf8',
      },
    );
    expect(picked.stdout).toBe(`setpriv 65534 /nonexistent\n`);
  });

  it.each(SWITCHERS)(
    '%s: the user, the directory, the environment, the argv, the status',
    (tool) => {
      const probe = asNobody(
        tool,
        release,
        envFile,
        shellCommand([
          '/bin/sh',
          '-c',
          'id -un; pwd; printf "%s\\n" "$GREETING"; env | sort | sed -n "/^\\(HOME\\|USER\\|LOGNAME\\|SHELL\\|TERM\\|LC_ALL\\)=/p"; [ -r "$1" ] || echo cannot-read-env; exit 3',
          'sh',
          envFile,
        ]),
      );
      expect(probe.stderr).toBe('');
      expect(probe.code).toBe(3);
      expect(probe.stdout).toBe(
        `nobody\n${release}\n${HOSTILE}\nHOME=/nonexistent\nLOGNAME=nobody\nSHELL=/bin/sh\nUSER=nobody\ncannot-read-env\n`,
      );
      const words = asNobody(tool, release, envFile, shellCommand(ARGV));
      expect(words.code).toBe(0);
      expect(words.stdout).toBe(
        ARGV.slice(2)
          .map((word) => `[${word}]`)
          .join(''),
      );
    },
  );

  it('a directory the user cannot enter is refused as the user (126), not entered by root', () => {
    const closed = mkdtempSync(join(dir, 'closed-'));
    chmodSync(closed, 0o700);
    const result = asNobody(undefined, closed, '', 'pwd');
    expect(result.code).toBe(AS_SERVICE_EXIT.directory);
    expect(result.stdout).toBe('');
  });

  it('an env file that cannot be read ends it (125) before the command runs', () => {
    const result = asNobody(undefined, release, join(dir, 'missing'), 'echo ran');
    expect(result.code).toBe(AS_SERVICE_EXIT.envFile);
    expect(result.stdout).toBe('');
  });
});
