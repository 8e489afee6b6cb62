// A secrets file git tracks has its values in the repository already (and in every clone and
// push to come): svc refuses to read it rather than use it silently. Asked of git itself through
// the project's checkout reader, so a monorepo, a worktree or a submodule answers as git would.
import { SvcError } from '../core/errors.js';
import { trackedSecretsFileRefusal } from '../core/secrets.js';
import { readGitCheckout } from './git-checkout.js';

/** Throws one line when git tracks `shown` (a path relative to the project directory `dir`). */
export function refuseTrackedSecretsFile(dir: string, shown: string): void {
  if (readGitCheckout(dir)?.tracked.has(shown) === true)
    throw new SvcError(trackedSecretsFileRefusal(shown));
}
