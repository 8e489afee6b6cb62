// What a bounded load (load.ts) saw of one cutover gap: the failed samples, what kind each was, and
// the window they span. A gap in which nothing listens on the port may only refuse new
// connections, or reset the ones the stopping process still held: anything else (a status other
// than 200, a timeout, a hang-up with no code) is not a gap's doing.
import type { Sample } from './load.js';

/** A refused or reset connection, as load.ts names it (maybe sent again, maybe on a reused one). */
const GAP_ERROR = /^(ECONNREFUSED|ECONNRESET)( \(sent again\))?( \(reused connection\))?$/;

export interface GapFailures {
  failed: Sample[];
  /** Each distinct failure, as the error or `status N`. */
  kinds: string[];
  /** The kinds that are neither a refused nor a reset connection. */
  unexpected: string[];
  /** From the first failed request's start to the last one's end, in ms (0 when none failed). */
  windowMs: number;
}

export function gapFailures(samples: readonly Sample[]): GapFailures {
  const failed = samples.filter((sample) => sample.error !== undefined || sample.status !== 200);
  const kinds = [...new Set(failed.map((sample) => sample.error ?? `status ${sample.status}`))];
  const windowMs =
    failed.length === 0
      ? 0
      : Math.max(...failed.map((sample) => sample.endedAt)) -
        Math.min(...failed.map((sample) => sample.startedAt));
  return { failed, kinds, unexpected: kinds.filter((kind) => !GAP_ERROR.test(kind)), windowMs };
}
