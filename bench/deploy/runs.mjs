// The timed runs at one host count: svc cold and no-op on one fresh sandbox, the floor on
// another, alternating so that drift on the machine hits both alike; each timed run starts on a
// quiet machine (noted when it could not wait for one).
import { floorRun } from './floor.mjs';
import { measured, quiet } from './machine.mjs';
import { RUNS, VERBOSE } from './options.mjs';
import { FLOOR_ORDER, median, profileOf, s, span, SVC_ORDER } from './report.mjs';
import { withSandbox } from './sandboxes.mjs';
import { svcDeploy } from './svc-deploy.mjs';

/** The run whose wall time is nearest the median: its step profile stands for all. */
function medianRun(results) {
  const m = median(results.map((r) => r.ms));
  return results.reduce((best, r) => (Math.abs(r.ms - m) < Math.abs(best.ms - m) ? r : best));
}

/** One table row: medians over the runs of one mode. */
function rowOf(n, mode, results, floorMedian) {
  const m = median(results.map((r) => r.ms));
  const svcRuns = results[0].reported !== undefined;
  return {
    n,
    mode,
    median: +(m / 1000).toFixed(3),
    runs: results.map((r) => +(r.ms / 1000).toFixed(3)),
    ratio: mode === 'floor' ? 1 : +(m / floorMedian).toFixed(3),
    cpu: median(results.map((r) => r.cpuMs)) / 1000,
    busyStarts: results.filter((r) => !r.calm).length,
    connectsPerHost: span(results.flatMap((r) => [r.connects].flat())),
    execsPerHost: span(results.flatMap((r) => [r.execs].flat())),
    svcReported: svcRuns ? median(results.map((r) => r.reported)) : null,
    // svc's own CPU seconds per host (median run) and its largest peak RSS over the runs
    svcCpuPerHost:
      results[0].svcCpuSeconds === undefined
        ? null
        : median(results.map((r) => r.svcCpuSeconds)) / n,
    peakRssMb:
      results[0].peakRssMb === undefined ? null : Math.max(...results.map((r) => r.peakRssMb)),
  };
}

/** RUNS runs of svc cold, svc no-op and the floor on N hosts: their rows and step profiles. */
export async function runsAt(n, project, scriptFile) {
  const cold = [];
  const noop = [];
  const floor = [];
  for (let i = 0; i < RUNS; i++) {
    await withSandbox(n, async ({ stateDir }) => {
      let calm = await quiet();
      cold.push({
        calm,
        ...(await measured(() => svcDeploy(stateDir, project, n, 'deployed'))),
      });
      calm = await quiet();
      noop.push({
        calm,
        ...(await measured(() => svcDeploy(stateDir, project, n, 'unchanged'))),
      });
    });
    await withSandbox(n, async ({ inventory }) => {
      const calm = await quiet();
      floor.push({ calm, ...(await measured(() => floorRun(inventory, scriptFile))) });
    });
    process.stderr.write(
      `N=${n} run ${i + 1}/${RUNS}: cold ${s(cold.at(-1).ms)} s, no-op ${s(noop.at(-1).ms)} s, floor ${s(floor.at(-1).ms)} s\n`,
    );
    if (VERBOSE) process.stderr.write(`${cold.at(-1).table}\n`);
  }
  const floorMedian = median(floor.map((r) => r.ms));
  return {
    rows: [
      rowOf(n, 'cold', cold, floorMedian),
      rowOf(n, 'no-op', noop, floorMedian),
      rowOf(n, 'floor', floor, floorMedian),
    ],
    profile: {
      n,
      cold: profileOf(medianRun(cold).events, SVC_ORDER),
      noop: profileOf(medianRun(noop).events, SVC_ORDER),
      floor: profileOf(medianRun(floor).events, FLOOR_ORDER),
    },
  };
}
