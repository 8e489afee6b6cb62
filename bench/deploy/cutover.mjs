// What `cutover: switch` costs over `cutover: restart` per deploy (issue 11): on N hosts booting
// real systemd (each runs its own nginx, which switch needs in front), one project of each kind
// (init systemd, no monit check), deployed side by side on the same sandbox: a first deploy, then
// RUNS deploys of a new release each, alternating the two kinds. A restart stops the old process
// and starts the new one in place; a switch starts the new release in the idle slot, gates it
// there, switches nginx (nginx -t, reload) and drains and stops the old slot (at once here: no
// request is in flight).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { quiet } from './machine.mjs';
import { RUNS } from './options.mjs';
import { must, run, svcEnv } from './processes.mjs';
import { median, s } from './report.mjs';
import { withSandbox } from './sandboxes.mjs';
import { svcDeploy } from './svc-deploy.mjs';

const KINDS = [
  { mode: 'restart', name: 'api-bench-restart', flags: ['--port', '3001', '--cutover', 'restart'] },
  { mode: 'switch', name: 'api-bench-switch', flags: ['--port', '3000', '--cutover', 'switch'] },
];

/** The two projects, scaffolded under `work`. */
export async function cutoverProjects(svcBin, work) {
  const projects = {};
  for (const kind of KINDS) {
    const dir = join(work, kind.name);
    must(
      await run(
        svcBin,
        ['new', kind.name, '--yes', '--init', 'systemd', '--no-monit', '--dir', dir, ...kind.flags],
        { env: svcEnv(work) },
      ),
      `svc new ${kind.name}`,
    );
    projects[kind.mode] = dir;
  }
  return projects;
}

/** First and next deploys of each kind on N systemd hosts: wall seconds, medians of RUNS. */
export async function cutoverAt(n, projects) {
  return withSandbox(
    n,
    async ({ stateDir }) => {
      const first = {};
      const next = { restart: [], switch: [] };
      for (const { mode } of KINDS) {
        await quiet();
        first[mode] = (await svcDeploy(stateDir, projects[mode], n, 'deployed')).ms;
      }
      for (let i = 0; i < RUNS; i++) {
        for (const { mode } of KINDS) {
          // A new release each time: a file of the release changes.
          writeFileSync(join(projects[mode], 'release-id.txt'), `${n}-${i}\n`);
          await quiet();
          next[mode].push((await svcDeploy(stateDir, projects[mode], n, 'deployed')).ms);
        }
        process.stderr.write(
          `cutover N=${n} run ${i + 1}/${RUNS}: restart ${s(next.restart.at(-1))} s, switch ${s(next.switch.at(-1))} s\n`,
        );
      }
      const row = (mode) => ({
        first: +(first[mode] / 1000).toFixed(3),
        median: +(median(next[mode]) / 1000).toFixed(3),
        runs: next[mode].map((ms) => +(ms / 1000).toFixed(3)),
      });
      const restart = row('restart');
      const swap = row('switch');
      return {
        n,
        restart,
        switch: swap,
        extraSeconds: +(swap.median - restart.median).toFixed(3),
        extraFirstSeconds: +(swap.first - restart.first).toFixed(3),
      };
    },
    { kind: 'systemd' },
  );
}

/** The cutover table: per N, each kind's first deploy and next deploys, and switch's extra. */
export function formatCutover(results) {
  const lines = [
    `\ncutover: switch vs restart per deploy (systemd sandbox hosts, nginx on each; median of ${RUNS} deploys of a new release after a first deploy)`,
    'N   restart first s  switch first s  restart s  switch s  switch costs more',
  ];
  for (const r of results) {
    lines.push(
      `${String(r.n).padEnd(3)} ${r.restart.first.toFixed(2).padEnd(16)} ${r.switch.first.toFixed(2).padEnd(15)} ` +
        `${r.restart.median.toFixed(2).padEnd(10)} ${r.switch.median.toFixed(2).padEnd(9)} ` +
        `${r.extraSeconds >= 0 ? '+' : ''}${r.extraSeconds.toFixed(2)} s (first deploy ${r.extraFirstSeconds >= 0 ? '+' : ''}${r.extraFirstSeconds.toFixed(2)} s)`,
    );
  }
  return `${lines.join('\n')}\n`;
}
