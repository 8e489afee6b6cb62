// Statistics and output: medians, the table, the per-step profile.

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const s = (ms) => (ms / 1000).toFixed(2);
export const span = (values) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
};

/** For each step: the median host's time and the last host's time, in seconds. */
export function profileOf(events, order) {
  const result = {};
  for (const step of order) {
    const times = events.map((e) => e[step]).filter((t) => t !== undefined);
    if (times.length === 0) continue;
    result[step] = {
      median: +(median(times) / 1000).toFixed(3),
      last: +(Math.max(...times) / 1000).toFixed(3),
    };
  }
  return result;
}

export const SVC_ORDER = [
  'connect',
  'facts',
  'apply',
  'locked',
  'stale check',
  'files',
  'monit reloaded',
  'started',
  'healthy',
  'exit',
];
export const FLOOR_ORDER = [
  'shell',
  'layout',
  'release',
  'files',
  'monit reloaded',
  'started',
  'healthy',
  'exit',
];

export function formatTable(rows) {
  const header = [
    'N',
    'mode',
    'median s',
    'runs (s)',
    'ratio to floor',
    'CPU s',
    'connects/host',
    'execs/host',
    'svc table s',
  ];
  const cells = rows.map((r) => [
    String(r.n),
    r.mode,
    r.median.toFixed(2),
    r.runs.map((x) => x.toFixed(2)).join(' '),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.cpu.toFixed(2),
    r.connectsPerHost,
    r.execsPerHost,
    r.svcReported === null ? '-' : r.svcReported.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((text, i) => text.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatProfile(label, profile) {
  const steps = Object.entries(profile)
    .map(
      ([step, t]) =>
        `${step} ${t.median.toFixed(2)}${t.last !== t.median ? `/${t.last.toFixed(2)}` : ''}`,
    )
    .join(', ');
  return `  ${label.padEnd(16)} ${steps}`;
}

/** The targets, each with whether it was met (null: not measured in this run). */
export function targetsOf(rows) {
  const coldAt10 = rows.find((r) => r.n === 10 && r.mode === 'cold');
  const floorAt10 = rows.find((r) => r.n === 10 && r.mode === 'floor');
  const noopExecs = rows.filter((r) => r.mode === 'no-op').map((r) => r.execsPerHost);
  const maxNoopExecs = Math.max(...noopExecs.flatMap((text) => text.split('-').map(Number)));
  return {
    coldWithin1_5xAtN10: coldAt10
      ? {
          ratio: +coldAt10.ratio.toFixed(2),
          met: coldAt10.ratio <= 1.5,
          median: coldAt10.median,
          // how much faster cold would have to be, in seconds and as a share of its time
          overSeconds: +Math.max(0, coldAt10.median - 1.5 * floorAt10.median).toFixed(2),
        }
      : null,
    noopAtMost2ExecsPerHost: { execs: maxNoopExecs, met: maxNoopExecs <= 2 },
  };
}

/** The report on stdout: the table, what its columns mean, the step profile, the targets. */
export function printReport({ rows, profiles, targets, runs, versions, layout, spec, machine }) {
  const out = process.stdout;
  out.write(
    `\nsvc deploy vs a one-script-per-host floor (${machine.cpus} CPUs, node ${machine.node}, ${machine.ssh})\n`,
  );
  out.write(
    `median of ${runs} runs, wall seconds of the whole process (svc: including Node start-up); `,
  );
  out.write(`svc --version alone: ${s(median(versions))} s\n`);
  out.write(
    layout.identical
      ? `the floor leaves the same layout as svc (checked on a host each; svc adds only its records), release ${spec.releaseId}\n\n`
      : 'LAYOUT DIFFERS between the floor and svc (listed on stderr): the comparison is not like for like\n\n',
  );
  out.write(`${formatTable(rows)}\n\n`);
  out.write(
    'connects/execs: SSH connections and remote commands per host (svc: SVC_TRACE_SSH; floor: 1 ssh sh -s).\n',
  );
  out.write("svc table s: the slowest host's TIME in svc's own result table (apply phase only).\n");
  out.write(
    `CPU s: the machine's busy CPU time during the run (median), all processes: svc or ssh, sshd, what runs on the hosts, the services.\n`,
  );
  const busy = rows.reduce((sum, r) => sum + r.busyStarts, 0);
  out.write(
    busy === 0
      ? 'every run started on a quiet machine (<= 10% busy).\n\n'
      : `${busy} run(s) started while the machine was busy with other work for 60 s: their times are suspect.\n\n`,
  );
  out.write('profile of the median run: seconds since spawn, median host/last host\n');
  for (const p of profiles) {
    out.write(`N=${p.n}\n`);
    out.write(`${formatProfile('svc cold', p.cold)}\n`);
    out.write(`${formatProfile('svc no-op', p.noop)}\n`);
    out.write(`${formatProfile('floor', p.floor)}\n`);
  }
  out.write('\ntargets:\n');
  const cold10 = targets.coldWithin1_5xAtN10;
  out.write(
    `  cold deploy within 1.5x of the floor at N=10: ${
      !cold10
        ? 'not measured (N=10 not in the list)'
        : cold10.met
          ? `${cold10.ratio}x: met`
          : `${cold10.ratio}x: MISSED by ${cold10.overSeconds.toFixed(2)} s ` +
            `(cold would need to be ${((cold10.overSeconds / cold10.median) * 100).toFixed(0)}% faster)`
    }\n`,
  );
  out.write(
    `  no-op deploy in at most 2 round trips per host after the connection: ${targets.noopAtMost2ExecsPerHost.execs}: ${
      targets.noopAtMost2ExecsPerHost.met ? 'met' : 'MISSED'
    }\n`,
  );
}
