// `svc top`'s hosts: one SSH connection each for as long as top runs (opened again only when it
// was lost), and one remote command per host per refresh. A host whose last command is still
// running is not asked again (refreshes never pile up on a slow host); one that fails, or has not
// answered for two intervals, is named on the view's bottom line until it answers again.
import { connectProblem } from '../core/connect-problem.js';
import type { Manifest } from '../core/manifest.js';
import type { HostSpec } from '../core/targets.js';
import { parseTopOutput, topRow, type TopRow, type TopSample } from '../core/top-sample.js';
import { topScript } from '../core/top-script.js';
import type { Silent } from '../core/top-table.js';
import { HostConnection, type SshOptions } from './ssh.js';

interface HostState {
  host: HostSpec;
  connection?: HostConnection;
  inflight?: Promise<void>;
  inflightSinceMs?: number;
  sample?: TopSample;
  row?: TopRow;
  error?: string;
  errorSinceMs?: number;
}

/** What a refresh cost: bytes of script sent and of output received (bench/top.mjs). */
export interface TopTraffic {
  commands: number;
  sentBytes: number;
  receivedBytes: number;
}

export class TopHosts {
  private readonly states: HostState[];
  /** The script without a first CPU reading (a previous sample gives it) and with one (1 s). */
  private readonly scripts: { again: string; first: string };
  private closed = false;
  readonly traffic: TopTraffic = { commands: 0, sentBytes: 0, receivedBytes: 0 };

  constructor(
    hosts: readonly HostSpec[],
    manifest: Manifest,
    private readonly options: SshOptions,
    private readonly commandTimeoutMs: number,
  ) {
    this.states = hosts.map((host) => ({ host }));
    this.scripts = {
      again: topScript(manifest, { gap: 0 }),
      first: topScript(manifest, { gap: 1 }),
    };
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
        state.connection?.close();
        state.connection = undefined;
        state.connection = await HostConnection.open(host, this.options);
        if (this.closed) state.connection.close();
      }
      // The first reading of a host measures CPU within the command (1 s); later ones against
      // the previous sample, so a refresh costs the host no waiting.
      const script = state.sample === undefined ? this.scripts.first : this.scripts.again;
      this.traffic.commands++;
      this.traffic.sentBytes += script.length;
      const result = await state.connection.run(script, 'reading top', {
        timeoutMs: this.commandTimeoutMs,
      });
      this.traffic.receivedBytes += result.stdout.length + result.stderr.length;
      if (result.code !== 0) {
        const said = result.stderr.toString('utf8').trim().split('\n').at(-1);
        throw new Error(`the top script failed (exit ${result.code})${said ? `: ${said}` : ''}`);
      }
      const sample = parseTopOutput(result.stdout.toString('utf8'), host.name);
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
    for (const state of this.states) state.connection?.close();
  }
}
