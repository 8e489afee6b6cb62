// The environment a host is deployed as is the inventory group it was reached through; a host
// outside every group (an address, an ~/.ssh/config alias, the sandbox) is deployed as `default`.
// Its own module so the manifest schema can reserve the name without importing the resolver.
export const DEFAULT_ENVIRONMENT = 'default';

/**
 * The variable of svc's environment that holds KEY for one environment only: KEY, two
 * underscores, the environment's name in upper case with `-` and `.` as `_` (DB_PASSWORD__STAGING;
 * group `eu-west` -> DB_PASSWORD__EU_WEST), so that sh can export it and a CI secret store can
 * name it. That spelling can make two names of one project alike (groups `eu-west` and `eu_west`;
 * key `A__B` of env `c` and key `A` of env `b__c`): manifest.ts refuses such a project
 * (qualifiedVariableClash), so the spelling is unambiguous wherever svc reads it.
 */
export function qualifiedSecretVariable(key: string, environment: string): string {
  return `${key}__${environment.toUpperCase().replace(/[-.]/g, '_')}`;
}

/**
 * The first variable of svc's environment that would stand for two things in this project: a key
 * of two environments, or a key and another key's qualified name. One line, or undefined.
 */
export function qualifiedVariableClash(
  keys: readonly string[],
  environments: readonly string[],
): string | undefined {
  const meaning = new Map<string, string>(keys.map((key) => [key, key]));
  for (const environment of [DEFAULT_ENVIRONMENT, ...environments]) {
    for (const key of keys) {
      const variable = qualifiedSecretVariable(key, environment);
      const what = `${key} of ${environment}`;
      const before = meaning.get(variable);
      if (before !== undefined)
        return `$${variable} would hold both ${before} and ${what}; rename a key or a group so that each variable means one thing`;
      meaning.set(variable, what);
    }
  }
  return undefined;
}
