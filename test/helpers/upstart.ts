// upstart jobs, read as upstart reads them (init(5)): no upstart runs on the machine, so the
// validators parse a job with upstart's own stanzas and quoting rules (libnih), and check its shell
// parts with sh -n. Shared by validators.test.ts and cutover-validators.test.ts.
/** upstart (libnih) argument dequoting: inside "...", a backslash takes the next character as is. */
export function upstartUnquote(text: string): string {
  if (!text.startsWith('"')) throw new Error(`not a double-quoted string: ${text}`);
  let value = '';
  let i = 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === '\\') i++;
    if (i >= text.length) throw new Error(`trailing backslash: ${text}`);
    value += text[i];
  }
  if (i >= text.length) throw new Error(`unterminated string: ${text}`);
  if (text.slice(i + 1).trim() !== '') throw new Error(`text after the string: ${text}`);
  return value;
}

// upstart stanzas (init(5)); longest first so `respawn limit` is not read as `respawn`.
const UPSTART_STANZAS = [
  'apparmor load',
  'apparmor switch',
  'author',
  'chdir',
  'chroot',
  'console',
  'description',
  'emits',
  'env',
  'exec',
  'expect',
  'export',
  'instance',
  'kill signal',
  'kill timeout',
  'limit',
  'manual',
  'nice',
  'normal exit',
  'oom score',
  'post-start',
  'post-stop',
  'pre-start',
  'pre-stop',
  'reload signal',
  'respawn limit',
  'respawn',
  'script',
  'setgid',
  'setuid',
  'start on',
  'stop on',
  'task',
  'umask',
  'usage',
  'version',
].sort((a, b) => b.length - a.length);

export interface UpstartJob {
  stanzas: { keyword: string; args: string }[];
  /** script ... end script blocks, by the stanza that opened them ('script', 'pre-start', ...). */
  scripts: { owner: string; body: string }[];
  problems: string[];
}

export function parseUpstart(text: string): UpstartJob {
  const job: UpstartJob = { stanzas: [], scripts: [], problems: [] };
  let block: { owner: string; lines: string[] } | undefined;
  for (const [index, line] of text.split('\n').entries()) {
    if (block) {
      if (line.trim() === 'end script') {
        job.scripts.push({ owner: block.owner, body: block.lines.join('\n') });
        block = undefined;
      } else block.lines.push(line);
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const keyword = UPSTART_STANZAS.find(
      (stanza) => trimmed.startsWith(stanza) && /^([ \t]|$)/.test(trimmed.slice(stanza.length)),
    );
    if (keyword === undefined) {
      job.problems.push(`line ${index + 1}: not an upstart stanza: ${trimmed}`);
      continue;
    }
    const args = trimmed.slice(keyword.length).trim();
    if ((keyword === 'script' && args === '') || args === 'script') {
      block = { owner: keyword, lines: [] };
    } else job.stanzas.push({ keyword, args });
  }
  if (block) job.problems.push(`${block.owner} script has no end script`);
  return job;
}
