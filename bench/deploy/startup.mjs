// Start-up: how long a command takes before it does its own work, against `node -e 0` (Node's
// own start-up, the floor), measured side by side in rounds (each round runs every command once,
// so drift on the machine hits them alike). `svc --version` and `svc --help` have a target
// (issue 14: within 1.5x of node -e 0); `svc plan --help` (plan's modules loaded, no host
// contacted) and `svc new --dry-run` (a project rendered, nothing written) are reported beside.
import { join } from 'node:path';
import { quiet } from './machine.mjs';
import { SVC } from './options.mjs';
import { must, run, svcEnv } from './processes.mjs';
import { median } from './report.mjs';

const TARGET_RATIO = 1.5;

export async function startupTimes(work, rounds) {
  const commands = [
    { label: 'node -e 0', file: process.execPath, args: ['-e', '0'] },
    { label: 'svc --version', file: SVC, args: ['--version'], target: true },
    { label: 'svc --help', file: SVC, args: ['--help'], target: true },
    { label: 'svc plan --help', file: SVC, args: ['plan', '--help'] },
    {
      label: 'svc new --dry-run',
      file: SVC,
      args: ['new', 'api-startup', '--yes', '--dry-run', '--dir', join(work, 'startup')],
    },
  ];
  const times = commands.map(() => []);
  const calm = await quiet();
  for (let round = 0; round < rounds; round++) {
    for (const [index, command] of commands.entries()) {
      const result = must(
        await run(command.file, command.args, { env: svcEnv(work) }),
        command.label,
      );
      times[index].push(result.ms);
    }
  }
  const floor = median(times[0]);
  return {
    calm,
    rounds,
    rows: commands.map((command, index) => {
      const m = median(times[index]);
      return {
        command: command.label,
        median: +(m / 1000).toFixed(3),
        min: +(Math.min(...times[index]) / 1000).toFixed(3),
        ratio: +(m / floor).toFixed(2),
        ...(command.target && { met: m / floor <= TARGET_RATIO }),
      };
    }),
  };
}

export function formatStartup(startup) {
  const lines = [
    `\nstart-up: wall seconds of the process, median (min) of ${startup.rounds} rounds${startup.calm ? '' : ' (the machine was busy: suspect)'}`,
    ...startup.rows.map(
      (r) =>
        `  ${r.command.padEnd(18)} ${r.median.toFixed(3)} s (${r.min.toFixed(3)})  ${r.ratio.toFixed(2)}x node -e 0` +
        (r.met === undefined ? '' : `  target <= ${TARGET_RATIO}x: ${r.met ? 'met' : 'MISSED'}`),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
