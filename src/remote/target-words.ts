// The one check of a TARGET that needs the machine's resolver: a bare word (`webservers`) that is
// no inventory group and no ~/.ssh/config alias must resolve as a host name (getaddrinfo: /etc/hosts,
// then DNS), else it is refused as an unknown name before anything connects to it.
import { lookup } from 'node:dns/promises';
import { TEMPORARY_DNS_FAILURE } from '../core/connect-problem.js';
import { SvcError } from '../core/errors.js';
import {
  isBareWord,
  unknownWordMessage,
  type HostSpec,
  type TargetContext,
} from '../core/targets.js';

export async function checkBareWords(
  hosts: readonly HostSpec[],
  ctx: TargetContext,
): Promise<void> {
  for (const host of hosts.filter(isBareWord)) {
    try {
      await lookup(host.address);
    } catch (error) {
      // A resolver that could not answer now is not a name that does not exist.
      if ((error as NodeJS.ErrnoException).code === 'EAI_AGAIN')
        throw new SvcError(`target "${host.name}": ${TEMPORARY_DNS_FAILURE}`);
      throw new SvcError(unknownWordMessage(host.name, ctx));
    }
  }
}
