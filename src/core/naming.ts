// Service names. A name becomes a Linux user, a directory under /var/www, a unit name and a
// monit check name, so the rule is strict: a kind prefix, then lowercase words joined by '-'.
// Also how untrusted text (a name, a key, a file name) is shown in a one-line error.

export const KINDS = ['www', 'api', 'service'] as const;
export type Kind = (typeof KINDS)[number];

export const NAME_PATTERN = /^(www|api|service)-[a-z0-9]+(-[a-z0-9]+)*$/;
export const NAME_MAX_LENGTH = 32;
/** How much of an invalid name an error shows. */
const NAME_SHOWN = 64;
export const NAME_RULE =
  'a service name is www-, api- or service- followed by lowercase letters, digits and single dashes, at most 32 characters';

/** `problem` is what is wrong with the name on its own; `message` names the name too. */
export type NameCheck = { ok: true; kind: Kind } | { ok: false; problem: string; message: string };

/** Characters a person cannot see or cannot tell apart in an error line. */
const UNPRINTABLE = /[^\x20-\x7e]/g;

const codePoint = (char: string) =>
  `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Untrusted text in an error line: in double quotes, everything but printable ASCII escaped
 * (`\n`, `\u0430`) so the line stays one line and a look-alike letter shows as what it is, and at
 * most `max` characters of it, so a 10 MB value does not become a 10 MB line.
 */
export function quoted(text: string, max = 64): string {
  const chars = [...text];
  const shown = JSON.stringify(chars.slice(0, max).join('')).replace(
    UNPRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return chars.length > max ? `${shown}... (${chars.length} characters)` : shown;
}

/** A path or key as it is when plain, quoted as above when it holds anything else. */
export function shownText(text: string, max = 200): string {
  return /^[A-Za-z0-9_./~@%+=:,-]+$/.test(text) && text.length <= max ? text : quoted(text, max);
}

/** What makes a name invalid beyond the rule itself, when the rule alone would not show it. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'empty';
  const odd = name.match(/[^\x20-\x7e]/u)?.[0];
  if (odd !== undefined && (odd < ' ' || odd === '\x7f'))
    return `${codePoint(odd)} is a control character`;
  if (odd !== undefined)
    return `${codePoint(odd)} is not ASCII: a look-alike or invisible character?`;
  const length = [...name].length;
  if (length > NAME_MAX_LENGTH) return `${length} characters`;
  return undefined;
}

export function checkServiceName(name: string): NameCheck {
  if (NAME_PATTERN.test(name) && name.length <= NAME_MAX_LENGTH) {
    return { ok: true, kind: name.slice(0, name.indexOf('-')) as Kind };
  }
  const suggestion = suggestServiceName(name);
  const bare = bareKind(name);
  const hint =
    bare !== undefined
      ? ` (a name goes after ${bare}-: ${EXAMPLE_NAMES[bare]}, say)`
      : suggestion === undefined
        ? ''
        : ` (did you mean ${suggestion}?)`;
  const why = nameProblem(name);
  // A name too long to show whole is shown cut, with its length: no need to say it twice.
  const aside = why === undefined || [...name].length > NAME_SHOWN ? '' : ` (${why})`;
  return {
    ok: false,
    problem: `${why === undefined ? '' : `${why}; `}${NAME_RULE}${hint}`,
    message: `invalid service name ${quoted(name, NAME_SHOWN)}${aside}: ${NAME_RULE}${hint}`,
  };
}

const EXAMPLE_NAMES: Record<Kind, string> = {
  api: 'api-orders',
  www: 'www-shop',
  service: 'service-mailer',
};

/** `api`, `api-`, `API_`: a kind with no name after it, which no guess can complete. */
function bareKind(name: string): Kind | undefined {
  const word = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return KINDS.find((kind) => kind === word);
}

/** Turns a near-miss into a valid name: `orders` -> `api-orders`, `API_Orders` -> `api-orders`. */
export function suggestServiceName(name: string): string | undefined {
  // Fullwidth and accented letters fold to ASCII; a letter of another script (a Cyrillic а) has
  // no ASCII form, and guessing around it would suggest a different name.
  const folded = name.normalize('NFKD').replace(/\p{M}/gu, '');
  if (/\p{L}/u.test(folded.replace(/[A-Za-z]/g, ''))) return undefined;
  const words = folded
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // Stryker disable next-line StringLiteral: equivalent; with no words the candidate is `api`,
  // which NAME_PATTERN refuses below, so comparing words with another string changes nothing.
  if (words === '' || bareKind(words) !== undefined) return undefined;
  const hasKind = KINDS.some((kind) => words.startsWith(`${kind}-`));
  const candidate = (hasKind ? words : `api-${words}`).slice(0, NAME_MAX_LENGTH).replace(/-+$/, '');
  return candidate !== name && NAME_PATTERN.test(candidate) ? candidate : undefined;
}

/** Linux user and group names that svc will create or use (useradd's portable subset). */
export const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
