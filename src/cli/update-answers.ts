// `svc update --port 4000` and the other answer flags: the recorded answers with the flags' new
// values, checked exactly as `svc new` checks them (same parsers, same refusals, same defaults
// for a question that only now applies, as when --runtime node turns a static site into a
// process that needs an init system).
import { SvcError } from '../core/errors.js';
import { checkServiceName } from '../core/naming.js';
import { cutoverOf, type Cutover } from '../core/cutover.js';
import { answersOfManifest, type RecordedAnswers } from '../core/scaffold-record.js';
import { checkTextFlag, type GivenAnswers } from '../scaffold/answers.js';
import { manifestFromAnswers } from '../scaffold/project.js';
import { collectAnswers } from '../scaffold/wizard.js';
import { cutoverFlag, givenFromFlags, refuseInapplicableFlags, type NewFlags } from './new.js';

/** The answer flags `svc update` takes: svc new's, but for --env/--secret (svc.yaml's to edit). */
export type AnswerFlags = Pick<
  NewFlags,
  'description' | 'port' | 'health' | 'runtime' | 'init' | 'monit' | 'alert' | 'cutover' | 'user'
>;

export async function answersWithFlags(
  recorded: RecordedAnswers,
  flags: AnswerFlags,
  svcVersion: string,
): Promise<RecordedAnswers> {
  const checked = checkServiceName(recorded.name);
  if (!checked.ok) throw new SvcError(checked.message);
  const kind = checked.kind;
  const given = givenFromFlags(flags);
  refuseInapplicableFlags(
    kind,
    kind === 'www' && given.runtime === undefined ? { ...given, runtime: recorded.runtime } : given,
  );
  const merged: GivenAnswers = {
    description: recorded.description,
    ...(kind === 'www' && { runtime: recorded.runtime }),
    ...(recorded.port !== undefined && { port: recorded.port }),
    ...(recorded.health !== undefined && { health: recorded.health }),
    ...(recorded.init !== undefined && { init: recorded.init }),
    monit: recorded.monit,
    user: recorded.user,
    env: {},
    ...given,
  };
  // Under --init monit, monit is what starts the service: its check comes with it.
  if (given.init === 'monit' && given.monit === undefined) merged.monit = true;
  if (merged.init === 'monit' && merged.monit === false)
    throw new SvcError('--no-monit: with --init monit, the monit check is what starts the service');
  const alert =
    flags.alert === undefined ? recorded.alert : checkTextFlag('--alert', 'alert', flags.alert);
  if (alert !== undefined && merged.monit === false)
    throw new SvcError(
      flags.alert === undefined
        ? `--no-monit: this project was made with --alert ${alert}, and monit is what sends the alerts`
        : '--alert: monit sends the alerts; it cannot go with --no-monit',
    );
  const cutover = cutoverFlag(kind, merged, { cutover: flags.cutover ?? recorded.cutover });
  const answers = await collectAnswers({ name: recorded.name, kind, given: merged, yes: true });
  const build = (how: Cutover | undefined) =>
    manifestFromAnswers(answers, svcVersion, {
      ...(alert !== undefined && { alert }),
      ...(how !== undefined && { cutover: how }),
    });
  let manifest = build(cutover);
  // A process that answers HTTP keeps its cutover when a newer svc changes the default for new
  // projects (a static site or a worker had none to keep: it gets the default).
  const hadCutover = recorded.runtime === 'node' && recorded.port !== undefined;
  if (flags.cutover === undefined && hadCutover && cutoverOf(manifest) !== cutoverOf(recorded))
    manifest = build(cutoverOf(recorded));
  return answersOfManifest(manifest);
}
