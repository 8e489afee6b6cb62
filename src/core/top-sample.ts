// `svc top`'s sample of one host: the strict parser of top-script.ts's output, and the row the
// view shows (CPU % from the difference of two readings of the tree's CPU time). Pure. Output
// that does not have the expected shape is an error naming the host and the line: the host, or
// the service's files, must never be able to make svc show a number it did not measure.
import { TOP_FORMAT } from './top-script.js';
import { decodeHex } from './hex-text.js';

export interface TopProcess {
  pid: number;
  /** Clock ticks since the host booted when it started (with pid, what tells a reused pid). */
  start: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
  threads: number;
  rssPages: number;
}

export interface TopSample {
  clockTicks: number;
  pageSize: number;
  /** A first reading of the tree's CPU time within the same command (--once, a first refresh). */
  first?: { uptime: number; processes: TopProcess[] };
  /** The host's /proc/uptime when the tree was read. */
  uptime: number;
  pid?: number;
  processes: TopProcess[];
  fds?: number;
  connections?: number;
  release?: string;
  /** When `current` was last switched (the live release's deploy), epoch seconds. */
  deployedAt?: number;
  /** The host's clock at the sample, epoch seconds. */
  hostNow: number;
  /**
   * cutover: switch: the live slot (the pid, tree and state are its), and the other slot when its
   * process runs too (kept warm, or draining after a switch). undefined without switch, and when
   * no deploy has switched yet.
   */
  slot?: SlotName;
  idleSlot?: { slot: SlotName; pid: number };
  /** The init system's word (systemd: "active/running"); undefined when it has none to say. */
  initState?: string;
  monit?: string;
  restarts?: number;
  /** The health URL's status (0: no answer) and how long the answer took; undefined for a worker. */
  health?: { status: number; ms?: number };
}

export type SlotName = 'a' | 'b';

const MAX_PROCESSES = 4096;
const NUMBER = /^\d{1,18}$/;
const DECIMAL = /^\d{1,12}(?:\.\d{1,9})?$/;
const HEX = /^(?:[0-9a-f]{2}){0,256}$/;

/**
 * Parses the script's output. Each singular record appears once, in the script's order; P and C
 * records repeat (at most 4096 each); B first and E last, nothing after E.
 */
export function parseTopOutput(output: string, host: string): TopSample {
  const lines = output.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (line: string, why: string) =>
    new Error(`${host}: unexpected top output (${why}): ${JSON.stringify(line.slice(0, 80))}`);
  const number = (line: string, value: string | undefined, optional = false) => {
    if (optional && value === '-') return undefined;
    if (value === undefined || !NUMBER.test(value)) throw bad(line, 'not a number');
    return Number(value);
  };
  const decimal = (line: string, value: string | undefined) => {
    if (value === undefined || !DECIMAL.test(value)) throw bad(line, 'not a number');
    return Number(value);
  };
  const hex = (line: string, value: string | undefined) => {
    if (value === undefined || !HEX.test(value)) throw bad(line, 'not hex');
    const text = decodeHex(value);
    return text === '' ? undefined : text;
  };
  const slotOf = (line: string, value: string | undefined): SlotName | undefined => {
    if (value === '-') return undefined;
    if (value !== 'a' && value !== 'b') throw bad(line, 'not a slot');
    return value;
  };
  const processOf = (line: string, fields: string[]): TopProcess => {
    if (fields.length !== 6) throw bad(line, 'fields');
    return {
      pid: number(line, fields[1])!,
      start: number(line, fields[2])!,
      ticks: number(line, fields[3])!,
      threads: number(line, fields[4])!,
      rssPages: number(line, fields[5])!,
    };
  };
  if (lines[0] !== `B ${TOP_FORMAT}`) throw bad(lines[0] ?? '', 'not the start of a top sample');
  if (lines.at(-1) !== 'E') throw bad(lines.at(-1) ?? '', 'truncated: no end marker');
  const seen = new Set<string>();
  const order = ['K', 'T0', 'T', 'S', 'D', 'F', 'L', 'I', 'M', 'R', 'H'];
  /** Records a sample may leave out: the first reading (a later refresh), the slots (no switch). */
  const optional = ['T0', 'L'];
  const sample: Partial<TopSample> & { processes: TopProcess[] } = { processes: [] };
  const firstProcesses: TopProcess[] = [];
  let firstUptime: number | undefined;
  let last = -1;
  for (const line of lines.slice(1, -1)) {
    const fields = line.split('\t');
    const tag = fields[0]!;
    if (tag === 'C' || tag === 'P') {
      // C belongs between T0 and T; P between S and D.
      const place = tag === 'C' ? order.indexOf('T0') : order.indexOf('S');
      if (last !== place) throw bad(line, 'out of place');
      const list = tag === 'C' ? firstProcesses : sample.processes;
      if (list.length >= MAX_PROCESSES) throw bad(line, `more than ${MAX_PROCESSES} processes`);
      list.push(processOf(line, fields));
      continue;
    }
    const index = order.indexOf(tag);
    if (index < 0) throw bad(line, 'unknown record');
    if (seen.has(tag) || index <= last) throw bad(line, 'out of place');
    seen.add(tag);
    last = index;
    const arity = { K: 3, T0: 2, T: 2, S: 2, D: 3, F: 4, L: 4, I: 2, M: 2, R: 2, H: 3 }[tag]!;
    if (fields.length !== arity) throw bad(line, 'fields');
    const [, a, b, c] = fields;
    switch (tag) {
      case 'K':
        sample.clockTicks = number(line, a)!;
        sample.pageSize = number(line, b)!;
        if (sample.clockTicks === 0 || sample.pageSize === 0) throw bad(line, 'zero');
        break;
      case 'T0':
        firstUptime = decimal(line, a);
        break;
      case 'T':
        sample.uptime = decimal(line, a);
        break;
      case 'S':
        sample.pid = number(line, a, true);
        break;
      case 'D':
        sample.fds = number(line, a, true);
        sample.connections = number(line, b, true);
        break;
      case 'F':
        sample.release = hex(line, a);
        sample.deployedAt = number(line, b, true);
        sample.hostNow = number(line, c)!;
        break;
      case 'L': {
        const slot = slotOf(line, a);
        const idle = slotOf(line, b);
        const idlePid = number(line, c, true);
        if (slot === undefined ? idle !== undefined : idle === undefined || idle === slot)
          throw bad(line, 'not two slots');
        if (idlePid !== undefined && idle === undefined) throw bad(line, 'a pid without a slot');
        if (slot !== undefined) sample.slot = slot;
        if (idle !== undefined && idlePid !== undefined)
          sample.idleSlot = { slot: idle, pid: idlePid };
        break;
      }
      case 'I':
        sample.initState = hex(line, a);
        break;
      case 'M':
        sample.monit = hex(line, a);
        break;
      case 'R':
        sample.restarts = number(line, a, true);
        break;
      case 'H': {
        const status = number(line, a, true);
        if (status !== undefined) sample.health = { status, ms: number(line, b, true) };
        else if (b !== '-') throw bad(line, 'a latency without a status');
        break;
      }
    }
  }
  for (const tag of order)
    if (!optional.includes(tag) && !seen.has(tag))
      throw new Error(`${host}: top output lacks ${tag}`);
  if (sample.pid === undefined && sample.processes.length > 0)
    throw new Error(`${host}: top output has processes without a pid`);
  if (
    sample.pid !== undefined &&
    sample.processes.length > 0 &&
    sample.processes[0]!.pid !== sample.pid
  )
    throw new Error(`${host}: top output's tree does not start at the service's pid`);
  return {
    ...(sample as TopSample),
    ...(firstUptime !== undefined && {
      first: { uptime: firstUptime, processes: firstProcesses },
    }),
  };
}

/** One host's line in the view (and its --json object). */
export interface TopRow {
  host: string;
  /** The init system's word, else running/stopped from the pid. */
  state: string;
  monit?: string;
  pid?: number;
  uptimeSeconds?: number;
  restarts?: number;
  /** Of one CPU: 250 is two and a half cores busy. undefined until two readings exist. */
  cpuPercent?: number;
  rssBytes?: number;
  threads?: number;
  fds?: number;
  connections?: number;
  health?: number;
  healthMs?: number;
  release?: string;
  deployedAt?: string;
  deployedAgoSeconds?: number;
  /** cutover: switch: the live slot, and the other slot's process when it runs too. */
  slot?: SlotName;
  idleSlot?: SlotName;
  idleSlotPid?: number;
}

/**
 * CPU % of the tree between an earlier reading and this one: each process's ticks since then
 * (one that started after the earlier reading counts from zero; one already running then but not
 * read, say a child that joined the tree, counts nothing rather than its whole life).
 */
export function cpuPercent(
  earlier: { uptime: number; processes: readonly TopProcess[] },
  sample: Pick<TopSample, 'uptime' | 'processes' | 'clockTicks'>,
): number | undefined {
  const seconds = sample.uptime - earlier.uptime;
  if (!(seconds > 0)) return undefined;
  const before = new Map(earlier.processes.map((p) => [`${p.pid}:${p.start}`, p.ticks]));
  let ticks = 0;
  for (const p of sample.processes) {
    const then = before.get(`${p.pid}:${p.start}`);
    const base = then ?? (p.start / sample.clockTicks >= earlier.uptime ? 0 : p.ticks);
    ticks += Math.max(0, p.ticks - base);
  }
  return Math.round((ticks / sample.clockTicks / seconds) * 1000) / 10;
}

export function topRow(host: string, sample: TopSample, previous?: TopSample): TopRow {
  const earlier = sample.first ?? previous;
  const cpu = earlier === undefined ? undefined : cpuPercent(earlier, sample);
  const root = sample.processes[0];
  const sum = (pick: (p: TopProcess) => number) =>
    root === undefined ? undefined : sample.processes.reduce((total, p) => total + pick(p), 0);
  const rssPages = sum((p) => p.rssPages);
  return {
    host,
    state: sample.initState ?? (sample.pid !== undefined ? 'running' : 'stopped'),
    ...(sample.monit !== undefined && { monit: sample.monit }),
    ...(sample.pid !== undefined && { pid: sample.pid }),
    ...(root !== undefined && {
      uptimeSeconds: Math.max(0, Math.floor(sample.uptime - root.start / sample.clockTicks)),
    }),
    ...(sample.restarts !== undefined && { restarts: sample.restarts }),
    ...(cpu !== undefined && root !== undefined && { cpuPercent: cpu }),
    ...(rssPages !== undefined && { rssBytes: rssPages * sample.pageSize }),
    ...(root !== undefined && { threads: sum((p) => p.threads) }),
    ...(sample.fds !== undefined && { fds: sample.fds }),
    ...(sample.connections !== undefined && { connections: sample.connections }),
    ...(sample.health !== undefined && { health: sample.health.status }),
    ...(sample.health?.ms !== undefined && { healthMs: sample.health.ms }),
    ...(sample.release !== undefined && { release: sample.release }),
    ...(sample.deployedAt !== undefined && {
      deployedAt: new Date(sample.deployedAt * 1000).toISOString(),
      deployedAgoSeconds: Math.max(0, sample.hostNow - sample.deployedAt),
    }),
    ...(sample.slot !== undefined && { slot: sample.slot }),
    ...(sample.idleSlot !== undefined && {
      idleSlot: sample.idleSlot.slot,
      idleSlotPid: sample.idleSlot.pid,
    }),
  };
}
