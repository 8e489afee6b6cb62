// What `svc new --cutover switch` writes, checked by the real validators: the template unit by
// `systemd-analyze verify` (as the template, and as the instance of each slot's port, which is
// what systemd runs) and `systemd-analyze security`; the nginx front by `nginx -t` with the
// upstream file svc writes at a switch; and the refusals of flags that cannot go with it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { SVC } from '../helpers/sandbox.js';

const CASES = [
  { name: 'api-switch', flags: ['--port', '4000'] },
  { name: 'www-switch', flags: ['--runtime', 'node', '--port', '8080'] },
];

let root = '';
const dir = (name: string) => join(root, name);
const run = (command: string, args: string[]) =>
  spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
const svcNew = (name: string, flags: string[]) =>
  run(process.execPath, [SVC, 'new', name, '--yes', '--dir', dir(name), ...flags]);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-cutover-validators-'));
  for (const c of CASES) {
    const result = svcNew(c.name, ['--user', 'daemon', '--cutover', 'switch', ...c.flags]);
    if (result.status !== 0) throw new Error(`svc new ${c.name}: ${result.stderr}`);
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.each(CASES)('$name', (c) => {
  const unitPath = () => join(dir(c.name), `config/etc/systemd/system/${c.name}@.service`);
  const manifest = () =>
    parseYaml(readFileSync(join(dir(c.name), 'svc.yaml'), 'utf8')) as {
      port: number;
      cutover: string;
      monit: boolean;
      init: string;
      appPort?: number;
    };

  it('writes svc.yaml for a switch: systemd, no monit check, no appPort', () => {
    expect(manifest()).toMatchObject({ cutover: 'switch', monit: false, init: 'systemd' });
    expect(manifest().appPort).toBeUndefined();
  });

  it('systemd-analyze verify: the template and each slot instance, without a word', () => {
    const instances = join(root, `instances-${c.name}`);
    mkdirSync(instances, { recursive: true });
    const paths = [unitPath()];
    for (const slot of slotsOf(manifest())) {
      const instance = join(instances, `${c.name}@${slot.port}.service`);
      copyFileSync(unitPath(), instance);
      paths.push(instance);
    }
    for (const path of paths) {
      const result = run('systemd-analyze', ['verify', path]);
      expect(result.stdout + result.stderr, path).toBe('');
      expect(result.status, path).toBe(0);
    }
  });

  it('systemd-analyze security rates a slot 2.0 or below', () => {
    const [slot] = slotsOf(manifest());
    const instance = join(root, `${c.name}@${slot!.port}.service`);
    copyFileSync(unitPath(), instance);
    const result = run('systemd-analyze', ['security', '--offline=true', '--no-pager', instance]);
    const score = (result.stdout + result.stderr).match(
      /Overall exposure level for .*: (\d+\.\d+) /,
    );
    expect(score, result.stdout + result.stderr).not.toBeNull();
    expect(Number(score![1])).toBeLessThanOrEqual(2.0);
  });

  it('gives each slot its own loopback port and pidfile', () => {
    const unit = readFileSync(unitPath(), 'utf8');
    expect(unit).toMatch(/^Environment=HOST=127\.0\.0\.1 PORT=%i$/m);
    expect(unit).toContain(`ExecStopPost=+/bin/rm -f -- /run/${c.name}@%i.pid`);
    expect(unit).not.toMatch(/^Standard(?:Output|Error)=/m);
  });

  it('nginx -t: the front with the upstream file of either slot', () => {
    const site = readFileSync(
      join(dir(c.name), `config/etc/nginx/sites-enabled/${c.name}.conf`),
      'utf8',
    );
    expect(site).toContain(`include "${upstreamFile(c.name)}";`);
    for (const slot of slotsOf(manifest())) {
      const work = join(root, `nginx-${c.name}-${slot.name}`);
      mkdirSync(work, { recursive: true });
      const upstream = join(work, 'upstream.conf');
      writeFileSync(upstream, upstreamText(c.name, slot));
      writeFileSync(join(work, 'site.conf'), site.replace(upstreamFile(c.name), upstream));
      writeFileSync(
        join(work, 'nginx.conf'),
        `pid ${join(work, 'nginx.pid')};\nerror_log ${join(work, 'error.log')};\nevents {}\nhttp { include ${join(work, 'site.conf')}; }\n`,
      );
      // nginx -t opens the site's logs and its temp dirs: on tmpfs in a private mount namespace.
      const result = run('unshare', [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'set -e; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /var/lib/nginx; mkdir -p /var/log/nginx; nginx -t -c "$1"',
        'sh',
        join(work, 'nginx.conf'),
      ]);
      expect(result.stderr).toContain('test is successful');
      expect(result.status, result.stderr).toBe(0);
    }
  });
});

describe('svc new --cutover refusals', () => {
  it.each([
    [['--cutover', 'swap'], 'svc: error: --cutover: must be one of restart, switch'],
    [
      ['--cutover', 'switch', '--init', 'openrc'],
      'svc: error: --cutover switch: is built for --init systemd only so far (not openrc); use --cutover restart',
    ],
    [
      ['--cutover', 'switch', '--monit'],
      'svc: error: --cutover switch: goes without a monit check so far (monit would watch a pidfile no slot writes); use --no-monit',
    ],
  ])('%j', (flags, line) => {
    const result = svcNew('api-refused', flags);
    expect(result.stderr.trim()).toBe(line);
    expect(result.status).toBe(1);
  });

  it('refuses a worker', () => {
    const result = svcNew('service-x', ['--cutover', 'switch']);
    expect(result.stderr.trim()).toBe(
      'svc: error: --cutover switch: needs a process that answers HTTP (api-, or www- --runtime node)',
    );
  });
});
