// svc decides to connect or refuse exactly as OpenSSH's ssh does (issue 9, points 10-12). Every
// case is run through the real `ssh` (StrictHostKeyChecking=yes, BatchMode=yes) and through bin/svc
// (`svc releases`, which connects and reads) against real sshd's on a sandbox host: port 22 (the
// sandbox's, an ED25519 host key only) and port 2222 (a second sshd started here with RSA, ECDSA
// and ED25519 host keys). OpenSSH's answer is never written down: it is run. Both answers are
// compared as a class of decision (connects, unknown key, changed key, revoked, config error,
// authentication failed), read from ssh's stderr and svc's message, so a refusal for the wrong
// reason fails. Each case has its own directory: the ssh_config (ssh -F, and svc's SVC_SSH_CONFIG,
// which is -F), the known_hosts files, keys; every path in the config is explicit, so neither tool
// reads the machine's ~/.ssh or /etc/ssh.
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

interface Case {
  name: string;
  /** The host as typed; `{A}` is the sandbox host's address. */
  host: string;
  user?: string;
  port?: number;
  /** Config blocks before the common `Host *` block (which sets the identity and known_hosts). */
  config?: string;
  /** File name (under the case directory) -> contents; `home/.ssh/known_hosts` is the main one. */
  files?: Record<string, string>;
  /** Hash these known_hosts files with ssh-keygen -H before running. */
  hash?: string[];
  /** Which agent SSH_AUTH_SOCK points to: none, one holding 7 unrelated keys, or the login key. */
  agent?: 'junk' | 'good';
  /** No IdentityFile in the common block (the key comes from an agent, or nowhere). */
  noIdentityFile?: boolean;
}

/** A hashed known_hosts name for {A} whose salt is `saltBytes` long (ssh wants exactly 20). */
const HASHED_SALT = (saltBytes: number) => `{hashed${saltBytes}}`;

const KH = 'home/.ssh/known_hosts';
const P = '[{A}]:2222';

const CASES: Case[] = [
  // Point 10: the host key algorithm order.
  { name: 'port 22, key known', host: '{A}', files: { [KH]: '{A} {sbx}' } },
  { name: 'port 22, nothing known', host: '{A}', files: { [KH]: '' } },
  { name: 'port 22, another ED25519 key known', host: '{A}', files: { [KH]: '{A} {other}' } },
  { name: 'known only by RSA', host: '{A}', port: 2222, files: { [KH]: `${P} {rsa}` } },
  { name: 'known only by ECDSA', host: '{A}', port: 2222, files: { [KH]: `${P} {ecdsa}` } },
  { name: 'known only by ED25519', host: '{A}', port: 2222, files: { [KH]: `${P} {ed}` } },
  {
    name: 'known by RSA and ECDSA',
    host: '{A}',
    port: 2222,
    files: { [KH]: `${P} {rsa}\n${P} {ecdsa}` },
  },
  {
    name: 'known by an RSA key the server no longer has',
    host: '{A}',
    port: 2222,
    files: { [KH]: `${P} {otherRsa}` },
  },
  {
    name: 'HostKeyAlgorithms ssh-ed25519 while RSA is known',
    host: '{A}',
    port: 2222,
    config: 'Host *\n  HostKeyAlgorithms ssh-ed25519\n',
    files: { [KH]: `${P} {rsa}` },
  },
  {
    name: 'HostKeyAlgorithms -ssh-ed25519 while only ED25519 is known',
    host: '{A}',
    port: 2222,
    config: 'Host *\n  HostKeyAlgorithms -ssh-ed25519\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'HostKeyAlgorithms ^rsa-sha2-512 while ED25519 is known',
    host: '{A}',
    port: 2222,
    config: 'Host *\n  HostKeyAlgorithms ^rsa-sha2-512\n',
    files: { [KH]: `${P} {ed}` },
  },
  // Point 11: known_hosts semantics.
  {
    name: 'port 2222, only a port-less RSA entry',
    host: '{A}',
    port: 2222,
    files: { [KH]: '{A} {rsa}' },
  },
  {
    name: 'port 2222, only a port-less ED25519 entry',
    host: '{A}',
    port: 2222,
    files: { [KH]: '{A} {ed}' },
  },
  { name: 'port 22 looked up as [A]:22', host: '{A}', files: { [KH]: '[{A}]:22 {sbx}' } },
  {
    name: 'HostKeyAlias names the entry',
    host: 'hosta',
    config: 'Host hosta\n  HostName {A}\n  Port 2222\n  HostKeyAlias hosta\n',
    files: { [KH]: 'hosta {rsa}' },
  },
  {
    name: 'HostKeyAlias: the address entry does not count',
    host: 'hosta',
    config: 'Host hosta\n  HostName {A}\n  Port 2222\n  HostKeyAlias hosta\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'two aliases on one address: A is pinned to another key',
    host: 'hosta',
    config:
      'Host hosta\n  HostName {A}\n  Port 2222\n  HostKeyAlias hosta\nHost hostb\n  HostName {A}\n  Port 2222\n  HostKeyAlias hostb\n',
    files: { [KH]: `hostb {ed}\nhosta {other}\n${P} {ed}` },
  },
  {
    name: 'HostKeyAlias with a port is looked up without it',
    host: 'hosta',
    config: 'Host hosta\n  HostName {A}\n  Port 2222\n  HostKeyAlias hosta\n',
    files: { [KH]: '[hosta]:2222 {ed}' },
  },
  {
    name: 'UserKnownHostsFile: the key is in the second file',
    host: '{A}',
    port: 2222,
    config: 'Host *\n  UserKnownHostsFile {home}/.ssh/known_hosts {dir}/second\n',
    files: { [KH]: '', second: `${P} {ed}` },
  },
  {
    name: 'UserKnownHostsFile with %-tokens',
    host: 'tok',
    config: 'Host tok\n  HostName {A}\n  UserKnownHostsFile {dir}/kh-%n-%h-%p-%r\n',
    files: { [KH]: '', 'kh-tok-{A}-22-root': '{A} {sbx}' },
  },
  {
    name: 'UserKnownHostsFile none',
    host: '{A}',
    config: 'Host *\n  UserKnownHostsFile none\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'GlobalKnownHostsFile holds the key',
    host: '{A}',
    port: 2222,
    files: { [KH]: '', global: `${P} {ecdsa}` },
  },
  {
    name: 'GlobalKnownHostsFile with several files, the key in the second',
    host: '{A}',
    config: 'Host *\n  GlobalKnownHostsFile {dir}/global {dir}/global2\n',
    files: { [KH]: '', global2: '{A} {sbx}' },
  },
  {
    name: '@revoked in the global file',
    host: '{A}',
    files: { [KH]: '{A} {sbx}', global: '@revoked * {sbx}' },
  },
  {
    name: '@revoked for another host in the global file',
    host: '{A}',
    files: { [KH]: '{A} {sbx}', global: '@revoked elsewhere.example {sbx}' },
  },
  {
    name: '@revoked RSA in the user file, RSA also known',
    host: '{A}',
    port: 2222,
    files: { [KH]: `${P} {rsa}\n@revoked ${P} {rsa}` },
  },
  {
    name: 'RevokedHostKeys lists the key',
    host: '{A}',
    config: 'Host *\n  RevokedHostKeys {dir}/revoked\n',
    files: { [KH]: '{A} {sbx}', revoked: '{sbx} comment' },
  },
  {
    name: 'RevokedHostKeys lists another key',
    host: '{A}',
    config: 'Host *\n  RevokedHostKeys {dir}/revoked\n',
    files: { [KH]: '{A} {sbx}', revoked: '{other}' },
  },
  {
    name: 'RevokedHostKeys names a missing file',
    host: '{A}',
    config: 'Host *\n  RevokedHostKeys {dir}/missing\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'hashed entry (ssh-keygen -H)',
    host: '{A}',
    files: { [KH]: '{A} {sbx}' },
    hash: [KH],
  },
  {
    name: 'hashed [host]:port RSA entry',
    host: '{A}',
    port: 2222,
    files: { [KH]: `${P} {rsa}` },
    hash: [KH],
  },
  // Point 12: ssh_config semantics.
  {
    name: 'Match !host sets the HostName',
    host: 'web',
    config: 'Match !host bastion\n  HostName {A}\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'Match !host with ProxyJump through the port 22 sshd',
    host: 'viajump',
    config:
      'Host viajump\n  HostName {A}\n  Port 2222\nMatch !originalhost {A}\n  ProxyJump root@{A}\n',
    files: { [KH]: `{A} {sbx}\n${P} {ed}` },
  },
  {
    name: 'ProxyJump hop with a service-name port',
    host: 'viajump',
    config: 'Host viajump\n  HostName {A}\n  Port 2222\n  ProxyJump root@{A}:ssh\n',
    files: { [KH]: `{A} {sbx}\n${P} {ed}` },
  },
  {
    name: 'Match originalhost sets the port',
    host: 'orig',
    config: 'Host orig\n  HostName {A}\nMatch originalhost orig\n  Port 2222\n',
    files: { [KH]: `${P} {ecdsa}` },
  },
  {
    name: 'Match host is the HostName, not the alias',
    host: 'alias2',
    config: 'Host alias2\n  HostName {A}\nMatch host alias2\n  Port 2222\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'Match user picks the port for the user of the target',
    host: 'u1',
    user: 'root',
    config: 'Host u1\n  HostName {A}\nMatch user root\n  Port 2222\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'Match localuser',
    host: 'lu',
    config: 'Host lu\n  HostName {A}\nMatch localuser nobody-here\n  Port 2222\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'Match exec succeeds',
    host: 'ex',
    config: 'Host ex\n  HostName {A}\nMatch exec "test -e {dir}/flag"\n  Port 2222\n',
    files: { [KH]: `${P} {ed}`, flag: '' },
  },
  {
    name: 'Match exec fails, negated',
    host: 'ex2',
    config: 'Host ex2\n  HostName {A}\nMatch !exec "test -e {dir}/no-flag"\n  Port 2222\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'Match final host sees the HostName',
    host: 'fin',
    config: 'Host fin\n  HostName {A}\nMatch final host {A}\n  Port 2222\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'Match canonical does not match without canonicalization',
    host: 'can',
    config: 'Host can\n  HostName {A}\nMatch canonical\n  Port 2222\n',
    files: { [KH]: `${P} {ed}` },
  },
  {
    name: 'Match all',
    host: 'everything',
    config: 'Match all\n  HostName {A}\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'Host with a negated pattern rules the block out',
    host: 'neg',
    config: 'Host * !neg\n  Port 2222\nHost neg\n  HostName {A}\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'the port of the target wins over Port',
    host: 'pp',
    port: 22,
    config: 'Host pp\n  HostName {A}\n  Port 2222\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'the user of the target wins over User',
    host: 'uu',
    user: 'root',
    config: 'Host uu\n  HostName {A}\n  User nobody\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'User from the config',
    host: 'cu',
    config: 'Host cu\n  HostName {A}\n  User root\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IdentitiesOnly yes with an agent of 7 other keys',
    host: '{A}',
    agent: 'junk',
    config: 'Host *\n  IdentitiesOnly yes\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IdentitiesOnly no with an agent of 7 other keys',
    host: '{A}',
    agent: 'junk',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IdentityAgent none with an agent of 7 other keys',
    host: '{A}',
    agent: 'junk',
    config: 'Host *\n  IdentityAgent none\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IdentityAgent names the agent with the key',
    host: '{A}',
    noIdentityFile: true,
    config: 'Host *\n  IdentityAgent {good}\n  IdentityFile {dir}/no-such-key\n',
    files: { [KH]: '{A} {sbx}' },
  },
  // The review's findings (2026-12): lines svc read differently from ssh.
  {
    name: 'an empty host pattern in the middle: the line still pins another key',
    host: '{A}',
    files: { [KH]: 'x.example,,{A} {other}' },
  },
  {
    name: 'a trailing comma: the line still pins the key',
    host: '{A}',
    files: { [KH]: '{A}, {sbx}' },
  },
  {
    name: 'a hashed entry with a 16-byte salt is ignored',
    host: '{A}',
    files: { [KH]: `${HASHED_SALT(16)} {sbx}` },
  },
  {
    name: 'a hashed entry with a 20-byte salt (made here) is read',
    host: '{A}',
    files: { [KH]: `${HASHED_SALT(20)} {sbx}` },
  },
  {
    name: '@revoked followed by a tab is not a marker',
    host: '{A}',
    files: { [KH]: '{A} {sbx}', global: '@revoked\t{A} {sbx}' },
  },
  {
    name: 'RevokedHostKeys with a line that is not a key',
    host: '{A}',
    config: 'Host *\n  RevokedHostKeys {dir}/revoked\n',
    files: { [KH]: '{A} {sbx}', revoked: '{other}\nthis is not a key' },
  },
  {
    name: 'RevokedHostKeys none',
    host: '{A}',
    config: 'Host *\n  RevokedHostKeys none\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'an unknown keyword in the config',
    host: '{A}',
    config: 'Host *\n  Frobnicate yes\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'a misspelt keyword in a block that does not match',
    host: '{A}',
    config: 'Host elsewhere\n  HostNmae {A}\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IgnoreUnknown names the unknown keyword',
    host: '{A}',
    config: 'IgnoreUnknown frobnicate\nHost *\n  Frobnicate yes\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'HostName ""',
    host: 'empty',
    config: 'Host empty\n  HostName ""\n',
    files: { [KH]: '{A} {sbx}' },
  },
  {
    name: 'IdentitiesOnly yes: the agent key is used for the identity file',
    host: '{A}',
    agent: 'good',
    noIdentityFile: true,
    config: 'Host *\n  IdentitiesOnly yes\n  IdentityFile {pub}\n',
    files: { [KH]: '{A} {sbx}' },
  },
];

let sbx: Sandbox;
let work: string;
let project: string;
const keys: Record<string, string> = {};
const agents: { pid: number; sock: string }[] = [];
let extraSshdPidFile = '';

const publicKey = (file: string) =>
  readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

function keygen(file: string, type: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', file]);
  return file;
}

function startAgent(name: string, files: string[]): string {
  const sock = join(work, `${name}.sock`);
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  agents.push({ pid: Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]), sock });
  for (const file of files)
    execFileSync('ssh-add', ['-q', file], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      stdio: 'ignore',
    });
  return sock;
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-ssh-connect-'));
  const host = sbx.host('sbx-1');
  const sbxLine = readFileSync(sbx.inventory.knownHostsFile, 'utf8').trim().split('\n')[0]!;
  keys.sbx = sbxLine.split(/\s+/).slice(1, 3).join(' ');
  const hk = (type: string) => keygen(join(work, `host_${type}`), type);
  const hostKeys = { rsa: hk('rsa'), ecdsa: hk('ecdsa'), ed25519: hk('ed25519') };
  keys.rsa = publicKey(hostKeys.rsa);
  keys.ecdsa = publicKey(hostKeys.ecdsa);
  keys.ed = publicKey(hostKeys.ed25519);
  keys.other = publicKey(keygen(join(work, 'other_ed'), 'ed25519'));
  keys.otherRsa = publicKey(keygen(join(work, 'other_rsa'), 'rsa'));
  // A second sshd inside the host, with three host keys; its pid file to stop it in afterAll.
  extraSshdPidFile = '/run/svc-test-sshd.pid';
  const config = [
    `ListenAddress ${host.address}`,
    'Port 2222',
    ...['rsa', 'ecdsa', 'ed25519'].map((type) => `HostKey /run/svc-test-hk-${type}`),
    `PidFile ${extraSshdPidFile}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
  ].join('\n');
  const script = [
    'set -e; umask 077',
    ...Object.entries(hostKeys).map(
      ([type, file]) => `cat > /run/svc-test-hk-${type} <<'EOF'\n${readFileSync(file, 'utf8')}EOF`,
    ),
    `cat > /run/svc-test-sshd_config <<'EOF'\n${config}\nEOF`,
    '/usr/sbin/sshd -f /run/svc-test-sshd_config',
  ].join('\n');
  const started = sbx.ssh('sbx-1', 'sh -s', { user: 'root', input: script });
  expect(started.code, started.stderr).toBe(0);
  const junk = Array.from({ length: 7 }, (_, i) => keygen(join(work, `junk${i}`), 'ed25519'));
  keys.junk = startAgent('junk', junk);
  keys.good = startAgent('good', [host.keyFile]);
  project = join(work, 'project');
  execFileSync(
    SVC,
    ['new', 'api-probe', '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
}, 120_000);

afterAll(async () => {
  sbx?.ssh('sbx-1', `kill $(cat ${extraSshdPidFile}) 2>/dev/null; true`, { user: 'root' });
  for (const agent of agents) {
    try {
      process.kill(agent.pid);
    } catch {
      // already gone
    }
  }
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

function fill(text: string, dir: string): string {
  const host = sbx.host('sbx-1');
  const hashed = (saltBytes: number) => {
    const salt = randomBytes(saltBytes);
    const hash = createHmac('sha1', salt).update(host.address).digest('base64');
    return `|1|${salt.toString('base64')}|${hash}`;
  };
  return text
    .replace(/\{hashed(\d+)\}/g, (_, bytes: string) => hashed(Number(bytes)))
    .replaceAll('{dir}', dir)
    .replaceAll('{home}', join(dir, 'home'))
    .replaceAll('{A}', host.address)
    .replaceAll('{pub}', `${host.keyFile}.pub`)
    .replace(/\{(sbx|rsa|ecdsa|ed|other|otherRsa|good)\}/g, (_, name: string) => keys[name]!);
}

/** Writes the case's directory; returns it and the config file. */
function prepare(c: Case, index: number): { dir: string; config: string } {
  const dir = join(work, `case-${index}`);
  mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
  for (const [name, text] of Object.entries(c.files ?? {}))
    writeFileSync(join(dir, fill(name, dir)), fill(text, dir) + (text === '' ? '' : '\n'));
  for (const file of c.hash ?? []) execFileSync('ssh-keygen', ['-q', '-H', '-f', join(dir, file)]);
  const common = [
    'Host *',
    ...(c.noIdentityFile ? [] : [`  IdentityFile ${sbx.host('sbx-1').keyFile}`]),
    `  UserKnownHostsFile ${join(dir, 'home', '.ssh', 'known_hosts')}`,
    `  GlobalKnownHostsFile ${join(dir, 'global')}`,
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  ConnectTimeout 10',
    '',
  ].join('\n');
  const config = join(dir, 'home', '.ssh', 'config');
  writeFileSync(config, fill(c.config ?? '', dir) + common);
  return { dir, config };
}

function env(c: Case, dir: string): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    // ssh -F: this file only, not /etc/ssh/ssh_config.
    SVC_SSH_CONFIG: join(dir, 'home', '.ssh', 'config'),
  };
  delete base.SSH_AUTH_SOCK;
  // svc's own sandbox known_hosts stays out of it: an empty state directory.
  base.SVC_SANDBOX_DIR = join(dir, 'no-sandbox');
  if (c.agent) base.SSH_AUTH_SOCK = keys[c.agent];
  return base;
}

type Decision = 'connects' | 'unknown' | 'changed' | 'revoked' | 'config' | 'auth' | 'other';

/** The class of ssh's decision, from its exit status and stderr. */
function sshDecision(status: number | null, stderr: string): Decision {
  if (status === 0) return 'connects';
  if (/Bad configuration option|Missing argument|bad configuration options/.test(stderr))
    return 'config';
  if (/REVOKED|revoked/.test(stderr)) return 'revoked';
  if (/HAS CHANGED|has changed/.test(stderr)) return 'changed';
  if (/host key is known for|Host key verification failed/.test(stderr)) return 'unknown';
  if (/Permission denied|Too many authentication failures/.test(stderr)) return 'auth';
  return 'other';
}

/** The class of svc's decision, from its exit code and message. */
function svcDecision(code: number, stderr: string): Decision {
  if (code === 0) return 'connects';
  if (/Bad configuration option|needs a value/.test(stderr)) return 'config';
  if (/REVOKED|RevokedHostKeys/.test(stderr)) return 'revoked';
  if (/HAS CHANGED/.test(stderr)) return 'changed';
  if (/is unknown/.test(stderr)) return 'unknown';
  if (/authentication failed|Too many authentication failures/.test(stderr)) return 'auth';
  return 'other';
}

function sshSays(c: Case, dir: string, config: string): { decision: Decision; stderr: string } {
  const host = fill(c.host, dir);
  const args = ['-F', config, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  if (c.user) args.push('-l', c.user);
  if (c.port) args.push('-p', String(c.port));
  const result = spawnSync('ssh', [...args, host, 'true'], {
    env: env(c, dir),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { decision: sshDecision(result.status, result.stderr), stderr: result.stderr };
}

function sshConnects(c: Case, dir: string, config: string): boolean {
  return sshSays(c, dir, config).decision === 'connects';
}

async function svcSays(c: Case, dir: string): Promise<{ decision: Decision; stderr: string }> {
  const host = fill(c.host, dir);
  const target = `${c.user ? `${c.user}@` : ''}${host}${c.port ? `:${c.port}` : ''}`;
  const result = await runSvc(['releases', target, '--dir', project], env(c, dir));
  return { decision: svcDecision(result.code, result.stderr), stderr: result.stderr };
}

describe('connect or refuse, as ssh decides', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c, index) => [c.name, c, index] as const))(
    '%s',
    async (_name, c, index) => {
      const { dir, config } = prepare(c, index);
      const ssh = sshSays(c, dir, config);
      const svc = await svcSays(c, dir);
      // Neither tool may end in a class the mapping does not know (the mapping would be stale).
      expect(ssh.decision, ssh.stderr).not.toBe('other');
      expect(
        {
          decision: svc.decision,
          ...(svc.decision === ssh.decision ? {} : { svcSaid: svc.stderr.trim() }),
        },
        `ssh: ${ssh.decision}: ${ssh.stderr.trim()}`,
      ).toEqual({ decision: ssh.decision });
    },
    90_000,
  );
});

describe('recording host keys', () => {
  /** A case directory whose known_hosts holds `known` for [A]:2222; its env and the file. */
  function pinned(name: string, known: string, config = '') {
    const c: Case = { name, host: '{A}', port: 2222, config, files: { [KH]: known } };
    const { dir } = prepare(c, 1000 + CASES.length + name.length);
    return { c, dir, file: join(dir, KH), env: env(c, dir) };
  }
  const target = () => `root@${sbx.host('sbx-1').address}:2222`;

  it('svc trust on a host pinned by its RSA key: already trusted, nothing added', async () => {
    const { file, env: e } = pinned('trust-rsa', `${P} {rsa}`);
    const before = readFileSync(file, 'utf8');
    const result = await runSvc(['trust', target()], e);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('already trusted (RSA)');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('svc trust and --accept-new on a host pinned by a key it no longer has: refused, nothing added, as ssh accept-new', async () => {
    const { c, dir, file, env: e } = pinned('trust-other', `${P} {otherRsa}`);
    const before = readFileSync(file, 'utf8');
    const ssh = spawnSync(
      'ssh',
      [
        '-F',
        join(dir, 'home', '.ssh', 'config'),
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-p',
        '2222',
        fill(c.host, dir),
        'true',
      ],
      { env: e, encoding: 'utf8' },
    );
    expect(ssh.status).not.toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const trust = await runSvc(['trust', target()], e);
    expect(trust.code).toBe(1);
    expect(trust.stderr).toContain('HAS CHANGED');
    const accept = await runSvc(['releases', target(), '--dir', project, '--accept-new'], e);
    expect(accept.code).not.toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a pin on a line with an empty host pattern: svc trust and --accept-new refuse, nothing added, as ssh accept-new', async () => {
    const { c, dir, file, env: e } = pinned('trust-empty-pattern', `x.example,,${P} {otherRsa}`);
    const before = readFileSync(file, 'utf8');
    const ssh = spawnSync(
      'ssh',
      [
        '-F',
        join(dir, 'home', '.ssh', 'config'),
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-p',
        '2222',
        fill(c.host, dir),
        'true',
      ],
      { env: e, encoding: 'utf8' },
    );
    expect(sshDecision(ssh.status, ssh.stderr), ssh.stderr).toBe('changed');
    const trust = await runSvc(['trust', target()], e);
    expect(trust.code).toBe(1);
    expect(svcDecision(trust.code, trust.stderr), trust.stderr).toBe('changed');
    const accept = await runSvc(['releases', target(), '--dir', project, '--accept-new'], e);
    expect(svcDecision(accept.code, accept.stderr), accept.stderr).toBe('changed');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a known_hosts line svc cannot parse: svc trust and --accept-new refuse to record, naming file:line', async () => {
    const { file, env: e } = pinned('trust-unparsed', `# a comment\n@revoked\t${P} {otherRsa}`);
    const before = readFileSync(file, 'utf8');
    for (const args of [
      ['trust', target()],
      ['releases', target(), '--dir', project, '--accept-new'],
    ]) {
      const result = await runSvc(args, e);
      expect(result.code, args[0]).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(
        '~/.ssh/known_hosts:2: svc cannot parse this known_hosts line',
      );
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('ProxyCommand and KnownHostsCommand: refused in one line naming file:line, never ignored', async () => {
    for (const [keyword, value] of [
      ['ProxyCommand', 'nc %h %p'],
      ['KnownHostsCommand', '/bin/cat {dir}/kh'],
    ]) {
      const { dir, env: e } = pinned(
        `unsupported-${keyword}`,
        `${P} {ed}`,
        `Host *\n  ${keyword} ${value}\n`,
      );
      const result = await runSvc(['releases', target(), '--dir', project], e);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(
        `${join(dir, 'home', '.ssh', 'config')}:2: ${keyword} is set`,
      );
      expect(result.stderr).toContain(`svc does not support ${keyword}`);
    }
  });

  it("without -F, /etc/ssh/ssh_config's HashKnownHosts yes (Debian's default) hashes what is recorded, as ssh accept-new does", async () => {
    // Each tool in a private mount namespace: scratch directories over /etc/ssh and over ~/.ssh
    // of the passwd home (ssh's ~; svc gets it as $HOME). The machine's files are not touched.
    const pwHome = userInfo().homedir;
    const recorded: Record<string, string> = {};
    for (const tool of ['ssh', 'svc']) {
      const dir = join(work, `system-hash-${tool}`);
      const etc = join(dir, 'etc-ssh');
      const dotSsh = join(dir, 'dot-ssh');
      mkdirSync(etc, { recursive: true });
      mkdirSync(dotSsh, { recursive: true });
      writeFileSync(join(etc, 'ssh_config'), 'Host *\n  HashKnownHosts yes\n');
      writeFileSync(
        join(dotSsh, 'config'),
        `Host *\n  IdentityFile ${sbx.host('sbx-1').keyFile}\n  GlobalKnownHostsFile ${join(dir, 'global')}\n  BatchMode yes\n`,
      );
      // An empty tmpfs over the passwd home first: a machine without ~/.ssh runs this alike.
      const mounts = `mount --bind "$1" /etc/ssh && mount -t tmpfs svc-home ${pwHome} && mkdir -m 0700 ${pwHome}/.ssh && mount --bind "$2" ${pwHome}/.ssh && shift 2 && exec "$@"`;
      const argv =
        tool === 'ssh'
          ? [
              'ssh',
              '-o',
              'StrictHostKeyChecking=accept-new',
              '-p',
              '2222',
              `root@${sbx.host('sbx-1').address}`,
              'true',
            ]
          : [SVC, 'trust', target()];
      const e: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: pwHome,
        NO_COLOR: '1',
        SVC_SANDBOX_DIR: join(dir, 'no-sandbox'),
      };
      delete e.SSH_AUTH_SOCK;
      delete e.SVC_SSH_CONFIG;
      // The namespace really shows the scratch file (else both would record alike, and agree).
      const shown = spawnSync(
        'unshare',
        ['-m', 'sh', '-c', mounts, 'sh', etc, dotSsh, 'cat', '/etc/ssh/ssh_config'],
        { encoding: 'utf8' },
      );
      expect(shown.stdout, shown.stderr).toBe('Host *\n  HashKnownHosts yes\n');
      const result = spawnSync('unshare', ['-m', 'sh', '-c', mounts, 'sh', etc, dotSsh, ...argv], {
        env: e,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status, `${tool}: ${result.stderr}`).toBe(0);
      recorded[tool] = readFileSync(join(dotSsh, 'known_hosts'), 'utf8');
    }
    const hashed = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((line) => line.startsWith('|1|'));
    expect(hashed(recorded.svc!)).toEqual(hashed(recorded.ssh!));
  });

  it('HashKnownHosts yes: svc trust writes a hashed line that ssh-keygen -F finds and ssh accepts', async () => {
    const { c, dir, file, env: e } = pinned('hash', '', 'Host *\n  HashKnownHosts yes\n');
    const result = await runSvc(['trust', target()], e);
    expect(result.code, result.stderr).toBe(0);
    const line = readFileSync(file, 'utf8').trim();
    expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    const name = `[${sbx.host('sbx-1').address}]:2222`;
    const found = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
    expect(found.status, found.stderr).toBe(0);
    expect(sshConnects(c, dir, join(dir, 'home', '.ssh', 'config'))).toBe(true);
  });

  it('HostKeyAlias: svc trust records the alias, which ssh then accepts', async () => {
    const config = 'Host hosta\n  HostName {A}\n  Port 2222\n  HostKeyAlias hosta\n';
    const c: Case = { name: 'alias-record', host: 'hosta', config, files: { [KH]: '' } };
    const { dir, config: file } = prepare(c, 2000);
    const result = await runSvc(['trust', 'root@hosta'], env(c, dir));
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, KH), 'utf8')).toMatch(/^hosta ssh-ed25519 /);
    expect(sshConnects(c, dir, file)).toBe(true);
  });
});
