// The live view's terminal: the alternate screen with the cursor hidden and the keyboard in raw
// mode while `svc top` runs, and everything put back exactly when it ends, however it ends (q,
// Ctrl-C, SIGTERM, an error, or process exit as the last resort).
import type { ReadStream, WriteStream } from 'node:tty';

const ENTER = '\u001b[?1049h\u001b[?25l';
const LEAVE = '\u001b[?25h\u001b[?1049l';
const HOME = '\u001b[H';
const CLEAR_LINE = '\u001b[K';
const CLEAR_BELOW = '\u001b[J';

export class TopScreen {
  private active = false;
  private readonly onData = (chunk: Buffer) => {
    for (const key of chunk.toString('utf8')) this.onKey(key);
  };
  private readonly onExit = () => this.leave();

  constructor(
    private readonly output: WriteStream,
    private readonly input: ReadStream | undefined,
    private readonly onKey: (key: string) => void,
  ) {}

  enter(): void {
    if (this.active) return;
    this.active = true;
    process.once('exit', this.onExit);
    this.output.write(ENTER);
    if (this.input?.isTTY) {
      this.input.setRawMode(true);
      this.input.on('data', this.onData);
      this.input.resume();
    }
  }

  /**
   * Draws the lines from the top-left corner, each cut to the terminal's width; the last line
   * (the hosts that stopped answering) goes on the screen's last row.
   */
  draw(lines: readonly string[], bottom: string | undefined): void {
    if (!this.active) return;
    const width = this.output.columns || 80;
    const height = this.output.rows || 24;
    const shown = lines.slice(0, Math.max(1, height - 1));
    const padding = Array.from({ length: Math.max(0, height - 1 - shown.length) }, () => '');
    const all = [...shown, ...padding, bottom ?? ''];
    this.output.write(
      HOME + all.map((line) => line.slice(0, width) + CLEAR_LINE).join('\r\n') + CLEAR_BELOW,
    );
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.onExit);
    if (this.input?.isTTY) {
      this.input.off('data', this.onData);
      this.input.setRawMode(false);
      this.input.pause();
    }
    this.output.write(LEAVE);
  }
}
