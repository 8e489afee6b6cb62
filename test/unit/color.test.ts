import { describe, expect, it } from 'vitest';
import { colorEnabled, palette } from '../../src/ui/color.js';

const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
const pipe = { isTTY: false } as unknown as NodeJS.WritableStream;

describe('colorEnabled', () => {
  it('colours a terminal', () => {
    expect(colorEnabled(tty, { TERM: 'xterm' })).toBe(true);
  });

  it('honours NO_COLOR, whatever its value', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: 'yes' })).toBe(false);
  });

  it('never colours a pipe or a dumb terminal', () => {
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('a disabled palette returns text unchanged', () => {
    expect(palette(false).red('x')).toBe('x');
    expect(palette(true).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
});
