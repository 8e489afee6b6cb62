// Unusual but valid ~/.ssh setups, resolved by the real `ssh -G -F ~/.ssh/config` and by the real
// bin/svc (`svc hosts TARGET --json`, SVC_SSH_CONFIG being ssh's -F), field by field: HostName,
// Port, User, ProxyJump, IdentityFile (expanded by ssh itself, as the value of
// UserKnownHostsFile), UserKnownHostsFile, GlobalKnownHostsFile, HostKeyAlias, IdentitiesOnly. A
// config ssh refuses, svc must refuse naming the same file and line. The cases are the ones
// test/reliability/ssh-config-differential.test.ts does not have: relative and nested Include
// (relative to ~/.ssh, not to the including file), a port given as a service name, `?` and comma
// patterns, quoted paths with spaces, ${VAR} and more %-tokens, ProxyJump as an ssh:// URI, ...
// OpenSSH's answers are never written down.
//
// ssh takes ~ (and the directory of a relative Include) from the passwd entry, svc from $HOME: so
// both run in a private mount namespace (unshare -m) where an empty tmpfs is the passwd home and
// the case's scratch directory is bind-mounted as its .ssh, with HOME set to the passwd home. The
// machine's own ~/.ssh is never read or written.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVC } from '../helpers/sandbox.js';
import { UNUSUAL_CASES, type UnusualCase } from './ssh-config-unusual-cases.js';

const pwHome = userInfo().homedir;
const CONFIG = `${pwHome}/.ssh/config`;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svc-ssh-config-unusual-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** argv run inside a mount namespace where `dotSsh` is ~/.ssh of an empty passwd home. */
function inNamespace(dotSsh: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const mounts = `mount -t tmpfs svc-home ${pwHome} && mkdir -m 0700 ${pwHome}/.ssh && mount --bind "$1" ${pwHome}/.ssh && shift && exec "$@"`;
  // Asynchronous: the worker stays responsive while the many small commands run.
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-m', 'sh', '-c', mounts, 'sh', dotSsh, ...argv],
      { encoding: 'utf8', env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({
          status: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

interface Resolved {
  hostName?: string;
  port?: string;
  user?: string;
  proxyJump?: string;
  identityFiles?: string[];
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  identitiesOnly?: string;
  /** A refusal: the file (base name) and line it names. */
  refused?: string;
  /** svc's refusal, as said. */
  line?: string;
}

const NO_LINE = 'refused, naming no line';
const CANNOT_EXPAND = 'an IdentityFile or GlobalKnownHostsFile that cannot be expanded';

function sshG(c: UnusualCase, dotSsh: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const args = ['ssh', '-G', '-F', CONFIG, ...extra];
  if (c.user) args.push('-l', c.user);
  if (c.port) args.push('-p', String(c.port));
  return inNamespace(dotSsh, [...args, c.host], env);
}

async function opensshSays(
  c: UnusualCase,
  dotSsh: string,
  env: NodeJS.ProcessEnv,
): Promise<Resolved> {
  const result = await sshG(c, dotSsh, env);
  if (result.status !== 0) {
    // "FILE line N: ..." names a line; "Too many recursive configuration includes" names none.
    const where = /([^/\s]+?):? line (\d+)/.exec(result.stderr);
    return { refused: where ? `${where[1]}:${where[2]}` : NO_LINE };
  }
  const lines = result.stdout.split('\n').map((line) => line.split(' '));
  const all = (key: string) =>
    lines.filter(([k]) => k === key).map(([, ...value]) => value.join(' '));
  const one = (key: string) => all(key)[0];
  const files = (value: string | undefined) =>
    (value ?? '').split(' ').filter((file) => file !== '' && file !== 'none');
  // ssh -G prints IdentityFile unexpanded: ssh's own expansion is the same text as a
  // UserKnownHostsFile (~, %-tokens, ${VAR}), which -G prints expanded.
  const expand = async (raw: string) =>
    (await sshG(c, dotSsh, env, ['-o', `UserKnownHostsFile=${raw}`])).stdout
      .split('\n')
      .find((line) => line.startsWith('userknownhostsfile '))
      ?.slice('userknownhostsfile '.length);
  const identityFiles = await Promise.all(all('identityfile').map(expand));
  // -G prints GlobalKnownHostsFile as written; ssh opens tilde_expand_filename() of each when it
  // loads the keys (strace shows /root/g-%h for `~/g-%h`): ~ and ~user only, no %-tokens, no
  // ${VAR}. So ssh expands the ~ of each, as a UserKnownHostsFile with its % doubled.
  const globalKnownHostsFiles = await Promise.all(
    files(one('globalknownhostsfile')).map((file) =>
      file.startsWith('~') ? expand(file.replaceAll('%', '%%')) : file,
    ),
  );
  // A token, ${VAR} or ~user ssh cannot expand: -G prints the value, and ssh refuses when it
  // connects.
  if ([...identityFiles, ...globalKnownHostsFiles].includes(undefined))
    return { refused: CANNOT_EXPAND };
  return {
    hostName: one('hostname'),
    port: one('port'),
    user: one('user'),
    proxyJump: one('proxyjump'),
    identityFiles: identityFiles as string[],
    userKnownHostsFiles: files(one('userknownhostsfile')),
    globalKnownHostsFiles: globalKnownHostsFiles as string[],
    hostKeyAlias: one('hostkeyalias'),
    identitiesOnly: one('identitiesonly'),
  };
}

interface HostJson {
  address: string;
  port: number;
  user: string;
  proxyJump?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  hostKeys?: { userFiles: string[]; globalFiles: string[]; alias?: string };
}

async function svcSays(c: UnusualCase, dotSsh: string, env: NodeJS.ProcessEnv): Promise<Resolved> {
  const target = `${c.user ? `${c.user}@` : ''}${c.host}${c.port ? `:${c.port}` : ''}`;
  const result = await inNamespace(dotSsh, [SVC, 'hosts', target, '--json'], {
    ...env,
    SVC_SSH_CONFIG: CONFIG,
    NO_COLOR: '1',
    SVC_DEBUG: '',
  });
  if (result.status !== 0) {
    // One line: "svc: error: FILE:LINE: ..." naming the file and line.
    const lines = result.stderr.trim().split('\n');
    const where = /\/([^/\s:]+):(\d+): /.exec(lines[0] ?? '');
    if (
      lines.length === 1 &&
      /: (IdentityFile|GlobalKnownHostsFile) .*(is not set|unknown or unsupported token|no such user)/.test(
        lines[0]!,
      )
    )
      return { refused: CANNOT_EXPAND, line: lines[0] };
    if (lines.length === 1 && where) return { refused: `${where[1]}:${where[2]}`, line: lines[0] };
    return { refused: `svc: ${result.stderr.trim()}` };
  }
  const [spec] = JSON.parse(result.stdout) as HostJson[];
  return {
    hostName: spec!.address,
    port: String(spec!.port),
    user: spec!.user,
    proxyJump: spec!.proxyJump,
    identityFiles: spec!.identityFiles,
    userKnownHostsFiles: spec!.hostKeys?.userFiles ?? [],
    globalKnownHostsFiles: spec!.hostKeys?.globalFiles ?? [],
    hostKeyAlias: spec!.hostKeys?.alias,
    identitiesOnly: spec!.identitiesOnly ? 'yes' : 'no',
  };
}

describe('unusual ~/.ssh setups resolved as ssh -G resolves them', () => {
  it('has at least 40 configs', () => {
    expect(UNUSUAL_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(UNUSUAL_CASES.map((c, index) => [c.name, c, index] as const))(
    '%s',
    async (_name, c, index) => {
      const dotSsh = join(work, `case-${index}`);
      mkdirSync(dotSsh, { recursive: true });
      for (const [name, text] of Object.entries(c.files ?? {})) {
        mkdirSync(join(dotSsh, name, '..'), { recursive: true });
        writeFileSync(join(dotSsh, name), text);
      }
      writeFileSync(join(dotSsh, 'config'), c.config);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: pwHome,
        SVC_SANDBOX_DIR: join(work, `no-sandbox-${index}`),
        ...c.env,
      };
      // The namespace really shows the scratch file (else both tools would fail alike, and agree).
      const shown = await inNamespace(dotSsh, ['cat', CONFIG], env);
      expect(shown.stdout, shown.stderr).toBe(c.config);
      const ssh = await opensshSays(c, dotSsh, env);
      const { line, ...svc } = await svcSays(c, dotSsh, env);
      if (c.svcRefuses) {
        // A deliberate refusal: ssh takes the config, svc says why not in one line, naming the line.
        expect(ssh.refused, 'ssh takes this config').toBeUndefined();
        expect(svc.refused).toMatch(/^config:\d+$/);
        expect(line).toMatch(c.svcRefuses);
      } else if (ssh.refused === NO_LINE) {
        expect(svc.refused, 'svc refuses too, in one line').toMatch(/^[^:]+:\d+$/);
      } else expect(svc).toEqual(ssh);
    },
    60_000,
  );
});
