// Preflight (not timed): the release ID and file list svc ships, the login's home, and a check
// that the floor leaves the same layout as svc: svc deploys sbx-1, the floor script sbx-2, and
// both are listed and compared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { floorScript, sq, sshArgs } from './floor.mjs';
import { SSH_TIMEOUT_MS } from './options.mjs';
import { must, run, svc } from './processes.mjs';
import { withSandbox } from './sandboxes.mjs';

function listingScript(spec) {
  const { name, loginHome } = spec;
  // Broad on purpose: whatever svc starts writing there later shows up as a difference.
  const roots = [
    '/var/www',
    '/var/log',
    '/var/db',
    '/var/lib/svc',
    '/usr/local/lib/svc',
    '/etc/default',
    '/etc/monit',
    '/etc/logrotate.d',
    loginHome,
  ];
  return [
    `find ${roots.map(sq).join(' ')} -printf '%M %u:%g %p -> %l\\n' | sort`,
    `find ${roots.map(sq).join(' ')} -type f ! -name '*.log' -exec sha256sum {} + | sort -k2`,
    `getent passwd ${sq(name)}`,
    `getent group ${sq(name)}`,
    `monit summary ${sq(name)} | tail -n 1 | tr -s ' '`,
    `curl -fsS -o /dev/null -w 'health %{http_code}\\n' --max-time 2 ${sq(`http://127.0.0.1:${spec.port}${spec.health}`)}`,
    `ps -o user=,args= -C node`,
  ].join('\n');
}

export async function preflight(project) {
  const manifest = parseYaml(readFileSync(join(project, 'svc.yaml'), 'utf8'));
  return withSandbox(2, async ({ stateDir, inventory }) => {
    const plan = await svc(['plan', 'sandbox', '--json', '--dir', project], stateDir);
    must(plan, 'svc plan --json');
    const document = JSON.parse(plan.stdout);
    const releaseChange = document.hosts[0].changes.find((c) => c.kind === 'release');
    if (!releaseChange) throw new Error('svc plan shows no release to create');
    const releaseId = releaseChange.target.split('/').pop();
    const [sbx1, sbx2] = inventory.hosts;
    const ssh = async (host, command, input) =>
      must(
        await run('ssh', [...sshArgs(inventory, host, 'root'), command], {
          input,
          timeoutMs: SSH_TIMEOUT_MS,
        }),
        `ssh ${host.name} ${command.split('\n')[0]}`,
      ).stdout;
    const login = sbx1.user;
    const loginHome = (await ssh(sbx1, `getent passwd ${sq(login)}`)).trim().split(':')[5];
    // svc deploys sbx-1 only; its release directory tells which files a release holds.
    must(
      await svc(['deploy', 'sbx-1', '--yes', '--dir', project], stateDir),
      'svc deploy sbx-1 (preflight)',
    );
    const releaseFiles = (
      await ssh(
        sbx1,
        `cd /var/www/${sq(manifest.name)}/releases/${sq(releaseId)} && find . -type f | sort`,
      )
    )
      .trim()
      .split('\n')
      .map((file) => file.replace(/^\.\//, ''));
    // What else svc put in the login's home besides the dirs and links the floor makes itself:
    // the helper scripts ~/script/NAME/{start,stop,...}. The floor ships the same bytes.
    const helpersTar = await ssh(
      sbx1,
      `cd ${sq(loginHome)} && if [ -d script ]; then tar -czf - script | base64 -w 76; fi`,
    );
    // The environment file svc writes from svc.yaml env: (root's, 0600): the floor ships the same
    // bytes, mode and owner.
    const envTar = await ssh(
      sbx1,
      `cd / && if [ -f etc/default/${sq(manifest.name)} ]; then tar -czf - etc/default/${sq(manifest.name)} | base64 -w 76; fi`,
    );
    const spec = {
      name: manifest.name,
      releaseId,
      releaseFiles,
      login,
      loginHome,
      port: manifest.port,
      health: manifest.health,
      helpersTar,
      envTar,
    };
    const script = await floorScript(project, spec);
    must(
      await run('ssh', [...sshArgs(inventory, sbx2, 'root'), 'sh -s -- 0'], {
        input: script,
        timeoutMs: SSH_TIMEOUT_MS,
      }),
      'floor script on sbx-2 (preflight)',
    );
    const listing = listingScript(spec);
    const viaSvc = (await ssh(sbx1, listing)).split('\n');
    const viaFloor = (await ssh(sbx2, listing)).split('\n');
    const onlySvc = viaSvc.filter((line) => !viaFloor.includes(line));
    const onlyFloor = viaFloor.filter((line) => !viaSvc.includes(line));
    // svc's own bookkeeping, which the floor has no reason to write (the history record is one append).
    const expected = (line) =>
      /\/var\/lib\/svc\/(locks|[^/ ]+\/(installed\.json|installed\.list|releases|history))/.test(
        line,
      );
    const layout = {
      identical: onlySvc.every(expected) && onlyFloor.length === 0,
      onlySvc,
      onlyFloor,
    };
    return { spec, script, layout };
  });
}
