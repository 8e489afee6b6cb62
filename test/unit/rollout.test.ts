// Rolling deploys: batches, --parallel inside a batch, --max-fail, with an apply that is data.
import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../src/remote/apply-host.js';
import { batches, parseCount, rollout } from '../../src/remote/rollout.js';

const host = (name: string) => ({ host: { name } });
const result = (name: string, status: HostResult['status']): HostResult => ({
  host: name,
  status,
  summary: { create: 0, update: 0, delete: 0, restart: 0 },
  seconds: 0,
});

describe('parseCount', () => {
  it('reads N and N%', () => {
    expect(parseCount('--batch', '3', 10, 10, 1)).toBe(3);
    expect(parseCount('--batch', '25%', 10, 10, 1)).toBe(2);
    expect(parseCount('--batch', '1%', 10, 10, 1)).toBe(1);
    expect(parseCount('--max-fail', '0', 10, 10, 0)).toBe(0);
    expect(parseCount('--batch', undefined, 10, 10, 1)).toBe(10);
  });

  it('refuses anything else, naming the flag', () => {
    expect(() => parseCount('--batch', 'ten', 10, 10, 1)).toThrow(
      '--batch: must be a whole number or a percentage such as 25% (got "ten")',
    );
    expect(() => parseCount('--max-fail', '120%', 10, 10, 0)).toThrow('--max-fail');
  });
});

describe('rollout', () => {
  it('applies batch after batch, never two batches at once', async () => {
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const rows = await rollout(
      ['a', 'b', 'c', 'd', 'e'].map(host),
      async ({ host: { name } }) => {
        running++;
        most = Math.max(most, running);
        order.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`end ${name}`);
        running--;
        return result(name, 'deployed');
      },
      { batchSize: 2, parallel: 10, maxFail: 5 },
    );
    expect(rows.map((row) => row.status)).toEqual([
      'deployed',
      'deployed',
      'deployed',
      'deployed',
      'deployed',
    ]);
    expect(most).toBe(2);
    expect(order.indexOf('start c')).toBeGreaterThan(order.indexOf('end b'));
    expect(order.indexOf('start c')).toBeGreaterThan(order.indexOf('end a'));
  });

  it('skips the remaining batches once more than --max-fail hosts failed', async () => {
    const rows = await rollout(
      ['a', 'b', 'c', 'd'].map(host),
      async ({ host: { name } }) =>
        result(name, name === 'a' || name === 'b' ? 'rolled back' : 'deployed'),
      {
        batchSize: 2,
        parallel: 2,
        maxFail: 1,
      },
    );
    expect(rows).toMatchObject([
      { host: 'a', status: 'rolled back' },
      { host: 'b', status: 'rolled back' },
      { host: 'c', status: 'skipped', message: 'not started: more than 1 host(s) failed' },
      { host: 'd', status: 'skipped', message: 'not started: more than 1 host(s) failed' },
    ]);
  });

  it('never runs more hosts at once than failures are left to spend', async () => {
    const started: string[] = [];
    const rows = await rollout(
      ['down1', 'down2', 'ok3'].map(host),
      async ({ host: { name } }) => {
        started.push(name);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return result(name, name.startsWith('down') ? 'failed' : 'deployed');
      },
      { batchSize: 3, parallel: 10, maxFail: 0 },
    );
    expect(started).toEqual(['down1']);
    expect(rows.map((row) => row.status)).toEqual(['failed', 'skipped', 'skipped']);
  });

  it('counts hosts whose plan failed from the start', async () => {
    const started: string[] = [];
    const rows = await rollout(
      ['down1', 'down2', 'ok3'].map(host),
      async ({ host: { name } }) => {
        started.push(name);
        return result(name, name.startsWith('down') ? 'failed' : 'deployed');
      },
      {
        batchSize: 3,
        parallel: 10,
        maxFail: 1,
        failedBefore: ({ host: { name } }) => name.startsWith('down'),
      },
    );
    expect(started).not.toContain('ok3');
    expect(rows.map((row) => row.status)).toEqual(['failed', 'failed', 'skipped']);
  });

  it('checks the budget before each host, also within a batch', async () => {
    const started: string[] = [];
    const rows = await rollout(
      ['a', 'b', 'c', 'd'].map(host),
      async ({ host: { name } }) => {
        started.push(name);
        return result(name, name === 'a' || name === 'b' ? 'failed' : 'deployed');
      },
      { batchSize: 4, parallel: 1, maxFail: 1 },
    );
    expect(started).toEqual(['a', 'b']);
    expect(rows.map((row) => row.status)).toEqual(['failed', 'failed', 'skipped', 'skipped']);
  });

  it('splits evenly, the last batch taking the rest', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('rollout after a host whose release commands failed', () => {
  it('starts no other host, in this batch or the next, whatever --max-fail allows', async () => {
    const started: string[] = [];
    const rows = await rollout(
      ['a', 'b', 'c', 'd'].map(host),
      async ({ host: { name } }) => {
        started.push(name);
        return name === 'a'
          ? { ...result(name, 'failed'), releaseFailed: true }
          : result(name, 'deployed');
      },
      { batchSize: 2, parallel: 1, maxFail: 10 },
    );
    expect(started).toEqual(['a']);
    expect(rows).toEqual([
      { ...result('a', 'failed'), releaseFailed: true },
      { host: 'b', status: 'skipped', message: 'not started: the release commands failed on a' },
      { host: 'c', status: 'skipped', message: 'not started: the release commands failed on a' },
      { host: 'd', status: 'skipped', message: 'not started: the release commands failed on a' },
    ]);
  });

  it('an ordinary failure within --max-fail stops nothing', async () => {
    const rows = await rollout(
      ['a', 'b'].map(host),
      async ({ host: { name } }) => result(name, name === 'a' ? 'failed' : 'deployed'),
      { batchSize: 1, parallel: 1, maxFail: 10 },
    );
    expect(rows.map((row) => row.status)).toEqual(['failed', 'deployed']);
  });
});
