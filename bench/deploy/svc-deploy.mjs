// svc deploy, traced: its result table, and per host the SSH connects, remote commands and the
// time of each step line (SVC_TRACE_SSH=1).
import { SERVICE } from './options.mjs';
import { must, svcMeasured } from './processes.mjs';

const SVC_STEPS = {
  locked: 'locked',
  'facts unchanged since the plan': 'stale check',
  'files in place': 'files',
  'monit reloaded': 'monit reloaded',
  [`started ${SERVICE}`]: 'started',
  healthy: 'healthy',
};

export function parseTable(stdout) {
  const lines = stdout.split('\n');
  const header = lines.findLastIndex((line) =>
    /^HOST\s+RESULT\s+RELEASE\s+CHANGES\s+TIME/.test(line),
  );
  if (header === -1) return [];
  const rows = [];
  for (const line of lines.slice(header + 1)) {
    const match =
      /^(\S+)\s+(unchanged|deployed|rolled back|refused|locked|stale|failed|skipped)\s+(\S+)\s+.*?\s(\S+)s?$/.exec(
        line,
      );
    if (!match) break;
    rows.push({
      host: match[1],
      status: match[2],
      release: match[3],
      seconds: Number.parseFloat(match[4]),
    });
  }
  return rows;
}

export async function svcDeploy(stateDir, project, count, expect, extraEnv = {}) {
  const result = await svcMeasured(
    // --connect-timeout as the floor's ConnectTimeout (floor.mjs sshArgs).
    [
      'deploy',
      'sandbox',
      '--yes',
      '--parallel',
      String(count),
      '--connect-timeout',
      '30',
      '--dir',
      project,
    ],
    stateDir,
    { SVC_TRACE_SSH: '1', ...extraEnv },
  );
  must(result, `svc deploy (${expect})`);
  const rows = parseTable(result.stdout);
  if (rows.length !== count || rows.some((row) => row.status !== expect)) {
    throw new Error(
      `svc deploy: expected ${count} host(s) ${expect}, got:\n${result.stdout
        .split('\n')
        .slice(-count - 3)
        .join('\n')}`,
    );
  }
  const perHost = new Map();
  const host = (name) => {
    if (!perHost.has(name)) perHost.set(name, { connects: 0, execs: 0, at: {} });
    return perHost.get(name);
  };
  for (const { at, line } of result.lines.stderr) {
    let match = /^svc-trace: (\S+) connect$/.exec(line);
    if (match) {
      const h = host(match[1]);
      h.connects++;
      h.at.connect ??= at;
      continue;
    }
    match = /^svc-trace: (\S+) exec (.*)$/.exec(line);
    if (match) {
      const h = host(match[1]);
      h.execs++;
      h.at[
        match[2] === 'gathering facts' ? 'facts' : match[2] === 'deploying' ? 'apply' : match[2]
      ] ??= at;
      continue;
    }
    match = /^(sbx-\d+): (.*)$/.exec(line);
    if (match && SVC_STEPS[match[2]]) host(match[1]).at[SVC_STEPS[match[2]]] ??= at;
  }
  for (const row of rows) host(row.host);
  const hosts = [...perHost.values()];
  const events = hosts.map((h) => ({ ...h.at, exit: result.ms }));
  return {
    ms: result.ms,
    connects: hosts.map((h) => h.connects),
    execs: hosts.map((h) => h.execs),
    reported: Math.max(...rows.map((row) => row.seconds)),
    events,
    table: result.stdout.slice(result.stdout.lastIndexOf('HOST ')),
    svcCpuSeconds: result.svcCpuSeconds,
    peakRssMb: result.peakRssMb,
  };
}
