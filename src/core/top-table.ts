// `svc top`'s table: rows sorted by the key the user chose, cells formatted, and the bottom line
// naming hosts that stopped answering. Pure: the screen (ui/top-screen.ts) only draws the lines.
import type { TopRow } from './top-sample.js';
import { visible } from './visible.js';

export const SORT_KEYS = ['cpu', 'mem', 'restarts', 'host'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** The key that switches to each sort in the live view. */
export const SORT_KEY_OF: Readonly<Record<string, SortKey>> = {
  c: 'cpu',
  m: 'mem',
  r: 'restarts',
  h: 'host',
};

/** Largest first for numbers (an unknown value last), by name for host; ties by host name. */
export function sortRows(rows: readonly TopRow[], key: SortKey): TopRow[] {
  const value = (row: TopRow): number | undefined =>
    key === 'cpu' ? row.cpuPercent : key === 'mem' ? row.rssBytes : row.restarts;
  const byHost = (a: TopRow, b: TopRow) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
  return [...rows].sort((a, b) => {
    if (key !== 'host') {
      const x = value(a) ?? -1;
      const y = value(b) ?? -1;
      if (x !== y) return y - x;
    }
    return byHost(a, b);
  });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${value}B`
    : `${value < 10 ? value.toFixed(1) : Math.round(value)}${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return seconds < 172800 ? `${Math.floor(seconds / 3600)}h` : `${Math.floor(seconds / 86400)}d`;
}

const HEADER = [
  'HOST',
  'STATE',
  'MONIT',
  'PID',
  'UPTIME',
  'RESTARTS',
  'CPU%',
  'RSS',
  'THR',
  'FDS',
  'CONN',
  'OK',
  'MS',
  'RELEASE',
  'DEPLOYED',
];
/** Columns whose values line up on the right (numbers). */
const RIGHT = new Set([
  'PID',
  'UPTIME',
  'RESTARTS',
  'CPU%',
  'RSS',
  'THR',
  'FDS',
  'CONN',
  'OK',
  'MS',
]);

function cells(row: TopRow): string[] {
  const n = (value: number | undefined) => (value === undefined ? '-' : String(value));
  return [
    visible(row.host),
    visible(row.state),
    row.monit === undefined ? '-' : visible(row.monit),
    n(row.pid),
    row.uptimeSeconds === undefined ? '-' : formatDuration(row.uptimeSeconds),
    n(row.restarts),
    row.cpuPercent === undefined ? '-' : row.cpuPercent.toFixed(1),
    row.rssBytes === undefined ? '-' : formatBytes(row.rssBytes),
    n(row.threads),
    n(row.fds),
    n(row.connections),
    n(row.health),
    n(row.healthMs),
    row.release === undefined ? '-' : visible(row.release),
    row.deployedAgoSeconds === undefined ? '-' : `${formatDuration(row.deployedAgoSeconds)} ago`,
  ];
}

/** A host whose last refresh failed or has not come back, and since when (epoch ms). */
export interface Silent {
  host: string;
  reason: string;
  sinceMs: number;
}

/** The bottom line: hosts that stopped answering, each with why and for how long. */
export function silentLine(silent: readonly Silent[], nowMs: number): string | undefined {
  if (silent.length === 0) return undefined;
  const parts = [...silent]
    .sort((a, b) => (a.host < b.host ? -1 : 1))
    .map(
      (s) =>
        `${visible(s.host)} (${formatDuration(Math.max(0, Math.round((nowMs - s.sinceMs) / 1000)))}: ${visible(s.reason)})`,
    );
  return `not answering: ${parts.join(', ')}`;
}

/** The table's lines (header first), columns padded to the widest cell. */
export function topTable(rows: readonly TopRow[], key: SortKey): string[] {
  const body = sortRows(rows, key).map(cells);
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...body.map((row) => row[column]!.length)),
  );
  return [HEADER, ...body].map((row) =>
    row
      .map((cell, column) =>
        RIGHT.has(HEADER[column]!) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd(),
  );
}

/**
 * cutover: switch: one line per host whose other slot's process runs too (kept warm for a quick
 * switch back, or still draining what it served before the switch), under the table.
 */
export function slotNotes(rows: readonly TopRow[]): string[] {
  return sortRows(rows, 'host').flatMap((row) =>
    row.slot !== undefined && row.idleSlot !== undefined && row.idleSlotPid !== undefined
      ? [
          `${visible(row.host)}: slot ${row.slot} is live; slot ${row.idleSlot} runs too (pid ${row.idleSlotPid}: kept warm, or draining)`,
        ]
      : [],
  );
}
