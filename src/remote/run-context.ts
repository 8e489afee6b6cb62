// What a command that talks to hosts needs before it connects: the project, the playbook, the
// hosts a TARGET names, and SSH options (known hosts, agent, passphrase prompt, jump hosts).
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SvcError } from '../core/errors.js';
import { readOptionalProjectFile } from '../project/read.js';
import type { Manifest } from '../core/manifest.js';
import { parsePlaybook, type Step } from '../core/playbook.js';
import {
  parseSandboxInventory,
  SANDBOX_INVENTORY_FILE,
  sandboxStateDir,
  type SandboxInventory,
} from '../core/sandbox-inventory.js';
import { jumpHopTarget } from '../core/proxy-jump.js';
import { resolveTarget, type HostSpec, type TargetContext } from '../core/targets.js';
import { openStateDir } from '../sandbox/state.js';
import { loadSshConfig, tcpServicePort } from './ssh-config.js';
import type { SshOptions } from './ssh.js';

type Env = Readonly<Record<string, string | undefined>>;

export const BUNDLED_PLAYBOOKS = fileURLToPath(new URL('../../playbooks/', import.meta.url));

/**
 * The sandbox's hosts, when `svc sandbox up` has made some. The state directory is trusted only as
 * `up` and `down` trust it (the caller's own, closed to others, no links in it), and the key and
 * known_hosts file are always the directory's own: a planted inventory.json must not point svc at
 * a key or a known_hosts file someone else wrote (that would "verify" a host it never saw).
 */
export function loadSandboxInventory(env: Env = process.env): SandboxInventory | undefined {
  if (!existsSync(join(sandboxStateDir(env), SANDBOX_INVENTORY_FILE))) return undefined;
  const paths = openStateDir(sandboxStateDir(env), false, true);
  if (paths === undefined) return undefined;
  let inventory: SandboxInventory;
  try {
    inventory = parseSandboxInventory(readFileSync(paths.inventory, 'utf8'), paths.inventory);
  } catch (error) {
    throw new SvcError((error as Error).message);
  }
  return {
    ...inventory,
    knownHostsFile: paths.knownHosts,
    hosts: inventory.hosts.map((host) => ({ ...host, keyFile: paths.key })),
  };
}

/**
 * SVC_SSH_CONFIG is ssh's -F: that file only, without /etc/ssh/ssh_config; `none` is no file at
 * all; a missing file is refused, as ssh -F refuses it.
 */
function sshConfigFile(env: Env): { file?: string } {
  const file = env.SVC_SSH_CONFIG;
  if (file === undefined || file === '') return {};
  if (file.toLowerCase() === 'none') return { file: '/dev/null' };
  if (!existsSync(file))
    throw new SvcError(`SVC_SSH_CONFIG: ${file}: no such file (ssh -F refuses it too)`);
  return { file };
}

export function targetContext(
  manifest: Manifest | undefined,
  env: Env = process.env,
): TargetContext {
  return {
    inventory: manifest?.hosts,
    sandbox: loadSandboxInventory(env),
    sshConfig: loadSshConfig(sshConfigFile(env)),
    defaultUser: userInfo().username,
  };
}

export function resolveHosts(
  target: string,
  manifest: Manifest | undefined,
  env: Env = process.env,
): HostSpec[] {
  return resolveTarget(target, targetContext(manifest, env));
}

/** The project's own playbooks/NAME.yaml if it has one, else svc's. */
export function loadPlaybook(
  projectDir: string,
  name: string,
): { steps: Step[]; file: string; own: boolean } {
  // The project's own playbook, read like any file of a project you were handed: a regular file
  // or an error (a FIFO there would hang svc, a link could point anywhere).
  const ownShown = `playbooks/${name}.yaml`;
  const own = readOptionalProjectFile(join(projectDir, 'playbooks', `${name}.yaml`), ownShown);
  if (own !== undefined)
    return { steps: parsePlaybook(own.toString('utf8'), ownShown), file: ownShown, own: true };
  const shown = `${name}.yaml (svc's)`;
  const bundled = readFileSync(join(BUNDLED_PLAYBOOKS, `${name}.yaml`), 'utf8');
  return { steps: parsePlaybook(bundled, shown), file: shown, own: false };
}

export interface ConnectFlags {
  acceptNew?: boolean;
  connectTimeout?: string;
  commandTimeout?: string;
}

/** --parallel: how many hosts at once. */
export function parallelism(value: string | undefined): number {
  if (value === undefined) return 10;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 200) {
    throw new SvcError(
      `--parallel: must be a whole number from 1 to 200 (got ${JSON.stringify(value)})`,
    );
  }
  return Number(value);
}

/** A timeout flag in seconds -> milliseconds. */
export function timeoutMs(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 3600) {
    throw new SvcError(
      `${flag}: must be a number of seconds between 0 and 3600 (got ${JSON.stringify(value)})`,
    );
  }
  return parsed * 1000;
}

export function sshOptions(
  flags: ConnectFlags,
  ctx: TargetContext,
  askPassphrase: ((file: string) => Promise<string>) | undefined,
  env: Env = process.env,
): SshOptions {
  return {
    ...(flags.acceptNew && { acceptNew: true }),
    connectTimeoutMs: timeoutMs('--connect-timeout', flags.connectTimeout, 10),
    commandTimeoutMs: timeoutMs('--command-timeout', flags.commandTimeout, 120),
    ...(env.SSH_AUTH_SOCK && { agentSocket: env.SSH_AUTH_SOCK }),
    ...(askPassphrase && { askPassphrase }),
    resolveJump: (hop) => {
      // A hop may be an ssh:// URI, as in ssh; the target parser reads [user@]host[:port].
      const target = jumpHopTarget(hop, 'ProxyJump', tcpServicePort);
      const [host] = resolveTarget(target, { ...ctx, inventory: undefined });
      return host!;
    },
  };
}
