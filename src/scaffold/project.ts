// From answers to the files of a new project: the manifest, then the list of templates to render
// and where each lands. Pure: no templates are read here, so tests can inspect the choice directly.
import { hostLayout } from '../core/layout.js';
import {
  MANIFEST_SCHEMA_VERSION,
  validateManifest,
  formatProblems,
  type Manifest,
} from '../core/manifest.js';
import { SvcError } from '../core/errors.js';
import { appPortFor, hasFront, kindOf } from '../core/manifest.js';
import { splitSecrets, type Answers } from './answers.js';
import { DEFAULT_ENVIRONMENT } from '../core/environment-name.js';
import { secretsFilePath } from '../core/secrets.js';
import { isSwitch, slotTemplateUnit, type Cutover } from '../core/cutover.js';
import { slotUnitFiles, upstartSlotsTask } from '../core/cutover-slots.js';

/** Choices made only by flags, never asked: `--alert EMAIL`, `--secret KEY=VALUE`. */
export interface ExtraChoices {
  alert?: string;
  /** --cutover: switch puts nginx in front of two slots (core/cutover.ts). */
  cutover?: Cutover;
  secrets?: Record<string, string>;
}

/** Where `svc new` puts secret values: the local secrets file of the default environment. */
export const NEW_SECRETS_FILE = secretsFilePath(DEFAULT_ENVIRONMENT);

/** The secrets `svc new` writes to NEW_SECRETS_FILE: secret-looking --env keys and --secret. */
export function secretValuesOf(answers: Answers, extra: ExtraChoices = {}): Record<string, string> {
  return splitSecrets(answers.env, extra.secrets).secrets;
}

/**
 * The cutover of a new project when --cutover is not given: switch for a process that answers
 * HTTP on a port (api-, node www-), which every init system svc supports runs in slots
 * (core/cutover-slots.ts); a worker or a static site has nothing to switch (svc.yaml says nothing,
 * which is restart).
 */
export function defaultCutover(
  answers: Pick<Answers, 'kind' | 'runtime' | 'port' | 'init'>,
): Cutover | undefined {
  return answers.kind !== 'service' &&
    answers.runtime === 'node' &&
    answers.port !== undefined &&
    answers.init !== undefined
    ? 'switch'
    : undefined;
}

export function manifestFromAnswers(
  answers: Answers,
  svcVersion: string,
  extra: ExtraChoices = {},
): Manifest {
  const runsProcess = answers.runtime === 'node';
  // Values go to svc.yaml env:, secrets only by name: their values stay in .svc/secrets/default.
  const { env, secrets } = splitSecrets(answers.env, extra.secrets);
  const cutover = extra.cutover ?? defaultCutover(answers);
  const data: Record<string, unknown> = {
    schema: MANIFEST_SCHEMA_VERSION,
    name: answers.name,
    description: answers.description,
    ...(answers.port !== undefined && { port: answers.port }),
    // A node www- site sits behind nginx: nginx on `port`, the process on appPort, loopback only.
    ...(cutover !== undefined && { cutover }),
    // Under cutover: switch the process listens on its slots' ports instead (core/cutover.ts).
    ...(answers.kind === 'www' &&
      runsProcess &&
      cutover !== 'switch' &&
      answers.port !== undefined && { appPort: appPortFor(answers.port) }),
    ...(answers.health !== undefined && { health: answers.health }),
    runtime: answers.runtime,
    ...(runsProcess && { init: answers.init }),
    monit: answers.monit,
    ...(extra.alert !== undefined && { alert: extra.alert }),
    user: answers.user,
    ...(runsProcess && {
      command: ['/usr/bin/node', answers.kind === 'service' ? 'worker.js' : 'server.js'],
    }),
    stopTimeout: 30,
    env,
    ...(Object.keys(secrets).length > 0 && { secrets: Object.keys(secrets) }),
    files: {},
    generator: { svc: svcVersion },
  };
  const result = validateManifest(data);
  if (!result.ok) throw new SvcError(formatProblems('answers', result.problems).join('; '));
  return result.manifest;
}

export interface ProjectFile {
  /** Path inside the new project, '/'-separated. */
  path: string;
  /** Template under scaffolds/, or undefined for files svc writes itself (svc.yaml). */
  template?: string;
  mode: number;
}

/** Every file of the new project, in a stable order. */
export function projectFiles(manifest: Manifest): ProjectFile[] {
  const name = manifest.name;
  const kind = kindOf(manifest);
  const config = (hostPath: string) => `config${hostPath}`;
  const files: ProjectFile[] = [
    { path: 'svc.yaml', mode: 0o644 },
    { path: 'package.json', template: 'project/package.json.ejs', mode: 0o644 },
    { path: 'README.md', template: 'project/README.md.ejs', mode: 0o644 },
    { path: '.gitignore', template: 'project/gitignore.ejs', mode: 0o644 },
  ];
  if (manifest.runtime === 'static') {
    files.push(
      { path: 'public/index.html', template: 'app/static/index.html.ejs', mode: 0o644 },
      {
        path: config(`/etc/nginx/sites-enabled/${name}.conf`),
        template: 'config/nginx-site.conf.ejs',
        mode: 0o644,
      },
    );
  } else {
    const app = kind === 'service' ? 'worker.js' : 'server.js';
    files.push({ path: app, template: `app/node/${app}.ejs`, mode: 0o644 });
    // No config/etc/default/NAME: svc renders the env file at deploy time (core/env-file.ts).
    files.push(...unitFiles(manifest));
    if (hasFront(manifest)) {
      files.push({
        path: config(`/etc/nginx/sites-enabled/${name}.conf`),
        template: 'config/nginx-front.conf.ejs',
        mode: 0o644,
      });
    }
  }
  if ((manifest.secrets ?? []).length > 0) files.push({ path: NEW_SECRETS_FILE, mode: 0o600 });
  if (manifest.monit) {
    files.push({
      path: config(`/etc/monit/conf.d/${name}`),
      // cutover: switch: a check per slot (core/cutover-slots.ts).
      template: isSwitch(manifest) ? 'config/monit-slots.ejs' : 'config/monit.ejs',
      mode: 0o644,
    });
  }
  // A static site's logs are nginx's, in /var/log/nginx, which the nginx package rotates: a
  // second logrotate entry for them would be refused as a duplicate.
  if (manifest.runtime !== 'static') {
    files.push({
      path: config(`/etc/logrotate.d/${name}`),
      template: 'config/logrotate.ejs',
      mode: 0o644,
    });
  }
  return files;
}

function unitFiles(manifest: Manifest): ProjectFile[] {
  return isSwitch(manifest) ? slotFiles(manifest) : restartUnitFiles(manifest);
}

/**
 * cutover: switch: the files that make the slots under each init system (core/cutover-slots.ts
 * names them), and the slot launcher monit's checks call when monit watches.
 */
function slotFiles(manifest: Manifest): ProjectFile[] {
  const name = manifest.name;
  const template: Record<string, string> = {
    [slotTemplateUnit(name)]: 'config/systemd-slot.service.ejs',
    [`/etc/init.d/${name}`]: 'config/openrc-slot.ejs',
    [`/etc/init/${name}.conf`]: 'config/upstart-slot.conf.ejs',
    [upstartSlotsTask(name)]: 'config/upstart-slots.conf.ejs',
    [hostLayout(name).launcher]: 'config/launcher-slots.sh.ejs',
  };
  const executable = new Set([`/etc/init.d/${name}`, hostLayout(name).launcher]);
  return slotUnitFiles(manifest).map((path) => ({
    path: `config${path}`,
    template: template[path]!,
    mode: executable.has(path) ? 0o755 : 0o644,
  }));
}

function restartUnitFiles(manifest: Manifest): ProjectFile[] {
  const name = manifest.name;
  switch (manifest.init) {
    case 'systemd':
      return [
        {
          path: `config/etc/systemd/system/${name}.service`,
          template: 'config/systemd.service.ejs',
          mode: 0o644,
        },
      ];
    case 'openrc':
      return [{ path: `config/etc/init.d/${name}`, template: 'config/openrc.ejs', mode: 0o755 }];
    case 'upstart':
      return [
        { path: `config/etc/init/${name}.conf`, template: 'config/upstart.conf.ejs', mode: 0o644 },
      ];
    case 'monit':
      return [
        {
          path: `config${hostLayout(name).launcher}`,
          template: 'config/launcher.sh.ejs',
          mode: 0o755,
        },
      ];
    case undefined:
      return [];
  }
}
