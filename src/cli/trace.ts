// `svc trace TARGET [--seconds N] [--host H]`: what the service's processes are doing, from a
// tracer attached for N seconds on each host (core/trace-script.ts: bpftrace, else strace). svc holds
// the command's stdin open while it runs: Ctrl-C, svc killed or the connection lost end it, and
// the host then detaches the tracer (the script's watcher); N seconds bound it regardless.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { connectProblem } from '../core/connect-problem.js';
import { EXIT, SvcError } from '../core/errors.js';
import { resolveTarget, type HostSpec } from '../core/targets.js';
import { parseTraceOutput, traceText, type TraceReport } from '../core/trace-report.js';
import { traceScript } from '../core/trace-script.js';
import { visible } from '../core/visible.js';
import { readManifestFile } from '../project/read.js';
import { mapLimit } from '../remote/plan-hosts.js';
import { sshOptions, targetContext, type ConnectFlags } from '../remote/run-context.js';
import { ConnectionPool } from '../remote/ssh.js';
import { checkBareWords } from '../remote/target-words.js';

interface Flags extends ConnectFlags {
  dir?: string;
  seconds?: string;
  host?: string;
  json?: boolean;
}

type Outcome = { host: HostSpec; report?: TraceReport; error?: string };

function secondsOf(value: string | undefined): number {
  if (value === undefined) return 5;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 60)
    throw new SvcError(
      `--seconds: must be a whole number from 1 to 60 (got ${JSON.stringify(value)})`,
    );
  return Number(value);
}

export function traceCommand(): Command {
  return new Command('trace')
    .description(
      "attach a tracer to the service's processes for a few seconds: system calls (count, errors, time), what it waits on, the files and sockets it uses",
    )
    .argument('<target>', 'hosts, as for svc plan')
    .option('--dir <dir>', 'the project directory (default: .)')
    .option('--accept-new', "record an unknown host's key in ~/.ssh/known_hosts")
    .option('--seconds <n>', 'how long to trace, 1 to 60 (default 5)')
    .option('--host <name>', "trace only this one of TARGET's hosts")
    .option('--json', 'one JSON document')
    .action(async (target: string, flags: Flags) => {
      const seconds = secondsOf(flags.seconds);
      const manifest = readManifestFile(resolve(flags.dir ?? '.'));
      if (manifest.init === undefined)
        throw new SvcError(`${manifest.name} runs no process of its own (nginx serves it)`);
      const ctx = targetContext(manifest);
      let hosts = resolveTarget(target, ctx);
      if (flags.host !== undefined) {
        const names = hosts.map((host) => host.name);
        hosts = hosts.filter((host) => host.name === flags.host);
        if (hosts.length === 0)
          throw new SvcError(
            `--host: ${flags.host} is not one of ${target}'s hosts (${names.join(', ')})`,
          );
      }
      await checkBareWords(hosts, ctx);
      const script = traceScript(manifest, seconds);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const pool = new ConnectionPool(sshOptions(flags, ctx, undefined));
      let outcomes: Outcome[];
      try {
        outcomes = await mapLimit(hosts, 20, async (host): Promise<Outcome> => {
          try {
            const connection = await pool.get(host);
            const result = await connection.run(script, 'tracing', {
              holdStdin: true,
              signal: controller.signal,
              timeoutMs: (seconds + 60) * 1000,
              // Said before the tracer attaches: the script names it first. Only strace stops
              // the process on every call; bpftrace counts in the kernel.
              onLine: (line) => {
                if (!line.startsWith('W\t')) return;
                const tool = line.split('\t')[1];
                process.stderr.write(
                  tool === 'strace'
                    ? `svc: ${host.name}: tracing ${manifest.name} for ${seconds} s with strace, which slows the traced processes while attached\n`
                    : `svc: ${host.name}: tracing ${manifest.name} for ${seconds} s with ${visible(tool ?? '')}\n`,
                );
              },
            });
            const output = result.stdout.toString('utf8');
            // Ctrl-C: the host stops the tracer and still sends what it saw; sudo may then end
            // by the relayed signal rather than with the script's status. A whole report is kept.
            if (controller.signal.aborted && output.endsWith('\nE\n'))
              return { host, report: parseTraceOutput(output, host.name) };
            if (result.code !== 0) {
              const said = result.stderr.toString('utf8').trim().split('\n').at(-1);
              return { host, error: said || `tracing failed (exit ${result.code})` };
            }
            return { host, report: parseTraceOutput(output, host.name) };
          } catch (error) {
            const message = (error as Error).message;
            const problem = connectProblem(message);
            return {
              host,
              error:
                problem === undefined
                  ? message.replace(`${host.name}: `, '')
                  : `${host.address}:${host.port}: ${problem}`,
            };
          }
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await pool.closeAll();
      }
      if (flags.json) {
        const doc = {
          version: 1,
          seconds,
          interrupted: controller.signal.aborted,
          hosts: outcomes.map((o) =>
            o.report ? { host: o.host.name, ...o.report } : { host: o.host.name, error: o.error },
          ),
        };
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      } else {
        for (const o of outcomes)
          if (o.report) process.stdout.write(`${traceText(o.host.name, o.report).join('\n')}\n`);
      }
      for (const o of outcomes)
        if (o.error !== undefined) process.stderr.write(`svc: error: ${o.host.name}: ${o.error}\n`);
      process.exitCode = outcomes.some((o) => o.error !== undefined) ? EXIT.error : EXIT.ok;
    });
}
