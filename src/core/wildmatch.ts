// git's wildmatch (wildmatch.c), the matcher behind .gitignore patterns, ported as it is so that
// a pattern means here exactly what it means to git: `*` and `?` never match '/', `**` between
// slashes (or at either end) matches any number of directories, `[...]` takes ranges, `!`/`^`
// negation and [:class:], and `\` quotes the next character. Case-sensitive, as git is on Linux.
// The test that keeps this honest is the differential one against git itself
// (test/reliability/ignore-differential.test.ts).

const MATCH = 0;
const NOMATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const CLASSES: Record<string, (c: string) => boolean> = {
  alnum: (c) => /[A-Za-z0-9]/.test(c),
  alpha: (c) => /[A-Za-z]/.test(c),
  blank: (c) => c === ' ' || c === '\t',
  cntrl: (c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127,
  digit: (c) => /[0-9]/.test(c),
  graph: (c) => c.charCodeAt(0) > 32 && c.charCodeAt(0) < 127,
  lower: (c) => /[a-z]/.test(c),
  print: (c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127,
  punct: (c) => /[!-/:-@[-`{-~]/.test(c),
  space: (c) => /[ \t\n\r\v\f]/.test(c),
  upper: (c) => /[A-Z]/.test(c),
  xdigit: (c) => /[0-9A-Fa-f]/.test(c),
};

/** Matches `[...]` at p (just after '['); returns [matched, index after ']'] or undefined (malformed). */
function bracket(p: string, pi: number, c: string): [boolean, number] | undefined {
  let negated = false;
  if (p[pi] === '!' || p[pi] === '^') {
    negated = true;
    pi++;
  }
  let matched = false;
  let prev: string | undefined;
  let first = true;
  for (;;) {
    // What this member leaves as the "previous" character: none after a range or a class.
    let pc: string | undefined = p[pi];
    if (pc === undefined) return undefined;
    if (pc === ']' && !first) break;
    first = false;
    if (pc === '\\') {
      pi++;
      pc = p[pi];
      if (pc === undefined) return undefined;
      if (pc === c) matched = true;
    } else if (pc === '-' && prev !== undefined && p[pi + 1] !== undefined && p[pi + 1] !== ']') {
      pi++;
      let hi = p[pi];
      if (hi === '\\') {
        pi++;
        hi = p[pi];
        if (hi === undefined) return undefined;
      }
      if (c >= prev && c <= hi!) matched = true;
      pc = undefined;
    } else if (pc === '[' && p[pi + 1] === ':') {
      const end = p.indexOf(']', pi + 2);
      if (end === -1) return undefined;
      const name = p.slice(pi + 2, end);
      if (!name.endsWith(':')) {
        // not a class after all: a literal '['
        if (c === '[') matched = true;
      } else {
        const test = CLASSES[name.slice(0, -1)];
        if (test === undefined) return undefined;
        if (test(c)) matched = true;
        pi = end;
        pc = undefined;
      }
    } else if (pc === c) {
      matched = true;
    }
    prev = pc;
    pi++;
  }
  return [matched !== negated, pi + 1];
}

function dowild(p: string, pi: number, t: string, ti: number, pathname: boolean): number {
  for (; pi < p.length; pi++, ti++) {
    let pc = p[pi]!;
    const tc = t[ti];
    if (tc === undefined && pc !== '*') return ABORT_ALL;
    switch (pc) {
      case '\\':
        pi++;
        pc = p[pi]!;
        if (tc !== pc) return NOMATCH;
        break;
      case '?':
        if (pathname && tc === '/') return NOMATCH;
        break;
      case '*': {
        let matchSlash: boolean;
        if (p[pi + 1] === '*') {
          const prevIndex = pi - 1;
          pi++;
          while (p[pi + 1] === '*') pi++;
          const next = p[pi + 1];
          if (
            (prevIndex < 0 || p[prevIndex] === '/') &&
            (next === undefined || next === '/' || (next === '\\' && p[pi + 2] === '/'))
          ) {
            if (next === '/' && dowild(p, pi + 2, t, ti, pathname) === MATCH) return MATCH;
            matchSlash = true;
          } else {
            matchSlash = false;
          }
        } else {
          matchSlash = !pathname;
        }
        pi++;
        if (pi >= p.length) {
          // The trailing star matches the rest, unless that would cross a '/'.
          if (!matchSlash && t.indexOf('/', ti) !== -1) return NOMATCH;
          return MATCH;
        }
        if (!matchSlash && p[pi] === '/') {
          const slash = t.indexOf('/', ti);
          if (slash === -1) return NOMATCH;
          ti = slash; // the loop's increments consume the '/' on both sides
          break;
        }
        for (;;) {
          if (ti >= t.length) return ABORT_ALL;
          const result = dowild(p, pi, t, ti, pathname);
          if (result !== NOMATCH) {
            if (!matchSlash || result !== ABORT_TO_STARSTAR) return result;
          } else if (!matchSlash && t[ti] === '/') {
            return ABORT_TO_STARSTAR;
          }
          ti++;
        }
      }
      case '[': {
        const result = bracket(p, pi + 1, tc!);
        if (result === undefined) return ABORT_ALL;
        if (!result[0] || (pathname && tc === '/')) return NOMATCH;
        pi = result[1] - 1;
        break;
      }
      default:
        if (tc !== pc) return NOMATCH;
    }
  }
  return ti >= t.length ? MATCH : NOMATCH;
}

/** One character per byte of the UTF-8 encoding: git matches bytes (`?` is one byte of `é`). */
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** Whether `text` matches `pattern`; with `pathname`, wildcards other than `**` stop at '/'. */
export function wildmatch(pattern: string, text: string, pathname: boolean): boolean {
  return dowild(bytes(pattern), 0, bytes(text), 0, pathname) === MATCH;
}
