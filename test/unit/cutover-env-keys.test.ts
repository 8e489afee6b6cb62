// cutover: switch: each slot's unit sets HOST=127.0.0.1 and PORT=%i, and the env file it reads
// (EnvironmentFile=) would win over both. So HOST and PORT are refused wherever the env file gets
// its keys from: svc.yaml env:, a group's env:, and secrets:. A HOST from a group's env: would
// open each slot beside nginx; a PORT would put both slots on one port.
import { describe, expect, it } from 'vitest';
import { formatProblems, validateManifest, type Manifest } from '../../src/core/manifest.js';
import { manifest } from '../helpers/plan-fixtures.js';

const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const GROUP = { hosts: { web1: { address: '10.0.0.1' } } };

function lines(change: Record<string, unknown>): string[] {
  const result = validateManifest({ ...SWITCH, ...change });
  return result.ok ? [] : formatProblems('svc.yaml', result.problems);
}

describe('cutover: switch: HOST and PORT are svc’s, wherever the env file would get them', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'other keys in a group env: and secrets:',
      { hosts: { prod: { ...GROUP, env: { A: '1' } } }, secrets: ['DB_PASSWORD'] },
      [],
    ],
    [
      'HOST in a group env:',
      { hosts: { prod: { ...GROUP, env: { HOST: '0.0.0.0' } } } },
      [
        'svc.yaml: hosts.prod.env.HOST: is set by svc for each slot under cutover: switch; remove it from hosts.prod.env:',
      ],
    ],
    [
      'PORT in a group env:',
      { hosts: { prod: { ...GROUP, env: { PORT: '3000' } } } },
      [
        'svc.yaml: hosts.prod.env.PORT: is set by svc for each slot under cutover: switch; remove it from hosts.prod.env:',
      ],
    ],
    [
      'PORT and HOST as secrets',
      { secrets: ['DB_PASSWORD', 'PORT', 'HOST'] },
      [
        'svc.yaml: secrets.1: PORT is set by svc for each slot under cutover: switch; remove it from secrets:',
        'svc.yaml: secrets.2: HOST is set by svc for each slot under cutover: switch; remove it from secrets:',
      ],
    ],
  ])('%s', (_, change, expected) => {
    expect(lines(change)).toStrictEqual(expected);
  });

  it('under cutover: restart a group may set HOST (the process listens as told)', () => {
    expect(
      lines({
        cutover: 'restart',
        monit: true,
        hosts: { prod: { ...GROUP, env: { HOST: '0.0.0.0' } } },
      }),
    ).toStrictEqual([]);
  });
});
