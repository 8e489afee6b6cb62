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
  'monit checked',
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
    'svc CPU s/host',
    'svc RSS MB',
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
    r.svcCpuPerHost === null ? '-' : r.svcCpuPerHost.toFixed(3),
    r.peakRssMb === null ? '-' : String(r.peakRssMb),
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

// Issue 14's targets for the deploy: cold within these ratios of the floor, at these N.
const COLD_RATIO = { 1: 1.3, 10: 1.2, 100: 1.2 };
const RSS_LIMIT_MB = 300;

/**
 * The targets, each { label, value, met } (met null: not measured in this run, as when its N is
 * not in --hosts).
 */
export function targetsOf(rows, startup) {
  const targets = [];
  for (const [n, limit] of Object.entries(COLD_RATIO).map(([n, r]) => [Number(n), r])) {
    const cold = rows.find((r) => r.n === n && r.mode === 'cold');
    const floor = rows.find((r) => r.n === n && r.mode === 'floor');
    const label = `cold deploy within ${limit}x of the floor at N=${n}`;
    if (!cold) {
      targets.push({ label, value: `not measured (N=${n} not in --hosts)`, met: null });
      continue;
    }
    // how much faster cold would have to be, in seconds and as a share of its time
    const over = Math.max(0, cold.median - limit * floor.median);
    const met = cold.ratio <= limit;
    targets.push({
      label,
      value: met
        ? `${cold.ratio.toFixed(2)}x`
        : `${cold.ratio.toFixed(2)}x, ${over.toFixed(2)} s over (cold would need to be ${((over / cold.median) * 100).toFixed(0)}% faster)`,
      met,
    });
  }
  const noopExecs = rows.filter((r) => r.mode === 'no-op').map((r) => r.execsPerHost);
  const maxNoopExecs = Math.max(...noopExecs.flatMap((text) => text.split('-').map(Number)));
  targets.push({
    label: 'no-op deploy in one round trip per host after the connection',
    value: String(maxNoopExecs),
    met: maxNoopExecs <= 1,
  });
  const big = rows.filter((r) => r.mode === 'cold' && r.n >= 100 && r.peakRssMb !== null);
  targets.push({
    label: `svc's peak RSS under ${RSS_LIMIT_MB} MB at N=100`,
    value: big.length
      ? big.map((r) => `${r.peakRssMb} MB at N=${r.n}`).join(', ')
      : 'not measured (N=100 not in --hosts, or no /usr/bin/time)',
    met: big.length ? big.every((r) => r.peakRssMb < RSS_LIMIT_MB) : null,
  });
  for (const r of startup?.rows ?? []) {
    if (r.met === undefined) continue;
    targets.push({
      label: `${r.command} within 1.5x of node -e 0`,
      value: `${r.ratio.toFixed(2)}x`,
      met: r.met,
    });
  }
  return targets;
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
    "svc CPU s/host, svc RSS MB: svc's own user+system CPU seconds (median run) divided by N, and its largest peak RSS, from /usr/bin/time.\n",
  );
  out.write(
    `CPU s: the machine's busy CPU time during the run (median), all processes: svc or ssh, sshd, what runs on the hosts, the services.\n`,
  );
  const busy = rows.reduce((sum, r) => sum + r.busyStarts, 0);
  out.write(
    busy === 0
      ? 'every run started on a quiet machine (<= 10% busy).\n\n'
      : `${busy} run(s) started while the machine was busy with other work (after --quiet-wait): their times are suspect.\n\n`,
  );
  out.write('profile of the median run: seconds since spawn, median host/last host\n');
  for (const p of profiles) {
    out.write(`N=${p.n}\n`);
    out.write(`${formatProfile('svc cold', p.cold)}\n`);
    out.write(`${formatProfile('svc no-op', p.noop)}\n`);
    out.write(`${formatProfile('floor', p.floor)}\n`);
  }
  out.write('\ntargets:\n');
  for (const t of targets) {
    out.write(`  ${t.label}: ${t.value}${t.met === null ? '' : t.met ? ': met' : ': MISSED'}\n`);
  }
}
