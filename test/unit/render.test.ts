import { renderEnvFile } from '../../src/core/env-file.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { manifestFromAnswers, projectFiles } from '../../src/scaffold/project.js';
import {
  renderProject,
  renderSource,
  SCAFFOLDS_DIR,
  templateData,
} from '../../src/scaffold/render.js';
import type { Answers } from '../../src/scaffold/answers.js';
import { LOG_WRAPPER_SCRIPT, withLog } from '../../src/scaffold/log-wrapper.js';
import { shellCommand, shellQuote, systemdCommand } from '../../src/core/quote.js';

/**
 * A new project's manifest. `cutover: restart` unless asked: these tests are about each init
 * system's own unit (new api- and node www- projects default to switch: 'the default cutover'
 * below, and cutover-validators for the slot files).
 */
function manifest(
  overrides: Partial<Answers> & Pick<Answers, 'name' | 'kind'>,
  cutover: 'restart' | 'switch' | 'default' = 'restart',
): Manifest {
  const base: Answers = {
    name: overrides.name,
    kind: overrides.kind,
    description: 'A service',
    runtime: 'node',
    port: overrides.kind === 'service' ? undefined : 3000,
    health: overrides.kind === 'service' ? undefined : '/ok',
    init: 'systemd',
    monit: true,
    user: overrides.name,
    env: {},
  };
  return manifestFromAnswers(
    { ...base, ...overrides },
    '0.0.0-test',
    cutover === 'default' ? {} : { cutover },
  );
}

const paths = (m: Manifest) =>
  projectFiles(m).map((file) => `${file.mode.toString(8)} ${file.path}`);

describe('the default cutover', () => {
  it.each([
    ['api-orders', 'api', {}, 'switch'],
    ['www-shop', 'www', {}, 'switch'],
    ['api-orders', 'api', { init: 'openrc' }, 'switch'],
    ['api-orders', 'api', { init: 'monit' }, 'switch'],
    ['service-mailer', 'service', {}, undefined],
    ['www-site', 'www', { runtime: 'static', init: undefined }, undefined],
  ] as const)('%s %j: %s', (name, kind, overrides, expected) => {
    const m = manifest({ name, kind, ...overrides }, 'default');
    expect(m.cutover).toBe(expected);
    // No appPort beside switch: the process listens on its slots' ports.
    if (expected === 'switch') expect(m.appPort).toBeUndefined();
  });

  it('gives a new api- project the slot files of its init system', () => {
    expect(paths(manifest({ name: 'api-orders', kind: 'api' }, 'default'))).toEqual([
      '644 svc.yaml',
      '644 package.json',
      '644 README.md',
      '644 .gitignore',
      '644 server.js',
      '644 config/etc/systemd/system/api-orders@.service',
      '755 config/usr/local/lib/svc/api-orders/ctl',
      '644 config/etc/nginx/sites-enabled/api-orders.conf',
      '644 config/etc/monit/conf.d/api-orders',
      '644 config/etc/logrotate.d/api-orders',
    ]);
  });
});

describe('projectFiles', () => {
  it('gives an api- project a server, its unit, monit and logrotate (svc renders the env file)', () => {
    expect(paths(manifest({ name: 'api-orders', kind: 'api' }))).toEqual([
      '644 svc.yaml',
      '644 package.json',
      '644 README.md',
      '644 .gitignore',
      '644 server.js',
      '644 config/etc/systemd/system/api-orders.service',
      '644 config/etc/monit/conf.d/api-orders',
      '644 config/etc/logrotate.d/api-orders',
    ]);
  });

  it.each([
    ['openrc', '755 config/etc/init.d/api-orders'],
    ['upstart', '644 config/etc/init/api-orders.conf'],
    ['monit', '755 config/usr/local/lib/svc/api-orders/ctl'],
  ] as const)('writes the %s unit', (init, expected) => {
    const files = paths(manifest({ name: 'api-orders', kind: 'api', init }));
    expect(files).toContain(expected);
    expect(files.filter((file) => file.includes('systemd'))).toEqual([]);
  });

  it('gives a static www- site public/ and an nginx site, and no unit', () => {
    const files = paths(
      manifest({ name: 'www-shop', kind: 'www', runtime: 'static', init: undefined, port: 8080 }),
    );
    expect(files).toContain('644 public/index.html');
    expect(files).toContain('644 config/etc/nginx/sites-enabled/www-shop.conf');
    expect(files.some((file) => file.includes('systemd') || file.includes('default'))).toBe(false);
    // Its logs are nginx's, in /var/log/nginx, rotated by the nginx package's own logrotate.
    expect(files.some((file) => file.includes('logrotate'))).toBe(false);
  });

  it('gives a node www- site nginx in front: svc.yaml appPort, the site, loopback-only server', () => {
    const m = manifest({ name: 'www-shop', kind: 'www', port: 8080 });
    expect(m.appPort).toBe(18080);
    expect(paths(m)).toContain('644 config/etc/nginx/sites-enabled/www-shop.conf');
    const rendered = renderProject(m, projectFiles(m));
    const content = (end: string) => rendered.find((file) => file.path.endsWith(end))!.content;
    expect(content('server.js')).toContain("const host = process.env.HOST ?? '127.0.0.1';");
    // The project's own env cannot expose the process: svc's HOST and PORT come last (the last
    // assignment wins for sh and for systemd's EnvironmentFile=).
    const env = renderEnvFile(m, {
      name: 'default',
      env: { HOST: '0.0.0.0', GREETING: 'hi' },
      secrets: [],
    });
    expect(env.trimEnd().split('\n').slice(-3)).toEqual([
      'GREETING=hi',
      'HOST=127.0.0.1',
      'PORT=18080',
    ]);
    expect(content('monit/conf.d/www-shop')).toContain('host 127.0.0.1 port 18080 protocol http');
    const site = content('.conf');
    expect(site).toMatch(/upstream svc_www_shop_app \{\n\s+server 127\.0\.0\.1:18080;/);
    expect(site).toContain('proxy_pass http://svc_www_shop_app;');
    // The outermost hop: a client's own X-Forwarded-For is replaced, not appended to.
    expect(site).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(site).not.toContain('$proxy_add_x_forwarded_for');
    // nginx closes an idle upstream connection before the server does (keepAliveTimeout 65 s).
    expect(site).toContain('keepalive_timeout 60s;');
    expect(content('server.js')).toContain('server.keepAliveTimeout = 65_000;');
    // An api- server still listens on every address: no front of its own.
    const api = manifest({ name: 'api-orders', kind: 'api' });
    expect(api.appPort).toBeUndefined();
    expect(paths(api).some((file) => file.includes('nginx'))).toBe(false);
  });

  it('gives a service- worker worker.js and leaves monit out when asked', () => {
    const files = paths(manifest({ name: 'service-mailer', kind: 'service', monit: false }));
    expect(files).toContain('644 worker.js');
    expect(files.some((file) => file.includes('monit'))).toBe(false);
  });
});

describe('templateData', () => {
  it('is a frozen, null-prototype object of allow-listed keys', () => {
    const data = templateData(manifest({ name: 'api-orders', kind: 'api' })) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(data)).toBeNull();
    expect(Object.isFrozen(data)).toBe(true);
    expect(Object.keys(data).sort()).toEqual(
      [
        'alert',
        'appPort',
        'command',
        'configFiles',
        'cutover',
        'description',
        'env',
        'group',
        'health',
        'init',
        'kind',
        'monit',
        'name',
        'paths',
        'port',
        'q',
        'runtime',
        'slotPorts',
        'stopTimeout',
        'upstreamFile',
        'user',
        'withLog',
      ].sort(),
    );
  });
});

describe('renderSource', () => {
  const data = templateData(
    manifest({ name: 'api-orders', kind: 'api', description: '<b>"x" & $(reboot)</b>' }),
  );

  it('refuses <%= outside HTML: shell, unit and monit files need their own quoting', () => {
    expect(() => renderSource('X=<%= it.description %>', data, false, 'x.sh.ejs')).toThrow(
      'escapes HTML only',
    );
  });

  it('HTML-escapes <%= in HTML templates', () => {
    expect(renderSource('<p><%= it.description %></p>', data, true, 'x.html.ejs')).toBe(
      '<p>&lt;b&gt;&#34;x&#34; &amp; $(reboot)&lt;/b&gt;</p>',
    );
  });

  it('refuses includes', () => {
    expect(() => renderSource("<%- include('/etc/passwd') %>", data, false, 'x.ejs')).toThrow();
  });

  it('gives templates no way to reach the global object through the data', () => {
    expect(renderSource('<%- typeof it.constructor %>', data, false, 'x.ejs')).toBe('undefined');
  });
});

describe('scaffolds/', () => {
  const templates = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? templates(join(dir, entry.name)) : [join(dir, entry.name)],
    );

  it('uses <%= only in HTML templates', () => {
    const offenders = templates(SCAFFOLDS_DIR).filter(
      (file) => !file.endsWith('.html.ejs') && readFileSync(file, 'utf8').includes('<%='),
    );
    expect(offenders).toEqual([]);
  });

  it('renders every kind without error, with the description quoted per format', () => {
    const hostile = `it's "q" $(reboot) \`id\` 100%`;
    const rendered = renderProject(
      manifest({ name: 'api-orders', kind: 'api', description: hostile }),
      projectFiles(manifest({ name: 'api-orders', kind: 'api', description: hostile })),
    );
    const unit = rendered.find((file) => file.path.endsWith('.service'))!.content;
    expect(unit).toContain(`Description=it's "q" $(reboot) \`id\` 100%%\n`);
    const pkg = JSON.parse(rendered.find((file) => file.path === 'package.json')!.content) as {
      description: string;
    };
    expect(pkg.description).toBe(hostile);
  });
});

describe('withLog', () => {
  it('starts /bin/sh with the wrapper, the log as $0 and the command as "$@"', () => {
    expect(withLog('/var/log/a/a.log', ['/usr/bin/node', 'server.js'])).toEqual([
      '/bin/sh',
      '-c',
      LOG_WRAPPER_SCRIPT,
      '/var/log/a/a.log',
      '/usr/bin/node',
      'server.js',
    ]);
    expect(() => withLog('/var/log/a/a.log', [])).toThrow('no command');
  });

  it('is one line without quotes or specifiers that any format would have to carry specially', () => {
    expect(LOG_WRAPPER_SCRIPT).not.toMatch(/['%\n\\]/);
    // Opened after the checks, by the shell that then execs the command: the pid stays the same.
    expect(LOG_WRAPPER_SCRIPT.endsWith('exec "$@" >>"$0" 2>&1')).toBe(true);
  });
});

describe('where each unit opens the log', () => {
  const LOG = '/var/log/api-orders/api-orders.log';
  const argv = withLog(LOG, ['/usr/bin/node', 'server.js']);
  const render = (init: 'systemd' | 'openrc' | 'upstart' | 'monit') => {
    const m = manifest({ name: 'api-orders', kind: 'api', init });
    return renderProject(m, projectFiles(m));
  };
  const UNIT = {
    systemd: 'config/etc/systemd/system/api-orders.service',
    openrc: 'config/etc/init.d/api-orders',
    upstart: 'config/etc/init/api-orders.conf',
    monit: 'config/usr/local/lib/svc/api-orders/ctl',
  };
  /** The unit without its comment lines (which may name what is not used, and why). */
  const unitOf = (init: keyof typeof UNIT) =>
    render(init)
      .find((file) => file.path === UNIT[init])!
      .content.split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n');

  it('systemd: ExecStart through the wrapper as User=, no StandardOutput= (opened as root)', () => {
    const unit = unitOf('systemd');
    expect(unit).toContain(`\nExecStart=${systemdCommand(argv)}\n`);
    expect(unit).not.toMatch(/^Standard(Output|Error)=/m);
  });

  it('monit launcher and upstart: start-stop-daemon --startas /bin/sh, no --output or >>', () => {
    for (const init of ['monit', 'upstart'] as const) {
      const unit = unitOf(init);
      expect(unit, init).toContain(
        ` --exec /usr/bin/node --startas /bin/sh -- ${shellCommand(argv.slice(1))}\n`,
      );
      expect(unit, init).not.toContain('--output');
      expect(unit.replace(shellQuote(LOG_WRAPPER_SCRIPT), ''), init).not.toContain('>>');
    }
  });

  it('monit launcher: one action at a time (flock), a lock the service never inherits', () => {
    const launcher = unitOf('monit');
    const lock = launcher.indexOf('flock 8');
    expect(launcher).toContain('exec 8<>/run/api-orders.pid.lock\n');
    expect(lock).toBeGreaterThan(0);
    expect(lock).toBeLessThan(launcher.indexOf('\nstart() {'));
    // Closed in the subshell before start-stop-daemon, and the marker not in the service's env.
    const start = launcher.slice(launcher.indexOf('\nstart() {'));
    expect(start.indexOf('exec 8>&-')).toBeGreaterThan(0);
    expect(start.indexOf('exec 8>&-')).toBeLessThan(start.indexOf('start-stop-daemon --start'));
    expect(start).toContain('unset SVC_CTL_LOCKED');
  });

  it('OpenRC: supervise-daemon runs /bin/sh with the wrapper quoted twice, no output_log or error_log', () => {
    const unit = unitOf('openrc');
    expect(unit).toContain('\nsupervisor=supervise-daemon\n');
    expect(unit).toContain('\ncommand=/bin/sh\n');
    expect(unit).toContain(`\ncommand_args=${shellQuote(shellCommand(argv.slice(1)))}\n`);
    expect(unit).not.toMatch(/^(output|error)_log=/m);
    // supervise-daemon's own stop (openrc-run's), by the supervisor's pidfile: no stop() of ours.
    expect(unit).not.toMatch(/^stop\(\)/m);
  });

  it('logrotate works as the service user on its own directory', () => {
    const logrotate = render('systemd').find((file) => file.path.includes('logrotate'))!.content;
    expect(logrotate).toContain('/var/log/api-orders/*.log {');
    expect(logrotate).toMatch(/^\tsu api-orders api-orders$/m);
  });

  it('nginx: a static site logs to root’s /var/log/nginx, never to /var/log/NAME', () => {
    const m = manifest({
      name: 'www-shop',
      kind: 'www',
      runtime: 'static',
      init: undefined,
      port: 8080,
    });
    const site = renderProject(m, projectFiles(m)).find((file) => file.path.endsWith('.conf'))!;
    expect(site.content).toContain('    access_log "/var/log/nginx/www-shop.access.log";\n');
    expect(site.content).toContain('    error_log "/var/log/nginx/www-shop.error.log";\n');
    expect(site.content).not.toMatch(/_log "\/var\/log\/www-shop/);
  });
});
