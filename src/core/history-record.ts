// A service's history on a host: one line per deploy, rollback, start, stop, restart and forced
// unlock, appended by the script that did the work (history-script.ts) to a root-only file. This
// file holds the line format, its strict parser (a line that does not parse is skipped and
// counted, never guessed at), the parser of what `svc history` reads back, and the merge of
// several hosts' records by time. Pure.
//
// A line, tab-separated, text fields sanitised by the writer so that no field can hold a tab or
// a control character:
//
//   1  AT  ACTION  OPERATOR  VERSION  BEFORE  AFTER  RESULT  SECONDS  REASON
//
// AT: UTC, 2026-12-06T08:01:02Z (when the action began); BEFORE/AFTER: the release `current`
// pointed at (12 hex digits, `-` none, `?` something that is not a release; AFTER `?` also when
// the run was killed before it could say); SECONDS: its duration (`-` when it never ended).
import { CONTROL } from './visible.js';

export const HISTORY_FORMAT = '1';

export const HISTORY_ACTIONS = [
  'deploy',
  'rollback',
  'start',
  'stop',
  'restart',
  'unlock',
] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

/**
 * deployed: the new state is live (and healthy); unchanged: a start or stop that found the
 * service so already; done: a restart, start, stop or forced unlock that did what it was asked;
 * rolled back: the health gate failed and the previous release is back; failed: with its reason;
 * interrupted: Ctrl-C, svc unlock --force, or a run killed before it could record its end.
 * running: only in what `svc history` reads back, for a run still going on the host.
 */
export const HISTORY_RESULTS = [
  'deployed',
  'unchanged',
  'done',
  'rolled back',
  'failed',
  'interrupted',
  'running',
] as const;
export type HistoryResult = (typeof HISTORY_RESULTS)[number];

export interface HistoryRecord {
  at: string;
  action: HistoryAction;
  operator: string;
  svcVersion: string;
  before: string;
  after: string;
  result: HistoryResult;
  /** Absent for a run that never ended (killed, or still running). */
  seconds?: number;
  /** One line: why it failed, was rolled back or interrupted; empty otherwise. */
  reason: string;
}

/** Who acts, as recorded: the local user and machine, and svc's version. */
export interface HistoryWho {
  operator: string;
  version: string;
}

export const UNKNOWN_WHO: HistoryWho = { operator: 'unknown', version: 'unknown' };

const OPERATOR = /^[A-Za-z0-9._@+-]{1,64}$/;
const VERSION = /^[A-Za-z0-9.+-]{1,32}$/;
const AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const RELEASE = /^(?:[0-9a-f]{12}|-|\?)$/;
/** What the host keeps of a reason (bytes); the parser allows the same in characters. */
export const REASON_MAX = 300;

/**
 * A UTC time to the second that names a real instant: Date.parse alone takes 2026-02-31 for
 * March 3rd and 24:00:00 for the next day, so the text must be what that instant prints as.
 */
function isUtcSecond(at: string): boolean {
  if (!AT.test(at)) return false;
  const time = Date.parse(at);
  return !Number.isNaN(time) && new Date(time).toISOString() === `${at.slice(0, 19)}.000Z`;
}

/** A name reduced to a fixed safe charset and length: what another shell could misread is `_`. */
function sanitise(text: string, allowed: RegExp, max: number): string {
  const kept = [...text]
    .map((char) => (allowed.test(char) ? char : '_'))
    .join('')
    .slice(0, max);
  return kept === '' ? 'unknown' : kept;
}

/** `user@machine` as recorded: letters, digits, `._@+-`, at most 64 characters. */
export function historyOperator(user: string, machine: string): string {
  return sanitise(`${user}@${machine}`, /^[A-Za-z0-9._@+-]$/, 64);
}

/** svc's version as recorded: letters, digits, `.+-`, at most 32 characters. */
export function historyVersion(version: string): string {
  return sanitise(version, /^[A-Za-z0-9.+-]$/, 32);
}

/** One record line, or undefined when it is not one (another format, corrupt, hostile). */
export function parseHistoryLine(line: string): HistoryRecord | undefined {
  const fields = line.split('\t');
  if (fields.length !== 10 || fields[0] !== HISTORY_FORMAT) return undefined;
  const [, at, action, operator, svcVersion, before, after, result, seconds, reason] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (
    !isUtcSecond(at) ||
    !(HISTORY_ACTIONS as readonly string[]).includes(action) ||
    !OPERATOR.test(operator) ||
    !VERSION.test(svcVersion) ||
    !RELEASE.test(before) ||
    !RELEASE.test(after) ||
    // A record on the host never says running: only the reader does, of a run in progress.
    !(HISTORY_RESULTS as readonly string[]).includes(result) ||
    result === 'running' ||
    !/^(?:\d{1,9}|-)$/.test(seconds) ||
    reason.length > REASON_MAX ||
    CONTROL.test(reason)
  )
    return undefined;
  return {
    at,
    action: action as HistoryAction,
    operator,
    svcVersion,
    before,
    after,
    result: result as HistoryResult,
    ...(seconds !== '-' && { seconds: Number(seconds) }),
    reason,
  };
}

export interface HostHistory {
  records: HistoryRecord[];
  /** Lines that did not parse: skipped, and said. */
  skipped: number;
  /** The host's clock when it answered (seconds since the epoch), to measure its skew. */
  clock?: number;
}

/**
 * What historyReadScript prints: `B svc-history 1`, `C SECONDS` (the host's clock), then `R line`
 * per record (oldest first) and `P alive line` per run that has not recorded its end (alive 1:
 * still running; 0: killed, and not yet folded into the file), then `E svc-history`. Without both markers the output was cut
 * short: an error, not a shorter history.
 */
export function parseHistoryOutput(output: string, host: string): HostHistory {
  const lines = output.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== 'B\tsvc-history\t1' || lines.at(-1) !== 'E\tsvc-history')
    throw new Error(`${host}: the history output is cut short or not svc's`);
  const records: HistoryRecord[] = [];
  let skipped = 0;
  let clock: number | undefined;
  const body = lines.slice(1, -1);
  if (body[0] !== undefined && /^C\t\d{1,12}$/.test(body[0]))
    clock = Number(body.shift()!.slice(2));
  for (const line of body) {
    let record: HistoryRecord | undefined;
    if (line.startsWith('R\t')) record = parseHistoryLine(line.slice(2));
    else if (line.startsWith('P\t1\t') || line.startsWith('P\t0\t')) {
      record = parseHistoryLine(line.slice(4));
      if (record && line[2] === '1') record = { ...record, result: 'running', after: '?' };
    }
    if (record) records.push(record);
    else skipped += 1;
  }
  return { records, skipped, ...(clock !== undefined && { clock }) };
}

export interface HostRecord extends HistoryRecord {
  host: string;
}

/** Seconds of skew between a host's clock and this machine's that are said and corrected. */
export const CLOCK_TOLERANCE_SECONDS = 2;

/**
 * How far a host's clock is ahead of this machine's (negative: behind), in whole seconds, from
 * the time it printed (whole seconds, `C`) while svc waited from `sentMs` to `receivedMs`: 0 when
 * within what that measure cannot tell apart (half the wait, the second it truncated) and the
 * tolerance.
 */
export function clockOffset(hostSeconds: number, sentMs: number, receivedMs: number): number {
  const offset = hostSeconds + 0.5 - (sentMs + receivedMs) / 2000;
  const slack = (receivedMs - sentMs) / 2000 + 0.5 + CLOCK_TOLERANCE_SECONDS;
  return Math.abs(offset) <= slack ? 0 : Math.round(offset);
}

/**
 * Every host's records in one list, oldest first, the last `limit` of them. Each host's records
 * stay in the order its file has them, which is the order they happened: a clock set back on the
 * host must not move a record before one it followed. Between hosts, by time on this machine's
 * clock (`offsetSeconds`: how far the host's clock is ahead, clockOffset), then host name: a record
 * is placed at the latest time its host had recorded so far.
 */
export function mergeHistories(
  hosts: readonly { host: string; records: readonly HistoryRecord[]; offsetSeconds?: number }[],
  limit: number,
): HostRecord[] {
  const all = hosts.flatMap(({ host, records, offsetSeconds = 0 }) => {
    let latest = -Infinity;
    return records.map((record, index) => {
      latest = Math.max(latest, Date.parse(record.at) / 1000 - offsetSeconds);
      return { record: { host, ...record }, index, key: latest };
    });
  });
  all.sort(
    (a, b) => a.key - b.key || a.record.host.localeCompare(b.record.host) || a.index - b.index,
  );
  return all.slice(Math.max(0, all.length - limit)).map(({ record }) => record);
}

/**
 * The last deploy or rollback of a host's records that changed something, for `svc status`: a
 * deploy that found nothing to change (`unchanged`) made the host no different.
 */
export function lastDeploy(records: readonly HistoryRecord[]): HistoryRecord | undefined {
  return records
    .filter(
      (record) =>
        (record.action === 'deploy' || record.action === 'rollback') &&
        record.result !== 'unchanged',
    )
    .at(-1);
}
