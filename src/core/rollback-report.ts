// What svc says about a deploy the host rolled back: why the new release failed (it exited, with
// its status when the init system knows it, or it did not answer in time), the service's own log
// lines from that start, and what is live now. Pure: it reads the apply script's protocol lines.
import { visible } from './visible.js';

export { visible };

/** How many of the log's lines are shown, and how long each may be. */
const MAX_LINES = 20;
const MAX_LINE = 300;

export interface RollbackReport {
  /** The release that is live after the rollback, when there is one. */
  live?: string;
  message: string;
}

/** The log's text: its last lines, each made visible and cut to a screen's width or so. */
export function logLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-MAX_LINES).map((line) => {
    const shown = visible(line);
    return shown.length > MAX_LINE ? `${shown.slice(0, MAX_LINE)}…` : shown;
  });
}

/** "exited (status 1) 0.4 s after start" from the host's `how` and tenths of a second. */
function exited(how: string, tenths: string): string {
  const seconds = /^\d+$/.test(tenths) ? ` ${(Number(tenths) / 10).toFixed(1)} s after start` : '';
  return `exited${/^(status|signal) \d+$/.test(how) ? ` (${how})` : ''}${seconds}`;
}

/**
 * `fields(tag)`: the tab-separated fields after a protocol tag, if the host sent it. `release`:
 * the new release; `previous`: the one live before the deploy; `log`: the service's log text.
 */
export function rollbackReport(
  fields: (tag: string) => string[] | undefined,
  release: string | undefined,
  previous: string | undefined,
  log: string,
): RollbackReport {
  const died = fields('EXITED');
  // Stryker disable next-line StringLiteral: any default works that exited() refuses as a status or a time, as '' is
  // A failure the script named (nginx did not take the site up, visitors do not reach it).
  const failed = fields('FAIL');
  const what = died
    ? exited(died[0] ?? '', died[1] ?? '')
    : failed
      ? `failed: ${visible(failed.join(' '))}`
      : 'failed its health check';
  // Stryker disable next-line ArrayDeclaration: a default whose first field is no known word reads as [] does (the switch's default)
  const back = fields('ROLLEDBACK') ?? [];
  const prev = previous ?? '?';
  let how: string;
  let live: string | undefined;
  switch (back[0]) {
    case 'healthy':
      how = `the previous release is serving again: release ${prev} is live and healthy`;
      live = previous;
      break;
    case 'exited':
      // Stryker disable next-line StringLiteral: any default works that exited() refuses as a status or a time, as '' is
      how = `rolled back to release ${prev}, but it ${exited(back[1] ?? '', back[2] ?? '')} too: it is NOT healthy`;
      live = previous;
      break;
    case 'none':
      how =
        'there was no previous release: the service was stopped and its unit, check and files removed';
      break;
    case 'none-running':
      how =
        'there was no previous release, and a process of the new one is still running (see svc status)';
      break;
    default:
      how = `rolled back to release ${prev}, but it did not become healthy within ${back[1] ?? '?'} s: it is NOT healthy either`;
      live = previous;
  }
  const lines = logLines(log);
  const tail =
    lines.length > 0
      ? [
          '',
          `    its log since this (re)start (last ${lines.length} line(s)):`,
          ...lines.map((line) => `    | ${line}`),
        ]
      : [];
  return {
    ...(live !== undefined && { live }),
    message: `release ${release ?? '?'} ${what}; ${how}${tail.join('\n')}`,
  };
}
