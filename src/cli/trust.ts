// `svc trust TARGET`: show each host's key fingerprint and record it in the host's first
// UserKnownHostsFile (~/.ssh/known_hosts unless ssh_config says otherwise), the explicit way to
// trust a new host. The key is asked for as ssh asks (known types first), so a host already pinned
// is "already trusted"; a key that conflicts with any recorded one is never added or replaced.
import { Command } from 'commander';
import { homedir } from 'node:os';
import { SvcError } from '../core/errors.js';
import { hostKeyMessage, keyTypeLabel, verifyHostKey } from '../core/known-hosts.js';
import { fetchHostKey } from '../remote/host-key.js';
import {
  hostKeyEntries,
  policyOf,
  recordingBlocked,
  recordLine,
} from '../remote/host-key-check.js';
import { appendKnownHost } from '../remote/known-hosts-store.js';
import { resolveHosts, timeoutMs } from '../remote/run-context.js';
import { readManifestIfPresent } from '../project/read.js';

export async function runTrust(
  target: string,
  flags: { dir?: string; connectTimeout?: string },
): Promise<void> {
  const hosts = resolveHosts(target, readManifestIfPresent(flags.dir ?? '.'));
  const timeout = timeoutMs('--connect-timeout', flags.connectTimeout, 10);
  let refused = 0;
  for (const host of hosts) {
    if (host.proxyJump)
      throw new SvcError(
        `${host.name}: svc trust does not reach hosts behind ProxyJump yet; use ssh once to record its key`,
      );
    const policy = policyOf(host);
    const entries = hostKeyEntries(host);
    const key = await fetchHostKey(host, entries, timeout);
    const alias = policy.alias !== undefined ? { alias: policy.alias } : {};
    const verdict = verifyHostKey(entries, host.address, host.port, key, alias);
    const file = policy.userFiles[0];
    const blocked = verdict.kind === 'unknown' ? recordingBlocked(host) : undefined;
    const label = keyTypeLabel(verdict.kind === 'known' ? verdict.entry.keyType : verdict.keyType);
    if (verdict.kind === 'known') {
      process.stdout.write(`${host.name}: already trusted (${label})\n`);
    } else if (blocked !== undefined) {
      refused++;
      process.stderr.write(`svc: error: ${blocked}\n`);
    } else if (verdict.kind === 'unknown' && file !== undefined) {
      appendKnownHost(file, recordLine(host, key));
      process.stdout.write(
        `${host.name} (${host.address}:${host.port}): ${label} key fingerprint is ${verdict.fingerprint}\n  recorded in ${file}\n`,
      );
    } else {
      refused++;
      process.stderr.write(
        `svc: error: ${file === undefined ? `${host.name}: UserKnownHostsFile is none: nowhere to record the key` : hostKeyMessage(verdict, policy.alias ?? host.address, policy.alias ? 22 : host.port, { target, home: homedir() })}\n`,
      );
    }
  }
  if (refused > 0) process.exitCode = 1;
}

export function trustCommand(): Command {
  return new Command('trust')
    .description("show a host's key fingerprint and record it in ~/.ssh/known_hosts")
    .argument('<target>', 'hosts to trust, as for svc plan')
    .option('--connect-timeout <seconds>', 'give up connecting after this long (default 10)')
    .option('--dir <dir>', 'the project directory, for svc.yaml hosts: (default: .)')
    .addHelpText(
      'after',
      '\nCheck the fingerprint against one you got another way (the console of the host) before relying on it.\nA changed key is never replaced: remove the old line yourself if the change is expected.',
    )
    .action((target: string, flags: { dir?: string; connectTimeout?: string }) =>
      runTrust(target, flags),
    );
}
