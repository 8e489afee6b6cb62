// The eBPF tracer's syscall names (src/core/syscall-names.ts) against the header the kernel's
// table is built from, as installed on this machine (Debian's linux-libc-dev): every number it
// defines has that name, and svc names no number the header leaves out.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { syscallName } from '../../src/core/syscall-names.js';

const HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

describe('syscallName', () => {
  it('names every x86_64 call as <asm/unistd_64.h> does, and no other number', () => {
    const defined = new Map<number, string>();
    for (const match of readFileSync(HEADER, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm))
      defined.set(Number(match[2]), match[1]!);
    expect(defined.size).toBeGreaterThan(300);
    const highest = Math.max(...defined.keys());
    for (let nr = 0; nr <= highest + 50; nr++)
      expect(syscallName('x86_64', nr), String(nr)).toBe(defined.get(nr) ?? `syscall_${nr}`);
  });

  it('shows the number for a machine it has no table for', () => {
    expect(syscallName('aarch64', 63)).toBe('syscall_63');
    expect(syscallName('', 0)).toBe('syscall_0');
    // A machine name from the host is data, never a property of svc's own objects.
    expect(syscallName('constructor', 1)).toBe('syscall_1');
    expect(syscallName('__proto__', 1)).toBe('syscall_1');
  });
});
