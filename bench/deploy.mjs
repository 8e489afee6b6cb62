#!/usr/bin/env node
// Benchmark: `svc deploy` of the scaffolded api- project (init monit) to N light sandbox hosts,
// cold (fresh hosts) and no-op (everything already in place), against a floor measured in the
// same run: the same layout, release and config files placed by ONE plain OpenSSH
// `ssh root@HOST sh -s` script per host, all hosts in parallel, starting the service the same way
// (monit reload + monit start, then wait until the health URL answers on the host).
//
// Drives bin/svc and ssh as processes (dist/ must be built: `npm run build`); needs root. Every
// timed run gets fresh hosts (sandbox down + up between runs, not timed); each sandbox has its
// own state directory and /16 (10.100-10.127, a range the tests never draw) and is taken down
// even when the run fails or the bench is interrupted.
//
//   npm run bench                                    # sandbox bench, then this one
//   node bench/deploy.mjs                            # N = 1, 10, 100; 3 runs each
//   BENCH_HOSTS=1,10 node bench/deploy.mjs --runs 5 --out /tmp/deploy-bench.json
//   node bench/deploy.mjs --hosts 10 --cpu-prof /tmp/prof   # + a CPU profile of svc at N=10
//
// Options: --hosts 1,10,100 (or env BENCH_HOSTS), --runs N (>= 3; --rounds too), --out FILE (JSON;
// default: stdout only), --login deploy|root (svc's login user; default deploy, through sudo -n;
// the floor always logs in as root), --svc PATH (or env BENCH_SVC: the bin/svc to drive, default
// this checkout's), --dump-floor FILE (write the floor script there, to read or rerun by hand),
// --verbose (svc's own result table after each cold run), --cpu-prof DIR (after the timed runs,
// one more cold deploy at the largest N under `node --cpu-prof`, its profile written to DIR and
// summarised by group, module and function; see deploy/cpu-profile.mjs), --no-systemd (skip the
// cutover comparison, which boots systemd hosts), --quiet-wait SECONDS (how long a timed run
// waits for a quiet machine, default 60; 0 on a machine known to be busy).
//
// Besides the deploy table it reports start-up (svc --version, --help, plan, new --dry-run
// against node -e 0, deploy/startup.mjs), svc's own CPU seconds per host and peak RSS
// (/usr/bin/time), and what `cutover: switch` costs over `restart` per deploy at N=1 and N=10
// when those are in --hosts (deploy/cutover.mjs). Its length: the N=100 runs take a few minutes
// each; the cutover comparison boots up to 10 systemd hosts once per N.
//
// Round trips are counted from svc's own trace (SVC_TRACE_SSH=1: one stderr line per SSH connect
// and per remote command); the floor is one connect and one command per host by construction.
// CPU s is the whole machine's busy CPU time during a run (/proc/stat): on a 2-CPU machine with
// 10+ hosts both svc and the floor are CPU-bound, so it explains most of the wall time. Each
// timed run waits for a quiet machine first (other engineers' tests may share it). The profile
// under the table gives, for the median run, when each step happened (seconds since the process
// was spawned, median host/last host), from svc's step lines on stderr and from markers the floor
// script echoes. A preflight on two hosts (svc deploys one, the floor script the other) checks
// that both leave the same files, modes, owners, links and running service.
//
// The parts, in bench/deploy/: options (the command line), processes (children by pid), sandboxes
// (up, down, Ctrl-C), machine (CPU time, a quiet machine), floor (the floor script and its run),
// svc-deploy (svc deploy, traced), preflight (the layout check), runs (the timed runs at one N),
// report (medians, table, targets), startup, cutover, cpu-profile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { formatSummary, summarize } from './deploy/cpu-profile.mjs';
import { cutoverAt, cutoverProjects, formatCutover } from './deploy/cutover.mjs';
import {
  CPU_PROF,
  CUTOVER,
  DUMP_FLOOR,
  HOSTS,
  LOGIN,
  OUT,
  RUNS,
  SERVICE,
  SVC,
} from './deploy/options.mjs';
import { preflight } from './deploy/preflight.mjs';
import { must, run, svcEnv } from './deploy/processes.mjs';
import { median, printReport, targetsOf } from './deploy/report.mjs';
import { runsAt } from './deploy/runs.mjs';
import { activeSandboxes, sandboxDown, scratch, withSandbox } from './deploy/sandboxes.mjs';
import { formatStartup, startupTimes } from './deploy/startup.mjs';
import { svcDeploy } from './deploy/svc-deploy.mjs';

/** One cold deploy to n fresh hosts under `node --cpu-prof`: the profile's summary. */
async function cpuProfile(n, project, dir) {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  await withSandbox(n, ({ stateDir }) =>
    svcDeploy(stateDir, project, n, 'deployed', {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${dir}`.trim(),
    }),
  );
  const made = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (made.length !== 1) throw new Error(`--cpu-prof: expected one new profile in ${dir}`);
  const file = join(dir, made[0]);
  return { file, text: formatSummary(summarize(JSON.parse(readFileSync(file, 'utf8')))) };
}

async function main() {
  const sshVersion = (await run('ssh', ['-V'])).stderr.trim();
  const work = mkdtempSync(join(tmpdir(), 'svc-deploy-bench-project-'));
  scratch.add(work);
  const project = join(work, SERVICE);
  try {
    must(
      await run(
        SVC,
        ['new', SERVICE, '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
        {
          env: svcEnv(work),
        },
      ),
      'svc new',
    );
    process.stderr.write(
      `svc deploy bench: N = ${HOSTS.join(', ')}; ${RUNS} runs each; svc logs in as ${LOGIN}\n`,
    );
    const { spec, script, layout } = await preflight(project);
    if (DUMP_FLOOR) writeFileSync(DUMP_FLOOR, script);
    const scriptFile = join(work, 'floor.sh');
    writeFileSync(scriptFile, script);
    process.stderr.write(
      `preflight: release ${spec.releaseId} (${spec.releaseFiles.length} files), floor script ${script.length} bytes; ` +
        `layout ${layout.identical ? "identical to svc's (but svc's records under /var/lib/svc: installed.json, installed.list, releases/, locks/)" : 'DIFFERS'}\n`,
    );
    if (!layout.identical) {
      for (const line of layout.onlySvc) process.stderr.write(`  only svc:   ${line}\n`);
      for (const line of layout.onlyFloor) process.stderr.write(`  only floor: ${line}\n`);
    }
    const versions = [];
    for (let i = 0; i < RUNS; i++)
      versions.push(must(await run(SVC, ['--version']), 'svc --version').ms);
    const startup = await startupTimes(work, Math.max(10, RUNS * 3));

    const rows = [];
    const profiles = [];
    for (const n of HOSTS) {
      const at = await runsAt(n, project, scriptFile);
      rows.push(...at.rows);
      profiles.push(at.profile);
    }
    const cutover = [];
    if (CUTOVER) {
      const projects = await cutoverProjects(SVC, work);
      for (const n of HOSTS.filter((n) => n <= 10)) cutover.push(await cutoverAt(n, projects));
    }
    const profile = CPU_PROF ? await cpuProfile(Math.max(...HOSTS), project, CPU_PROF) : null;
    const targets = targetsOf(rows, startup);
    const machine = { cpus: cpus().length, node: process.version, ssh: sshVersion };
    printReport({ rows, profiles, targets, runs: RUNS, versions, layout, spec, machine });
    process.stdout.write(formatStartup(startup));
    if (cutover.length > 0) process.stdout.write(formatCutover(cutover));
    if (profile) {
      process.stdout.write(
        `\nCPU profile of svc, one cold deploy at N=${Math.max(...HOSTS)} (${profile.file}):\n${profile.text}\n`,
      );
    }

    if (OUT) {
      const document = {
        bench: 'svc deploy',
        date: new Date().toISOString(),
        machine,
        runs: RUNS,
        hosts: HOSTS,
        login: LOGIN,
        release: { id: spec.releaseId, files: spec.releaseFiles.length },
        layoutCheck: layout,
        svcVersionSeconds: +(median(versions) / 1000).toFixed(3),
        results: rows,
        profiles,
        targets,
        startup,
        cutover,
        ...(profile && { cpuProfile: profile }),
      };
      writeFileSync(OUT, `${JSON.stringify(document, null, 2)}\n`);
      process.stderr.write(`wrote ${OUT}\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  process.stderr.write(`bench/deploy: ${error.stack ?? error}\n`);
  for (const stateDir of [...activeSandboxes]) await sandboxDown(stateDir);
  process.exit(1);
});
