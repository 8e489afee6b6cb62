// `svc top`'s hosts: one SSH connection each for as long as top runs (opened again only when it
// was lost), one reader on it (top-reader.ts: the script sent once), and one request to it per
// host per refresh. A host whose last sample is still coming is not asked again (refreshes never
// pile up on a slow host); one that fails, or has not answered for two intervals, is named on the
// view's bottom line until it answers again.
import { connectProblem } from '../core/connect-problem.js';
import type { Manifest } from '../core/manifest.js';
import type { HostSpec } from '../core/targets.js';
import { parseTopOutput, topRow, type TopRow, type TopSample } from '../core/top-sample.js';
import { TOP_REQUEST, topReader } from '../core/top-script.js';
import type { Silent } from '../core/top-table.js';
import { HostConnection, type SshOptions } from './ssh.js';
import { TopReader } from './top-reader.js';

interface HostState {
  host: HostSpec;
  connection?: HostConnection;
  reader?: TopReader;
  inflight?: Promise<void>;
  inflightSinceMs?: number;
  sample?: TopSample;
  row?: TopRow;
  error?: string;
  errorSinceMs?: number;
}

/**
 * What the refreshes cost: readers started (each sends the script once), requests (one per host
 * per refresh), bytes sent (scripts and requests) and received (samples) (bench/top.mjs).
 */
export interface TopTraffic {
  readers: number;
  commands: number;
  sentBytes: number;
  receivedBytes: number;
}

export class TopHosts {
  private readonly states: HostState[];
  private readonly script: string;
  /** The reader's script: sent once per host and connection. */
  get scriptBytes(): number {
    return Buffer.byteLength(this.script);
  }
  private closed = false;
  readonly traffic: TopTraffic = { readers: 0, commands: 0, sentBytes: 0, receivedBytes: 0 };

  constructor(
    hosts: readonly HostSpec[],
    manifest: Manifest,
    private readonly options: SshOptions,
    private readonly commandTimeoutMs: number,
  ) {
    this.states = hosts.map((host) => ({ host }));
    this.script = topReader(manifest);
  }

  /**
   * Starts a refresh on every host not still busy with the last one; resolves when all have
   * answered or after waitMs, whichever comes first (a late answer still lands in its row).
   */
  async refresh(waitMs: number): Promise<void> {
    const now = Date.now();
    for (const state of this.states) {
      if (state.inflight !== undefined) continue;
      state.inflightSinceMs = now;
      state.inflight = this.refreshHost(state).finally(() => {
        state.inflight = undefined;
        state.inflightSinceMs = undefined;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.states.map((state) => state.inflight)),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  private async refreshHost(state: HostState): Promise<void> {
    const { host } = state;
    try {
      if (state.connection === undefined || state.connection.lost) {
        state.reader?.close();
        state.reader = undefined;
        state.connection?.close();
        state.connection = undefined;
        state.connection = await HostConnection.open(host, this.options);
        if (this.closed) state.connection.close();
      }
      if (state.reader === undefined || state.reader.ended !== undefined) {
        state.reader?.close();
        state.reader = new TopReader(
          state.connection,
          this.script,
          (bytes) => (this.traffic.receivedBytes += bytes),
        );
        this.traffic.readers++;
        this.traffic.sentBytes += Buffer.byteLength(this.script);
      }
      // The first reading of a host measures CPU within the sample (1 s); later ones against
      // the previous sample, so a refresh costs the host no waiting.
      const first = state.sample === undefined;
      this.traffic.commands++;
      this.traffic.sentBytes += (first ? TOP_REQUEST.first : TOP_REQUEST.next).length;
      const output = await state.reader.sample(first, this.commandTimeoutMs);
      const sample = parseTopOutput(output, host.name);
      state.row = topRow(host.name, sample, state.sample);
      state.sample = sample;
      state.error = undefined;
      state.errorSinceMs = undefined;
    } catch (error) {
      const message = (error as Error).message;
      const problem = connectProblem(message);
      state.error =
        problem === undefined
          ? message.replace(`${host.name}: `, '')
          : `${host.address}:${host.port}: ${problem}`;
      state.errorSinceMs ??= Date.now();
      // A failed sample is no base for the next CPU difference.
      state.sample = undefined;
    }
  }

  /** The answering hosts' rows. */
  rows(): TopRow[] {
    return this.states.flatMap((state) =>
      state.row !== undefined && state.error === undefined ? [state.row] : [],
    );
  }

  /** Hosts whose last refresh failed, or whose command has run for longer than lateMs. */
  silent(nowMs: number, lateMs: number): Silent[] {
    return this.states.flatMap((state): Silent[] => {
      if (state.error !== undefined)
        return [{ host: state.host.name, reason: state.error, sinceMs: state.errorSinceMs! }];
      if (state.inflightSinceMs !== undefined && nowMs - state.inflightSinceMs > lateMs)
        return [{ host: state.host.name, reason: 'no answer', sinceMs: state.inflightSinceMs }];
      return [];
    });
  }

  close(): void {
    this.closed = true;
    for (const state of this.states) {
      state.reader?.close();
      state.connection?.close();
    }
  }
}
