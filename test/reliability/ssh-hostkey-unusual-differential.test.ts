// Unusual known_hosts files and host-key options, decided by the real `ssh` (BatchMode=yes, the
// case's own StrictHostKeyChecking, else yes) and by the real bin/svc (`svc releases`, which
// connects) against a sandbox host's sshd, compared as a class of decision (connects, unknown,
// changed, revoked). The cases are the ones ssh-connect-differential.test.ts does not have:
// negated and wildcard names on one line, @cert-authority for the host, CRLF and tab-separated
// lines, GlobalKnownHostsFile with a %-token (ssh opens it as written), and StrictHostKeyChecking
// no / accept-new, where ssh connects and svc refuses on purpose (it never turns checking off),
// saying so in its one line and writing nothing. OpenSSH's answer is never written down.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

interface Case {
  name: string;
  /** 2222: a second sshd on the host whose key comes with a certificate signed by {ca}. */
  port?: number;
  /**
   * A name for the host instead of its address: both tools then run in a mount namespace whose
   * /etc/hosts gives it the host's address ({N} in the files).
   */
  byName?: boolean;
  /** Config lines for `Host *` before the common ones (first value wins). */
  config?: string;
  /** Files under the case directory; `kh` is the UserKnownHostsFile, `global` the global one. */
  files: Record<string, string>;
  /** svc refuses on purpose where ssh connects: its one line must match. */
  svcRefuses?: RegExp;
}

const CASES: Case[] = [
  { name: 'a wildcard line with the host negated', files: { kh: '*,!{A} {sbx}' } },
  { name: 'a negation first, then the host', files: { kh: '!{A},{A} {sbx}' } },
  { name: 'a negated other host and a wildcard', files: { kh: '!10.0.0.9,{net}.*.* {sbx}' } },
  { name: '? wildcards in the address', files: { kh: '{Aq} {sbx}' } },
  {
    name: 'a negated line with another key, then the key',
    files: { kh: '!{A} {other}\n{A} {sbx}' },
  },
  { name: 'a negated host with another key only', files: { kh: '*,!{A} {other}' } },
  { name: 'a wildcard line with another key', files: { kh: '{net}.* {other}\n{A} {sbx}' } },
  {
    name: 'HostKeyAlias in capitals, the line in lower case',
    config: 'HostKeyAlias Web-Alias\n',
    files: { kh: 'web-alias {sbx}' },
  },
  {
    name: 'HostKeyAlias in lower case, the line in capitals',
    config: 'HostKeyAlias web-alias\n',
    files: { kh: 'WEB-ALIAS {sbx}' },
  },
  { name: 'CRLF line endings', files: { kh: '# edited elsewhere\r\n{A} {sbx}\r\n' } },
  { name: 'tabs and a comment after the key', files: { kh: '\t{A}\t{sbx}\tmy host key' } },
  { name: 'leading spaces', files: { kh: '   {A} {sbx}' } },
  {
    name: '@cert-authority for the host, no plain key',
    files: { kh: '@cert-authority * {other}' },
  },
  {
    name: '@cert-authority with the host key as the CA, no plain key',
    files: { kh: '@cert-authority {A} {sbx}' },
  },
  { name: '@revoked under a wildcard', files: { kh: '{A} {sbx}\n@revoked {net}.* {sbx}' } },
  { name: '@revoked under a negated name', files: { kh: '{A} {sbx}\n@revoked *,!{A} {sbx}' } },
  { name: 'a key for [A]:22 only', files: { kh: '[{A}]:22 {sbx}' } },
  { name: 'a key for [A]:2222 only', files: { kh: '[{A}]:2222 {sbx}' } },
  {
    name: 'GlobalKnownHostsFile with %h: the file named as written holds the key',
    config: 'GlobalKnownHostsFile {dir}/g-%h\n',
    files: { kh: '', 'g-%h': '{A} {sbx}' },
  },
  {
    name: 'GlobalKnownHostsFile with %h: only the expanded name holds the key',
    config: 'GlobalKnownHostsFile {dir}/g-%h\n',
    files: { kh: '', 'g-{A}': '{A} {sbx}' },
  },
  {
    name: '@cert-authority for the host, which presents a certificate: ssh takes it, svc says why not',
    port: 2222,
    files: { kh: '@cert-authority [{A}]:2222 {ca}' },
    svcRefuses:
      /is unknown .*\(the @cert-authority line .*kh:1 covers this host, but svc cannot check host certificates: it was shown the plain key\)$/,
  },
  {
    name: '@cert-authority for * and the plain key of the certificate sshd',
    port: 2222,
    files: { kh: '@cert-authority * {ca}\n[{A}]:2222 {certHost}' },
  },
  {
    name: '@cert-authority with another CA, the certificate sshd',
    port: 2222,
    files: { kh: '@cert-authority * {other}' },
  },
  // CheckHostIP: the key recorded for the address connected to.
  {
    name: 'CheckHostIP yes: the name is known, its address has another key',
    byName: true,
    config: 'CheckHostIP yes\n',
    files: { kh: '{N} {sbx}\n{A} {other}' },
  },
  {
    name: 'CheckHostIP yes: the name and the address have the key',
    byName: true,
    config: 'CheckHostIP yes\n',
    files: { kh: '{N},{A} {sbx}' },
  },
  {
    name: 'CheckHostIP yes: nothing recorded for the address',
    byName: true,
    config: 'CheckHostIP yes\n',
    files: { kh: '{N} {sbx}' },
  },
  {
    name: 'CheckHostIP yes: only the address is known',
    byName: true,
    config: 'CheckHostIP yes\n',
    files: { kh: '{A} {sbx}' },
  },
  {
    name: 'CheckHostIP no: the address has another key',
    byName: true,
    config: 'CheckHostIP no\n',
    files: { kh: '{N} {sbx}\n{A} {other}' },
  },
  {
    name: 'CheckHostIP yes with a HostKeyAlias: the address has another key',
    byName: true,
    config: 'CheckHostIP yes\nHostKeyAlias pinned-alias\n',
    files: { kh: 'pinned-alias {sbx}\n{A} {other}' },
  },
  {
    name: 'StrictHostKeyChecking ask in batch mode, unknown host',
    config: 'StrictHostKeyChecking ask\n',
    files: { kh: '' },
  },
  {
    name: 'StrictHostKeyChecking accept-new, changed key',
    config: 'StrictHostKeyChecking accept-new\n',
    files: { kh: '{A} {other}' },
  },
  {
    name: 'StrictHostKeyChecking no, changed key: ssh connects, svc refuses and says why',
    config: 'StrictHostKeyChecking no\n',
    files: { kh: '{A} {other}' },
    svcRefuses:
      /HAS CHANGED.*\(svc does not take StrictHostKeyChecking no from .*\/config:2: it always checks host keys\)$/,
  },
  {
    name: 'StrictHostKeyChecking accept-new, unknown host: ssh records it, svc refuses and says why',
    config: 'StrictHostKeyChecking accept-new\n',
    files: { kh: '' },
    svcRefuses:
      /is unknown .*--accept-new \(svc does not take StrictHostKeyChecking accept-new from .*\/config:2: it always checks host keys\)$/,
  },
  {
    name: 'StrictHostKeyChecking off, unknown host: ssh records it, svc refuses and says why',
    config: 'StrictHostKeyChecking off\n',
    files: { kh: '' },
    svcRefuses: /is unknown .*\(svc does not take StrictHostKeyChecking off from /,
  },
];

const PID_FILE = '/run/svc-test-cert-sshd.pid';
const NAME = 'checkip.svc-test.invalid';
let sbx: Sandbox;
let work: string;
let project: string;
const keys: Record<string, string> = {};

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-ssh-hostkey-unusual-'));
  const sbxLine = readFileSync(sbx.inventory.knownHostsFile, 'utf8').trim().split('\n')[0]!;
  keys.sbx = sbxLine.split(/\s+/).slice(1, 3).join(' ');
  const other = join(work, 'other_ed');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', other]);
  keys.other = readFileSync(`${other}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' ');
  // A second sshd on port 2222 whose ED25519 host key has a certificate signed by a CA made here.
  const ca = join(work, 'ca');
  const hostKey = join(work, 'host_ed25519');
  for (const file of [ca, hostKey])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file]);
  const address = sbx.host('sbx-1').address;
  execFileSync('ssh-keygen', [
    '-q',
    '-s',
    ca,
    '-I',
    'svc-test',
    '-h',
    '-n',
    address,
    `${hostKey}.pub`,
  ]);
  keys.ca = readFileSync(`${ca}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' ');
  keys.certHost = readFileSync(`${hostKey}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' ');
  const sshdConfig = [
    `ListenAddress ${address}`,
    'Port 2222',
    'HostKey /run/svc-test-cert-hk',
    'HostCertificate /run/svc-test-cert-hk-cert.pub',
    `PidFile ${PID_FILE}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
  ].join('\n');
  const script = [
    'set -e; umask 077',
    `cat > /run/svc-test-cert-hk <<'EOF'\n${readFileSync(hostKey, 'utf8')}EOF`,
    `cat > /run/svc-test-cert-hk-cert.pub <<'EOF'\n${readFileSync(`${hostKey}-cert.pub`, 'utf8')}EOF`,
    `cat > /run/svc-test-cert-sshd_config <<'EOF'\n${sshdConfig}\nEOF`,
    '/usr/sbin/sshd -f /run/svc-test-cert-sshd_config',
  ].join('\n');
  const started = sbx.ssh('sbx-1', 'sh -s', { user: 'root', input: script });
  expect(started.code, started.stderr).toBe(0);
  project = join(work, 'project');
  execFileSync(
    SVC,
    ['new', 'api-probe', '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    { env: { ...process.env, CI: '1' } },
  );
}, 120_000);

afterAll(async () => {
  sbx?.ssh('sbx-1', `kill $(cat ${PID_FILE}) 2>/dev/null; true`, { user: 'root' });
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

function fill(text: string, dir: string): string {
  const address = sbx.host('sbx-1').address;
  const [a, b] = address.split('.');
  return text
    .replaceAll('{dir}', dir)
    .replaceAll('{N}', NAME)
    .replaceAll('{Aq}', address.replace(/\d$/, '?'))
    .replaceAll('{A}', address)
    .replaceAll('{net}', `${a}.${b}`)
    .replace(/\{(sbx|other|ca|certHost)\}/g, (_, name: string) => keys[name]!);
}

type Decision = 'connects' | 'unknown' | 'changed' | 'ip-changed' | 'revoked' | 'other';

function sshDecision(status: number | null, stderr: string): Decision {
  if (status === 0) return 'connects';
  if (/REVOKED|revoked/.test(stderr)) return 'revoked';
  if (/HAS CHANGED|has changed/.test(stderr)) return 'changed';
  if (/differs from the key for the IP address/.test(stderr)) return 'ip-changed';
  if (/host key is known for|Host key verification failed/.test(stderr)) return 'unknown';
  return 'other';
}

function svcDecision(code: number, stderr: string): Decision {
  if (code === 0) return 'connects';
  if (/REVOKED/.test(stderr)) return 'revoked';
  if (/HAS CHANGED/.test(stderr)) return 'changed';
  if (/records another key for its address .* \(CheckHostIP yes\)/.test(stderr))
    return 'ip-changed';
  if (/is unknown/.test(stderr)) return 'unknown';
  return 'other';
}

describe('unusual known_hosts and host-key options: connect or refuse as ssh decides', () => {
  it.each(CASES.map((c, index) => [c.name, c, index] as const))(
    '%s',
    async (_name, c, index) => {
      const host = sbx.host('sbx-1');
      // Two copies of the case: ssh may write to its known_hosts (accept-new), svc must not.
      const run = (tool: string) => {
        const dir = join(work, `case-${index}-${tool}`);
        mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
        for (const [name, text] of Object.entries(c.files))
          writeFileSync(join(dir, fill(name, dir)), fill(text, dir) + (text === '' ? '' : '\n'));
        const config = join(dir, 'home', '.ssh', 'config');
        const common = [
          `  IdentityFile ${host.keyFile}`,
          `  UserKnownHostsFile ${join(dir, 'kh')}`,
          `  GlobalKnownHostsFile ${join(dir, 'global')}`,
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '  ConnectTimeout 10',
        ];
        const lines = fill(c.config ?? '', dir)
          .split('\n')
          .filter(Boolean);
        writeFileSync(config, ['Host *', ...lines.map((l) => `  ${l}`), ...common, ''].join('\n'));
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          HOME: join(dir, 'home'),
          SVC_SSH_CONFIG: config,
          SVC_SANDBOX_DIR: join(dir, 'no-sandbox'),
        };
        delete env.SSH_AUTH_SOCK;
        return { dir, config, env, known: () => readFileSync(join(dir, 'kh'), 'utf8') };
      };
      const s = run('ssh');
      const name = c.byName ? NAME : host.address;
      const target = `root@${name}${c.port ? `:${c.port}` : ''}`;
      // byName: /etc/hosts of a private mount namespace names the host; nothing else changes.
      const hosts = join(work, `hosts-${index}`);
      writeFileSync(hosts, `127.0.0.1 localhost\n${host.address} ${NAME}\n`);
      const wrap = (argv: string[]) =>
        c.byName
          ? [
              'unshare',
              '-m',
              'sh',
              '-c',
              'mount --bind "$1" /etc/hosts && shift && exec "$@"',
              'sh',
              hosts,
              ...argv,
            ]
          : argv;
      const portArgs = c.port ? ['-p', String(c.port)] : [];
      const [sshCommand, ...sshArgs] = wrap([
        'ssh',
        '-F',
        s.config,
        ...portArgs,
        `root@${name}`,
        'true',
      ]);
      const sshRun = spawnSync(sshCommand!, sshArgs, {
        env: s.env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const ssh = sshDecision(sshRun.status, sshRun.stderr);
      expect(ssh, sshRun.stderr).not.toBe('other');
      const v = run('svc');
      const before = v.known();
      const svcArgv = ['releases', target, '--dir', project];
      const svcRun = c.byName
        ? (() => {
            const [command, ...rest] = wrap([SVC, ...svcArgv]);
            const r = spawnSync(command!, rest, {
              env: { ...v.env, NO_COLOR: '1', SVC_DEBUG: '' },
              encoding: 'utf8',
              timeout: 120_000,
            });
            return { code: r.status ?? -1, stderr: r.stderr };
          })()
        : await runSvc(svcArgv, v.env);
      const svc = svcDecision(svcRun.code, svcRun.stderr);
      if (c.svcRefuses) {
        // ssh connects; svc refuses in one line that says why, and records nothing.
        expect(ssh, sshRun.stderr).toBe('connects');
        expect(svc, svcRun.stderr).not.toBe('connects');
        const lines = svcRun.stderr.trim().split('\n');
        expect(lines, svcRun.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(c.svcRefuses);
        expect(v.known()).toBe(before);
      } else {
        expect(svc, `ssh: ${ssh}: ${sshRun.stderr.trim()}\nsvc: ${svcRun.stderr.trim()}`).toBe(ssh);
      }
    },
    90_000,
  );
});
