// A property test of every quoter: random strings full of shell, unit-file and monit
// metacharacters (quotes, $(...), backticks, newlines, control characters, unicode) go through
// each quoting path to a real sandbox host and must come back byte for byte, or be refused by the
// quoter with a QuoteError. Strings carry `touch /tmp/svc-pwned-N` payloads: none may run.
// The seed is printed with a failure, and SVC_PROPERTY_SEED replays it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  envFileLine,
  jsString,
  monitString,
  nginxString,
  QuoteError,
  shellCommand,
  shellQuote,
} from '../../src/core/quote.js';
import { startSandbox, type Sandbox } from '../helpers/sandbox.js';

const SEED = Number(process.env.SVC_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const COUNT = 300;
const HOST = 'sbx-1';

/** mulberry32: small, seedable, good enough to spread inputs. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  ...`'"\`$\\;|&<>(){}[]*?~!#=%^ \t\n\r`.split(''),
  '$(',
  '${',
  '$((1+1))',
  '\\n',
  "'\\''",
  '%h',
  '%%',
  '\u0001',
  '\u001b[31m',
  '\u007f',
  'é',
  'ß',
  '\u2028',
  '\u202e',
  '😀',
  'a',
  'Z',
  '0',
  '-',
  '/',
  '.',
];

function strings(count: number, seed: number): string[] {
  const next = random(seed);
  const out: string[] = [''];
  for (let n = 1; n < count; n++) {
    const pieces: string[] = [];
    const length = Math.floor(next() * 24);
    for (let i = 0; i < length; i++) pieces.push(PIECES[Math.floor(next() * PIECES.length)]!);
    if (next() < 0.3) {
      const payload = [
        `$(touch /tmp/svc-pwned-${n})`,
        `\`touch /tmp/svc-pwned-${n}\``,
        `'; touch /tmp/svc-pwned-${n}; '`,
        `"; touch /tmp/svc-pwned-${n}; "`,
        `\n touch /tmp/svc-pwned-${n}\n`,
      ][n % 5]!;
      // Between pieces, never inside one (an emoji is two UTF-16 units).
      pieces.splice(Math.floor(next() * (pieces.length + 1)), 0, payload);
    }
    out.push(pieces.join(''));
  }
  return out;
}

/** The quoter's text, or undefined when it refuses the value (and only with a QuoteError). */
function quoted(quoter: (value: string) => string, value: string): string | undefined {
  try {
    return quoter(value);
  } catch (error) {
    if (error instanceof QuoteError) return undefined;
    throw error;
  }
}

/** The generator prints a value that needs it in "..." with C escapes (\n, \t, \xHH, \\, \"). */
function cUnescape(text: string): string {
  const named: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
  };
  return text.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{3}|.)/gs, (_, code: string) => {
    if (code.startsWith('x') && code.length === 3)
      return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]{3}$/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return named[code] ?? code;
  });
}

let sbx: Sandbox;
let work: string;
const inputs = strings(COUNT, SEED);
const why = `seed ${SEED} (replay: SVC_PROPERTY_SEED=${SEED})`;

/** Runs a script on the host as root; its stdout split on NUL. */
function onHost(script: string): string[] {
  const result = sbx.ssh(HOST, 'sh -s', { user: 'root', input: script });
  expect(result.code, `${why}: ${result.stderr}`).toBe(0);
  return result.stdout.split('\0').slice(0, -1);
}

/** The first value that did not come back as sent, for a readable failure. */
function firstDifference(got: string[], sent: string[]): string {
  const at = sent.findIndex((value, n) => got[n] !== value);
  return at === -1 && got.length === sent.length
    ? 'none'
    : `#${at}: sent ${JSON.stringify(sent[at])}, got ${JSON.stringify(got[at])} (${got.length}/${sent.length} values)`;
}

/** Writes a file on the host, byte for byte, through base64. */
function put(path: string, content: string): string {
  return `printf %s '${Buffer.from(content).toString('base64')}' | base64 -d > ${path}`;
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-property-'));
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe(`every quoter, ${COUNT} random hostile strings`, () => {
  it('sh: each word arrives as it was', () => {
    const script = `printf '%s\\0' ${inputs.map(shellQuote).join(' ')}\n`;
    expect(firstDifference(onHost(script), inputs), why).toBe('none');
  });

  it('sh: a whole command line keeps its argument boundaries', () => {
    const script = `set -- ${shellCommand(inputs)}\nprintf '%s\\0' "$@"\n`;
    expect(firstDifference(onHost(script), inputs), why).toBe('none');
  });

  it('environment file: sh reads every value back exactly', () => {
    const lines = inputs.map((value, n) => quoted((v) => envFileLine(`K${n}`, v), value));
    const kept = inputs.filter((_, n) => lines[n] !== undefined);
    expect(kept.length, `${why}: only NUL is refused`).toBe(inputs.length);
    const file = lines.join('\n') + '\n';
    const names = inputs.map((_, n) => `"$K${n}"`).join(' ');
    const script = `${put('/tmp/probe.env', file)}\nset -a; . /tmp/probe.env; set +a\nprintf '%s\\0' ${names}\n`;
    expect(firstDifference(onHost(script), inputs), why).toBe('none');
  });

  it("environment file: systemd's parser reads every value back exactly", () => {
    // The environment.d generator runs systemd's EnvironmentFile= parser, then expands $NAME:
    // values with $ are compared by sh above only.
    const plain = inputs.filter((value) => !value.includes('$'));
    const dir = join(work, 'environment.d');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, '50-probe.conf'),
      plain.map((value, n) => envFileLine(`K${n}`, value)).join('\n') + '\n',
    );
    const output = execFileSync(
      '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator',
      { env: { XDG_CONFIG_HOME: work }, encoding: 'utf8' },
    );
    const got = new Map<string, string>();
    for (const line of output.split('\n').filter((text) => text.startsWith('K'))) {
      const raw = line.slice(line.indexOf('=') + 1);
      got.set(
        line.slice(0, line.indexOf('=')),
        raw.startsWith('"') ? cUnescape(raw.slice(1, -1)) : raw,
      );
    }
    // systemd drops a variable whose value is not valid UTF-8 or holds control characters it
    // rejects; every value it keeps must be exact.
    plain.forEach((value, n) => {
      if (got.has(`K${n}`)) expect(got.get(`K${n}`), `${why}: K${n}`).toBe(value);
    });
    expect(got.size, why).toBeGreaterThan(plain.length / 2);
  });

  it('JavaScript: node reads every literal back exactly', () => {
    const program = `process.stdout.write([${inputs.map(jsString).join(',')}].map((s) => s + '\\0').join(''));\n`;
    const script = `${put('/tmp/probe.js', program)}\nnode /tmp/probe.js\n`;
    expect(firstDifference(onHost(script), inputs), why).toBe('none');
  });

  it('nginx: a quoted string is served back exactly, or refused', async () => {
    const accepted = inputs
      .map((value) => ({ value, text: quoted(nginxString, value) }))
      .filter((entry): entry is { value: string; text: string } => entry.text !== undefined)
      .slice(0, 60);
    expect(accepted.length, why).toBeGreaterThan(10);
    const locations = accepted
      .map((entry, n) => `location = /${n} { default_type text/plain; return 200 ${entry.text}; }`)
      .join('\n');
    const conf = [
      'pid /tmp/probe-nginx.pid; error_log /tmp/probe-nginx.err; daemon on;',
      'events {}',
      'http { access_log off; client_body_temp_path /tmp; proxy_temp_path /tmp; fastcgi_temp_path /tmp; uwsgi_temp_path /tmp; scgi_temp_path /tmp;',
      `server { listen 127.0.0.1:8099; ${locations} } }`,
    ].join('\n');
    const fetches = accepted
      .map((_, n) => `curl -fsS http://127.0.0.1:8099/${n}; printf '\\0'`)
      .join('\n');
    const script = `${put('/tmp/probe-nginx.conf', conf)}\nnginx -c /tmp/probe-nginx.conf\n${fetches}\nkill "$(cat /tmp/probe-nginx.pid)"\n`;
    expect(onHost(script), why).toEqual(accepted.map((entry) => entry.value));
  });

  it('monit: every accepted string passes monit -t in a check, the rest is refused', () => {
    // monit strings have no escapes: the lexer takes "..." whole, so an accepted value is the
    // bytes between the quotes; the quoter must refuse exactly the values with " or a control.
    const checks = inputs
      .map((value, n) => ({ n, value, text: quoted(monitString, `/run/${value}`) }))
      .filter((entry) => entry.text !== undefined)
      .map((entry) => {
        expect(entry.text, why).toBe(`"/run/${entry.value}"`);
        return `check process probe${entry.n} with pidfile ${entry.text}`;
      });
    const refused = inputs.filter((value) => quoted(monitString, `/run/${value}`) === undefined);
    const unquotable = (value: string) =>
      [...value].some((char) => char === '"' || char.charCodeAt(0) < 0x20 || char === '\u007f');
    for (const value of refused) expect(unquotable(value), why).toBe(true);
    const control = `set daemon 60\n${checks.join('\n')}\n`;
    const script = `${put('/tmp/probe.monitrc', control)}\nchmod 600 /tmp/probe.monitrc\nmonit -t -c /tmp/probe.monitrc >/dev/null && printf 'ok\\0'\n`;
    expect(onHost(script), why).toEqual(['ok']);
  });

  it('nothing a string carried was ever executed', () => {
    expect(onHost(`ls /tmp | grep svc-pwned || true; printf 'done\\0'`), why).toEqual(['done']);
  });
});
