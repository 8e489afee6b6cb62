// Playbook + manifest + one host's variables -> that host's operations. Pure: the project's
// files arrive as data, and string values are rendered with the fixed EJS options.
import { SvcError } from './errors.js';
import { helperScripts } from './helper-scripts.js';
import { hostLayout, servicePidFile } from './layout.js';
import { hasFront, processPort, type Manifest } from './manifest.js';
import { listensOn } from './nginx-front.js';
import type { FileOperation, Operation } from './operations.js';
import type { Step } from './playbook.js';
import type { LocalFile } from './release.js';
import { installedMode, sha256Hex } from './release.js';
import { manifestTemplateValues, renderText, templateDataOf } from './template.js';
import { envFileLines, renderEnvFile, type EnvironmentInput } from './env-file.js';
import { DEFAULT_DRAIN_SECONDS, isSwitch, slotsOf } from './cutover.js';
import { slotUnitFiles } from './cutover-slots.js';
import { switchInputs } from './cutover-warm.js';

export interface ExpandInput {
  manifest: Manifest;
  host: { name: string; login: string; vars: Readonly<Record<string, string | number | boolean>> };
  config: readonly LocalFile[];
  release: {
    id: string;
    files: number;
    bytes: number;
    local?: readonly LocalFile[];
    /** A rollback's: a release already on the host (operations.ts ReleaseOperation.pinned). */
    pinned?: boolean;
  };
  playbookFile: string;
  /** The playbook is the project's own (playbooks/NAME.yaml): its dir and link steps are gated. */
  projectPlaybook?: boolean;
  /** The environment the host is deployed as; absent: `default`, svc.yaml's env: and no secrets. */
  environment?: EnvironmentInput;
}

/** Overlay files that a change to does not restart the service (monit, logrotate and nginx read them). */
const NOT_A_SERVICE_INPUT = [/^\/etc\/monit\//, /^\/etc\/logrotate\.d\//, /^\/etc\/nginx\//];

function environmentOf(input: ExpandInput): EnvironmentInput {
  return input.environment ?? { name: 'default', env: input.manifest.env, secrets: [] };
}

// Templates see the environment's values, never its secrets: a config/*.ejs may render to a
// world-readable file, and the env file is the one place a secret goes.
function templateValues(input: ExpandInput): Record<string, unknown> {
  const { manifest, host, release } = input;
  const environment = environmentOf(input);
  return {
    ...manifestTemplateValues(manifest),
    env: Object.entries(environment.env),
    environment: environment.name,
    login: host.login,
    host: host.name,
    vars: { ...host.vars },
    release: release.id,
  };
}

function checkPath(path: string, where: string): string {
  const ok = (path.startsWith('/') || path.startsWith('~/')) && !/[\0\n\r]/.test(path);
  if (!ok || path.split('/').some((part) => part === '..' || part === '.')) {
    throw new SvcError(
      `${where}: must be an absolute path (or ~/...) without . or .. (got ${JSON.stringify(path)})`,
    );
  }
  // One spelling per path: `/etc//sudoers.d` is /etc/sudoers.d to the host and to the gate.
  const single = path.replace(/\/{2,}/g, '/');
  return single.length > 1 ? single.replace(/\/+$/, '') : single;
}

function parseMode(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseInt(text, 8);
}

function overlayOperations(input: ExpandInput, data: object): Operation[] {
  const files: FileOperation[] = input.config.map((file) => {
    const templated = file.path.endsWith('.ejs');
    const path = `/${templated ? file.path.slice(0, -'.ejs'.length) : file.path}`;
    const meta = input.manifest.files[path];
    const content = templated
      ? new TextEncoder().encode(
          renderText(new TextDecoder().decode(file.content), data, false, `config/${file.path}`),
        )
      : file.content;
    return {
      kind: 'file',
      path,
      source: `config/${file.path}`,
      content,
      sha256: templated ? sha256Hex(content) : file.sha256,
      // svc.yaml's mode, else 0644 or 0755: never what a checkout or unzip left (0666, setuid).
      mode: parseMode(meta?.mode, installedMode(file.mode)),
      owner: meta?.owner ?? 'root',
      group: meta?.group ?? meta?.owner ?? 'root',
      secret: meta?.secret ?? false,
    };
  });
  files.push(...envFileOperation(input, files));
  const parents = [
    ...new Set(files.map((file) => file.path.slice(0, file.path.lastIndexOf('/')) || '/')),
  ];
  return [
    ...parents
      .filter((dir) => dir !== '/')
      .map((path): Operation => ({
        kind: 'dir',
        path,
        mode: 0o755,
        owner: 'root',
        group: 'root',
        ensureOnly: true,
      })),
    ...files,
  ];
}

/**
 * A config/ env file of its own (`source`, e.g. config/etc/default/NAME) cannot carry what svc
 * resolves per environment: with secrets: or the group's env: set, it is refused in one line.
 */
export function checkOwnEnvFile(manifest: Manifest, source: string, environment: string): void {
  const group = manifest.hosts?.[environment]?.env;
  const asks =
    (manifest.secrets ?? []).length > 0
      ? 'secrets:'
      : group !== undefined
        ? `hosts.${environment}.env:`
        : undefined;
  if (asks !== undefined)
    throw new SvcError(
      `${source}: svc writes ${hostLayout(manifest.name).envFile} itself from svc.yaml env:, the group's env: and secrets: (${asks} is set); move its values to svc.yaml and delete it`,
    );
}

/**
 * The env file svc renders for a service that runs a process, unless config/ ships its own (a
 * project from before `secrets:`, which keeps working as long as it asks for nothing svc would
 * have to put in that file).
 */
function envFileOperation(input: ExpandInput, config: readonly FileOperation[]): FileOperation[] {
  const { manifest } = input;
  if (manifest.init === undefined) return [];
  const path = hostLayout(manifest.name).envFile;
  const own = config.find((file) => file.path === path);
  const environment = environmentOf(input);
  if (own !== undefined) {
    checkOwnEnvFile(manifest, own.source, environment.name);
    return [];
  }
  const content = new TextEncoder().encode(renderEnvFile(manifest, environment));
  return [
    {
      kind: 'file',
      path,
      source: `svc (env file: ${environment.name})`,
      content,
      sha256: sha256Hex(content),
      mode: 0o600,
      owner: 'root',
      group: 'root',
      secret: true,
      envLines: envFileLines(manifest, environment),
    },
  ];
}

/**
 * A static site is served by nginx, and a node www- site has it in front: reload it (after
 * `nginx -t`) when any of its nginx files changes. New content needs no reload: `current` moves
 * under nginx's root, and the process behind it restarts on its own port. The site (what the
 * deploy checks visitors reach, nginx-front.ts) is the file with a server listening on `port`,
 * one under sites-enabled/ first; else the first under sites-enabled/: never a conf.d/ snippet
 * (a rate limit zone, say) that only sorts first.
 */
function nginxOperation(operations: readonly Operation[], port: number | undefined): Operation[] {
  const files = operations.filter(
    (op): op is FileOperation => op.kind === 'file' && op.path.startsWith('/etc/nginx/'),
  );
  if (files.length === 0) return [];
  const enabled = files.filter((op) => op.path.startsWith('/etc/nginx/sites-enabled/'));
  const serves = (op: FileOperation) =>
    port !== undefined && listensOn(new TextDecoder().decode(op.content), port).length > 0;
  const site = enabled.find(serves) ?? files.find(serves) ?? enabled[0] ?? files[0]!;
  return [{ kind: 'nginx', site: site.path, dependsOn: files.map((op) => op.path) }];
}

/** cutover: switch: the nginx site file that serves the public port (cutover-migrate.ts). */
function frontSite(operations: readonly Operation[], port: number): { site?: string } {
  const [nginx] = nginxOperation(operations, port);
  return nginx?.kind === 'nginx' ? { site: nginx.site } : {};
}

/** ~/script/NAME and its scripts, owned by the login user who runs them. */
function helperScriptOperations(input: ExpandInput): Operation[] {
  const login = input.host.login;
  const dir = `~/script/${input.manifest.name}`;
  const encoder = new TextEncoder();
  const own = { owner: login, group: login };
  return [
    { kind: 'dir', path: '~/script', mode: 0o755, ...own },
    { kind: 'dir', path: dir, mode: 0o755, ...own },
    ...Object.entries(helperScripts(input.manifest, login)).map(([name, text]): Operation => {
      const content = encoder.encode(text);
      return {
        kind: 'file',
        path: `${dir}/${name}`,
        source: `svc (${name} script)`,
        content,
        sha256: sha256Hex(content),
        mode: 0o755,
        ...own,
        secret: false,
      };
    }),
  ];
}

/** Whether config/ ships every file the slots need (cutover-slots.ts), and which it lacks. */
function slotFilesShipped(
  manifest: Manifest,
  operations: readonly Operation[],
): { templateUnit: boolean; missingUnitFiles?: string[] } {
  const missing = slotUnitFiles(manifest).filter(
    (path) => !operations.some((op) => op.kind === 'file' && op.path === path),
  );
  return missing.length === 0
    ? { templateUnit: true }
    : { templateUnit: false, missingUnitFiles: missing };
}

export function expandPlaybook(steps: readonly Step[], input: ExpandInput): Operation[] {
  const { manifest } = input;
  const layout = hostLayout(manifest.name);
  const data = templateDataOf(templateValues(input));
  const render = (value: string, where: string) => renderText(value, data, false, where);
  const operations: Operation[] = [];
  steps.forEach((step, index) => {
    const where = `${input.playbookFile}: ${index + 1}.${step.kind}`;
    const gated = input.projectPlaybook ? { step: where } : {};
    switch (step.kind) {
      case 'user':
        operations.push({
          kind: 'user',
          name: render(step.args.name, where),
          home: checkPath(render(step.args.home, where), `${where}.home`),
        });
        break;
      case 'dir': {
        const owner = step.args.owner === undefined ? 'root' : render(step.args.owner, where);
        const group = step.args.group === undefined ? owner : render(step.args.group, where);
        operations.push({
          kind: 'dir',
          path: checkPath(render(step.args.path, where), `${where}.path`),
          mode: parseMode(step.args.mode, 0o755),
          owner,
          group,
          ...gated,
        });
        break;
      }
      case 'link':
        operations.push({
          kind: 'link',
          path: checkPath(render(step.args.path, where), `${where}.path`),
          target: render(step.args.target, where),
          ...gated,
        });
        break;
      case 'release':
        operations.push({
          kind: 'release',
          path: `${layout.releases}/${input.release.id}`,
          id: input.release.id,
          files: input.release.files,
          bytes: input.release.bytes,
          keep: step.args.keep,
          ...(manifest.install && { install: [...manifest.install] }),
          ...(input.release.local && { local: input.release.local }),
          ...(input.release.pinned === true && { pinned: true as const }),
        });
        break;
      case 'overlay':
        operations.push(...overlayOperations(input, data));
        break;
      case 'service':
        if (manifest.init !== undefined) {
          const inputs = operations.filter(
            (op) =>
              (op.kind === 'file' && !NOT_A_SERVICE_INPUT.some((re) => re.test(op.path))) ||
              op.kind === 'release' ||
              // `current` moving (a rollback to a release already on the host) changes the code.
              (op.kind === 'link' && op.path === layout.current),
          );
          operations.push({
            kind: 'service',
            name: manifest.name,
            init: manifest.init,
            dependsOn: inputs.map((op) => (op as { path: string }).path),
            ...(isSwitch(manifest) &&
              manifest.port !== undefined && {
                cutover: {
                  slots: slotsOf(manifest),
                  port: manifest.port,
                  drainSeconds: manifest.drainTimeout ?? DEFAULT_DRAIN_SECONDS,
                  release: input.release.id,
                  ...slotFilesShipped(manifest, operations),
                  ...(manifest.keepWarm === true && { keepWarm: true }),
                  ...frontSite(operations, manifest.port),
                  inputs: switchInputs(manifest, operations),
                },
              }),
          });
          if (hasFront(manifest)) operations.push(...nginxOperation(operations, manifest.port));
        } else {
          operations.push(...nginxOperation(operations, manifest.port));
        }
        break;
      case 'scripts':
        if (manifest.init !== undefined) operations.push(...helperScriptOperations(input));
        break;
      case 'monit':
        if (manifest.monit)
          operations.push({
            kind: 'monit',
            name: manifest.name,
            check: `/etc/monit/conf.d/${manifest.name}`,
          });
        break;
      case 'health':
        operations.push(
          // A site behind nginx is gated on its process's own port: the deploy's question is
          // whether the new process answers, which nginx (up all along) cannot tell.
          manifest.port !== undefined
            ? {
                kind: 'health',
                url: `http://127.0.0.1:${processPort(manifest)}${manifest.health ?? '/'}`,
                timeoutSeconds: step.args.timeout,
              }
            : {
                kind: 'health',
                pidfile: servicePidFile(manifest.name, manifest.init),
                timeoutSeconds: step.args.timeout,
              },
        );
        break;
    }
  });
  return operations;
}
