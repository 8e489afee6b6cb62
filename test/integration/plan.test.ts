// svc plan against real sandbox hosts (network + mount namespaces running a real sshd): no SSH
// mocks. Proves the plan is complete, machine-readable, never changes the host, never shows a
// secret, and that host keys are verified.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const SECRET = `svc-secret-${process.pid}-${Date.now()}`;
let sbx: Sandbox;
let work: string;
let project: string;
let home: string;

/** A digest of everything a deploy could touch on a host: paths, modes, owners, sizes, contents. */
function hostDigest(name: string): string {
  const roots = '/etc /var/www /var/log /var/db /var/lib/svc /home /root /usr/local /srv';
  const command = `find ${roots} -xdev -printf '%p %m %u %g %s %l\\n' 2>/dev/null | sort | sha256sum; find ${roots} -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum`;
  const result = sbx.ssh(name, command, { user: 'root' });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** bin/svc in the project, with the sandbox and a scratch HOME (no ~/.ssh of the machine). */
function plan(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runSvc(['plan', ...args, '--dir', project], { ...sbx.env, HOME: home, ...extraEnv });
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-plan-'));
  home = join(work, 'home');
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    [
      'new',
      'api-orders',
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--dir',
      project,
      '--env',
      `TOKEN=${SECRET}`,
    ],
    {
      env: { ...process.env, CI: '1' },
    },
  );
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc plan sandbox', () => {
  it('shows a full plan for every host, through sudo as deploy, and changes nothing', async () => {
    const before = [hostDigest('sbx-1'), hostDigest('sbx-2')];
    const result = await plan(['sandbox']);
    expect(result.code, result.stderr).toBe(0);
    // Two fresh hosts have the same plan: shown once, under both names (docs: plan-glance.test.ts).
    expect(result.stdout).toContain('sbx-1, sbx-2: identical (2 hosts)');
    expect(result.stdout).toContain('+ release ');
    expect(result.stdout).toContain('+ file     /usr/local/lib/svc/api-orders/ctl');
    expect(result.stdout).toContain('+ link     /home/deploy/service/api-orders');
    expect(result.stdout).toMatch(
      /Total: \d+ to create, 0 to update, 0 to delete, \d+ to \(re\)start or reload on 2 hosts\./,
    );
    expect([hostDigest('sbx-1'), hostDigest('sbx-2')]).toEqual(before);
  });

  it('--json prints one document, and --detailed-exitcode exits 2 when there are changes', async () => {
    const result = await plan(['sandbox', '--json', '--detailed-exitcode']);
    expect(result.code).toBe(2);
    const doc = JSON.parse(result.stdout) as {
      version: number;
      hosts: {
        host: string;
        status: string;
        changes: { action: string; kind: string; target: string }[];
        problems: string[];
      }[];
    };
    expect(doc.version).toBe(1);
    expect(doc.hosts.map((host) => [host.host, host.status])).toEqual([
      ['sbx-1', 'planned'],
      ['sbx-2', 'planned'],
    ]);
    expect(doc.hosts[0]!.problems).toEqual([]);
    expect(doc.hosts[0]!.changes).toContainEqual({
      action: 'create',
      kind: 'user',
      target: 'api-orders',
      reasons: ['absent'],
      detail: 'system user, home /var/db/api-orders, no login shell',
    });
  });

  it('never shows a secret, even when it changed on the host', async () => {
    const envFile = '/etc/default/api-orders';
    const written = sbx.ssh('sbx-1', `umask 077; printf 'TOKEN=old-${SECRET}\\n' > ${envFile}`, {
      user: 'root',
    });
    expect(written.code, written.stderr).toBe(0);
    const text = await plan(['sbx-1']);
    const json = await plan(['sbx-1', '--json']);
    expect(text.stdout).toMatch(
      // svc's own lines are diffed; the secret is named, its value never shown.
      /~ file {5}\/etc\/default\/api-orders.*\n.*content changed.*\n {6}\+PORT=3000\n {6}\+NODE_ENV=production\n {6}~ TOKEN \(sensitive value changed\)\n/,
    );
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr])
      expect(output).not.toContain(SECRET);
    sbx.ssh('sbx-1', `rm -f ${envFile}`, { user: 'root' });
  });

  it('shows a diff of a file that differs on the host', async () => {
    const check = '/etc/monit/conf.d/api-orders';
    sbx.ssh(
      'sbx-2',
      `mkdir -p /etc/monit/conf.d && printf 'check process api-orders\\n' > ${check}`,
      { user: 'root' },
    );
    const result = await plan(['sbx-2']);
    expect(result.stdout).toContain(`~ file     ${check}`);
    expect(result.stdout).toContain(`-check process api-orders\n`);
    expect(result.stdout).toContain('not created by svc: deploy overwrites it only with --adopt');
    sbx.ssh('sbx-2', `rm -f ${check}`, { user: 'root' });
  });
});

describe('host keys', () => {
  const knownHosts = () => sbx.inventory.knownHostsFile;

  it('refuses a host whose key changed, naming the line, and still plans the others', async () => {
    const original = readFileSync(knownHosts(), 'utf8');
    const other = join(work, 'other-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherKey = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const address = sbx.host('sbx-2').address;
    const lines = original
      .split('\n')
      .map((line) => (line.startsWith(`${address} `) ? `${address} ${otherKey}` : line));
    writeFileSync(knownHosts(), lines.join('\n'));
    try {
      const result = await plan(['sandbox']);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        new RegExp(
          `sbx-2 \\(deploy@${address.replaceAll('.', '\\.')}:22\\): HOST KEY OF ${address.replaceAll('.', '\\.')} HAS CHANGED .*known_hosts:\\d+ has another`,
        ),
      );
      expect(result.stdout).toContain('sbx-1 (deploy@');
      expect(result.stdout).toContain('1 host(s) failed:');
    } finally {
      writeFileSync(knownHosts(), original);
    }
  });

  it('refuses an unknown host with its fingerprint; --accept-new records it', async () => {
    const original = readFileSync(knownHosts(), 'utf8');
    const address = sbx.host('sbx-1').address;
    writeFileSync(
      knownHosts(),
      original
        .split('\n')
        .filter((line) => !line.startsWith(`${address} `))
        .join('\n'),
    );
    try {
      const refused = await plan(['sbx-1']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(
        /sbx-1 \(deploy@[\d.]+:22\): host key of [\d.]+ is unknown \(ED25519 SHA256:[A-Za-z0-9+/]{43}\): check it, then run svc trust sbx-1 or pass --accept-new/,
      );
      const accepted = await plan(['sbx-1', '--accept-new']);
      expect(accepted.code, accepted.stdout).toBe(0);
      // Recorded as ssh would find it: hashed when /etc/ssh/ssh_config says HashKnownHosts
      // (Debian's default), so ask ssh-keygen -F rather than match the text.
      const found = execFileSync(
        'ssh-keygen',
        ['-F', address, '-f', join(home, '.ssh', 'known_hosts')],
        { encoding: 'utf8' },
      );
      expect(found).toMatch(/ ssh-ed25519 /);
      expect((await plan(['sbx-1'])).code).toBe(0);
    } finally {
      writeFileSync(knownHosts(), original);
      rmSync(join(home, '.ssh'), { recursive: true, force: true });
    }
  });
});

describe('sudo', () => {
  it('says so when the login user would need a password for sudo', async () => {
    const setup = [
      'useradd -m -s /bin/sh nopw',
      'mkdir -p /home/nopw/.ssh',
      'cp /root/.ssh/authorized_keys /home/nopw/.ssh/',
      'chown -R nopw: /home/nopw/.ssh',
      'chmod 700 /home/nopw/.ssh',
    ].join(' && ');
    const made = sbx.ssh('sbx-2', setup, { user: 'root' });
    expect(made.code, made.stderr).toBe(0);
    const result = await plan(['nopw@sbx-2']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'sbx-2 (nopw@' +
        sbx.host('sbx-2').address +
        ':22): sudo wants a password for nopw; svc needs passwordless sudo (NOPASSWD) or a root login',
    );
  });
});

describe('svc trust and svc deploy --dry-run', () => {
  it('trust shows the fingerprint, records it, and refuses a changed key', async () => {
    const original = readFileSync(sbx.inventory.knownHostsFile, 'utf8');
    const address = sbx.host('sbx-2').address;
    writeFileSync(
      sbx.inventory.knownHostsFile,
      original
        .split('\n')
        .filter((line) => !line.startsWith(`${address} `))
        .join('\n'),
    );
    const env = { ...sbx.env, HOME: home };
    try {
      const trusted = await runSvc(['trust', 'sbx-2'], env);
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(trusted.stdout).toMatch(
        /^sbx-2 \([\d.]+:22\): ED25519 key fingerprint is SHA256:\S{43}\n {2}recorded in .*\.ssh\/known_hosts\n$/,
      );
      expect((await runSvc(['trust', 'sbx-2'], env)).stdout).toBe(
        'sbx-2: already trusted (ED25519)\n',
      );
      const fake = join(work, 'fake-key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', fake]);
      writeFileSync(
        join(home, '.ssh', 'known_hosts'),
        `${address} ${readFileSync(`${fake}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
      );
      const refused = await runSvc(['trust', 'sbx-2'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^svc: error: HOST KEY OF [\d.]+ HAS CHANGED/);
    } finally {
      writeFileSync(sbx.inventory.knownHostsFile, original);
      rmSync(join(home, '.ssh'), { recursive: true, force: true });
    }
  });

  it('deploy --dry-run is the plan; deploy without --yes and a terminal refuses to apply', async () => {
    const dry = await runSvc(['deploy', 'sbx-1', '--dry-run', '--dir', project], {
      ...sbx.env,
      HOME: home,
    });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('+ release ');
    const real = await runSvc(['deploy', 'sbx-1', '--dir', project], { ...sbx.env, HOME: home });
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(
      /^svc: error: no terminal to confirm on: pass --yes to apply the plan shown above\n$/,
    );
  });
});

describe('timeouts name the host and the step', () => {
  it('a host that accepts TCP but never speaks SSH: connect timeout', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const keyDir = join(home, '.ssh');
    execFileSync('mkdir', ['-p', keyDir]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id_ed25519')]);
    try {
      const result = await plan([`root@127.0.0.1:${port}`, '--connect-timeout', '1']);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        `127.0.0.1 (root@127.0.0.1:${port}): timed out after 1 s: is the address right, and the host up?`,
      );
    } finally {
      silent.close();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('a step that hangs on the host: command timeout', async () => {
    // A `getent` that never returns, early on sudo's PATH inside the sandbox host only.
    const hang = sbx.ssh(
      'sbx-2',
      "printf '#!/bin/sh\\nexec sleep 60\\n' > /usr/local/bin/getent && chmod 755 /usr/local/bin/getent",
      { user: 'root' },
    );
    expect(hang.code, hang.stderr).toBe(0);
    try {
      const result = await plan(['sbx-2', '--command-timeout', '1']);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /^sbx-2 \(deploy@[\d.]+:22\): gathering facts did not finish within 1 s$/m,
      );
    } finally {
      sbx.ssh('sbx-2', 'rm -f /usr/local/bin/getent', { user: 'root' });
    }
  });
});

describe('ProxyJump', () => {
  it('reaches a host only the jump host can reach, verifying both keys', async () => {
    // A second sshd inside sbx-1 on its own loopback: reachable only from inside sbx-1.
    const inner = sbx.ssh(
      'sbx-1',
      '/usr/sbin/sshd -f /run/svc-sandbox/sshd_config -o ListenAddress=127.0.0.1:2222 -E /tmp/inner-sshd.log',
      { user: 'root' },
    );
    expect(inner.code, inner.stderr).toBe(0);
    const jump = sbx.host('sbx-1');
    const hostKey = readFileSync(sbx.inventory.knownHostsFile, 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${jump.address} `))!
      .split(' ')
      .slice(1)
      .join(' ');
    const ssh = join(home, '.ssh');
    execFileSync('mkdir', ['-p', ssh]);
    writeFileSync(join(ssh, 'known_hosts'), `[127.0.0.1]:2222 ${hostKey}\n`);
    writeFileSync(
      join(ssh, 'config'),
      [
        'Host jumpbox',
        `  HostName ${jump.address}`,
        '  User deploy',
        `  IdentityFile ${jump.keyFile}`,
        'Host inner',
        '  HostName 127.0.0.1',
        '  Port 2222',
        '  User deploy',
        `  IdentityFile ${jump.keyFile}`,
        '  ProxyJump jumpbox',
        'Host loop',
        '  ProxyJump loop',
        '',
      ].join('\n'),
    );
    try {
      const result = await plan(['inner']);
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain('inner (deploy@127.0.0.1:2222)');
      expect(result.stdout).toContain('+ release ');
      const loop = await plan(['loop']);
      expect(loop.code).toBe(1);
      expect(loop.stdout).toContain(
        'more than 8 ProxyJump hops; is there a loop in ~/.ssh/config?',
      );
    } finally {
      rmSync(ssh, { recursive: true, force: true });
    }
  });
});
