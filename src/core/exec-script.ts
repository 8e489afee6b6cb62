// The remote script of `svc exec TARGET -- CMD ...`: CMD runs in the live release (`current`) as
// the service user, with the service's environment (the env file the deploy installed), and its
// exit status is the script's. The script is passed on sudo's command line, not on stdin: stdin
// is the command's own (a pipe, or the pty of an interactive session, whose line discipline would
// mangle a script sent through it). Pure: every word of CMD is shell-quoted here.
import { AS_SERVICE, asServiceCommand, noSwitcherLine } from './as-service.js';
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellCommand, shellQuote as q } from './quote.js';

/** The script's own refusals (no live release, no way to become the user): docker run's 125. */
export const EXEC_REFUSED = 125;

export function execScript(
  manifest: Pick<Manifest, 'name' | 'user'>,
  argv: readonly string[],
  options: { term?: boolean } = {},
): string {
  if (argv.length === 0) throw new Error('execScript: no command');
  const layout = hostLayout(manifest.name);
  return [
    'set -eu',
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `refuse() { printf 'svc exec: %s\\n' "$1" >&2; exit ${EXEC_REFUSED}; }`,
    `live=${q(layout.current)}`,
    `envf=${q(layout.envFile)}`,
    `[ -e "$live" ] || refuse "no live release: $live does not exist (deploy first)"`,
    // A service without an env file of its own (a static site) runs with the base environment.
    '[ -r "$envf" ] || envf=',
    AS_SERVICE,
    `as_service_pick ${q(manifest.user)} || refuse ${q(noSwitcherLine(manifest.user))}`,
    `exec ${asServiceCommand('"$live"', '"$envf"', shellCommand(argv), options)}`,
    '',
  ].join('\n');
}
