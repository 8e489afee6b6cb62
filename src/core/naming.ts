// Service names. A name becomes a Linux user, a directory under /var/www, a unit name and a
// monit check name, so the rule is strict: a kind prefix, then lowercase words joined by '-'.

export const KINDS = ['www', 'api', 'service'] as const;
export type Kind = (typeof KINDS)[number];

export const NAME_PATTERN = /^(www|api|service)-[a-z0-9]+(-[a-z0-9]+)*$/;
export const NAME_MAX_LENGTH = 32;
export const NAME_RULE =
  'a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters';

export type NameCheck = { ok: true; kind: Kind } | { ok: false; message: string };

export function checkServiceName(name: string): NameCheck {
  if (NAME_PATTERN.test(name) && name.length <= NAME_MAX_LENGTH) {
    return { ok: true, kind: name.slice(0, name.indexOf('-')) as Kind };
  }
  const suggestion = suggestServiceName(name);
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
  return {
    ok: false,
    message: `invalid service name ${JSON.stringify(name)}: ${NAME_RULE}${hint}`,
  };
}

/** Turns a near-miss into a valid name: `orders` -> `api-orders`, `API_Orders` -> `api-orders`. */
export function suggestServiceName(name: string): string | undefined {
  const words = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (words === '') return undefined;
  const hasKind = KINDS.some((kind) => words.startsWith(`${kind}-`));
  const candidate = (hasKind ? words : `api-${words}`).slice(0, NAME_MAX_LENGTH).replace(/-+$/, '');
  return candidate !== name && NAME_PATTERN.test(candidate) ? candidate : undefined;
}

/** Linux user and group names that svc will create or use (useradd's portable subset). */
export const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
