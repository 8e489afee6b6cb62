// The history's sh functions (src/core/history-script.ts), run by a real sh against a scratch
// copy of the layout (the service's paths moved below a temporary directory): what a record
// looks like on disk and read back, rotation past the limit, modes, a killed run's pending record,
// how a run that did not end well is recorded, and the refusals (a link, a directory others may
// write). Needs root, as the scripts do (the directories must be uid 0's).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHistoryLine, parseHistoryOutput } from '../../src/core/history-record.js';
import {
  deployAction,
  historyBegin,
  historyFunctions,
  historyReadScript,
  heldFactScript,
  historyUnchangedScript,
  lastDeployLine,
  RECORDED_LINE,
} from '../../src/core/history-script.js';
import type { Operation } from '../../src/core/operations.js';
import { hostLayout } from '../../src/core/layout.js';
import { SCRIPT_FILE_TEMPLATE } from '../../src/core/script-file.js';

let root = '';
let count = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-history-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A service of its own below the scratch root: its paths and a runner for sh text. */
function service(limit?: number) {
  const name = `svc-h${(count += 1)}`;
  const base = join(root, name);
  mkdirSync(join(base, 'var/lib'), { recursive: true });
  mkdirSync(join(base, 'var/www', name, 'releases'), { recursive: true });
  const layout = hostLayout(name);
  const moved = (text: string) =>
    text
      .replaceAll(layout.records, `${base}${layout.records}`)
      .replaceAll(layout.root, `${base}${layout.root}`);
  const dir = `${base}${layout.records}/history`;
  const run = (body: string) =>
    spawnSync('sh', ['-c', moved(`set -eu\n${historyFunctions(name, limit)}\n${body}`)], {
      encoding: 'utf8',
      timeout: 20_000,
    });
  const read = (limitRead = 100) => {
    const output = execFileSync('sh', ['-c', moved(historyReadScript(name, limitRead))], {
      encoding: 'utf8',
    });
    return parseHistoryOutput(output, 'h');
  };
  const lines = () => readFileSync(`${dir}/records`, 'utf8').split('\n').slice(0, -1);
  const current = (id: string) => {
    rmSync(`${base}${layout.current}`, { force: true });
    symlinkSync(`releases/${id}`, `${base}${layout.current}`);
  };
  return { name, base, dir, run, read, lines, current, moved };
}

const WHO = { operator: 'ana@laptop', version: '0.4.0' };

describe('a record, written and read back', () => {
  it('begin and end: one line, root-only file and directories, the releases before and after', () => {
    const h = service();
    h.current('aaaaaaaaaaaa');
    const result = h.run(
      [
        historyBegin('deploy', WHO),
        `ln -sfn releases/bbbbbbbbbbbb ${hostLayout(h.name).current}`,
        `hist_end deployed ''`,
      ].join('\n'),
    );
    expect(result.status, result.stderr).toBe(0);
    const [text, ...rest] = h.lines();
    expect(rest).toEqual([]);
    expect(text).toMatch(
      /^1\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\tdeploy\tana@laptop\t0\.4\.0\taaaaaaaaaaaa\tbbbbbbbbbbbb\tdeployed\t\d+\t$/,
    );
    expect(statSync(`${h.dir}/records`).mode & 0o777).toBe(0o600);
    expect(statSync(`${h.dir}/lock`).mode & 0o777).toBe(0o600);
    expect(statSync(h.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(h.dir, '..')).mode & 0o777).toBe(0o700);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
    const { records, skipped } = h.read();
    expect(skipped).toBe(0);
    expect(records).toEqual([parseHistoryLine(text!)]);
    expect(records[0]).toMatchObject({
      before: 'aaaaaaaaaaaa',
      after: 'bbbbbbbbbbbb',
      operator: 'ana@laptop',
    });
  });

  it('no history yet: an empty read; no release yet: `-`; a link elsewhere: `?`', () => {
    const h = service();
    const empty = h.read();
    expect([empty.records, empty.skipped]).toStrictEqual([[], 0]);
    // The host's clock comes with every read (svc history measures its skew).
    expect(Math.abs(empty.clock! - Date.now() / 1000)).toBeLessThan(5);
    expect(h.run(`${historyBegin('start')}\nhist_end done ''`).status).toBe(0);
    h.current('../../../etc');
    expect(h.run(`${historyBegin('stop')}\nhist_end unchanged ''`).status).toBe(0);
    expect(
      h
        .read()
        .records.map((r) => [r.action, r.operator, r.svcVersion, r.before, r.after, r.result]),
    ).toEqual([
      ['start', 'unknown', 'unknown', '-', '-', 'done'],
      ['stop', 'unknown', 'unknown', '?', '?', 'unchanged'],
    ]);
  });

  it('a hostile reason is one bounded line without control characters', () => {
    const h = service();
    const reason = `a\tb\nc\r\u001b[31md${'x'.repeat(400)}`;
    expect(h.run(`${historyBegin('deploy')}\nhist_end failed '${reason}'`).status).toBe(0);
    const record = h.read().records[0]!;
    expect(record.reason).toBe(`a b c [31md${'x'.repeat(289)}`);
    expect(record.reason).toHaveLength(300);
  });

  it('status reads the last deploy that changed something, not a later one that found nothing to do', () => {
    const h = service();
    for (const [action, result] of [
      ['deploy', 'deployed'],
      ['deploy', 'unchanged'],
      ['rollback', 'unchanged'],
    ] as const) {
      const run = h.run(`${historyBegin(action)}\nhist_end ${result} ''`);
      expect(run.status, run.stderr).toBe(0);
    }
    expect(h.lines()).toHaveLength(3);
    const last = execFileSync('sh', ['-c', h.moved(lastDeployLine(h.name))], { encoding: 'utf8' });
    // The line's reason is empty: only its newline goes (trimEnd would take the last tab too).
    expect(parseHistoryLine(last.replace(/\n$/, ''))).toMatchObject({
      action: 'deploy',
      result: 'deployed',
    });
  });

  // The shell keeps a short printable reason itself; anything else goes through tr and head.
  it.each([
    ['plain, kept whole', 'the install step failed (exit 1)', 'the install step failed (exit 1)'],
    ['printable, 300 bytes: kept', 'y'.repeat(300), 'y'.repeat(300)],
    ['printable, 301 bytes: cut', 'z'.repeat(301), 'z'.repeat(300)],
    ['a tab: a space', 'a\tb', 'a b'],
    ['an escape: dropped', 'a\u001bb', 'ab'],
  ])('hist_clean: %s', (_, reason, kept) => {
    const h = service();
    const run = h.run(`printf '[%s]' "$(hist_clean '${reason}')"`);
    expect([run.status, run.stdout]).toEqual([0, `[${kept}]`]);
  });

  it('status reads the last deploy or rollback line, not a later stop', () => {
    const h = service();
    h.run(`${historyBegin('deploy')}\nhist_end deployed ''`);
    h.run(`${historyBegin('rollback')}\nhist_end 'rolled back' 'why'`);
    h.run(`${historyBegin('stop')}\nhist_end done ''`);
    const last = execFileSync('sh', ['-c', h.moved(lastDeployLine(h.name))], { encoding: 'utf8' });
    expect(parseHistoryLine(last.trimEnd())).toMatchObject({
      action: 'rollback',
      result: 'rolled back',
      reason: 'why',
    });
  });
});

describe("a first deploy (`later`): /var/lib/svc/NAME is the plan's to make", () => {
  it('no directory made and no pending record at the start; the end makes them and records', () => {
    const h = service();
    const records = `${h.base}${hostLayout(h.name).records}`;
    // /var/lib/svc is there: the deploy's staging made it.
    mkdirSync(join(records, '..'), { mode: 0o700 });
    const run = h.run(
      [
        historyBegin('deploy', WHO, true),
        `[ ! -e ${hostLayout(h.name).records} ] || exit 7`,
        // The plan's own dir change: a mkdir that fails on anything there.
        `mkdir -m 0700 -- ${hostLayout(h.name).records}`,
        `hist_end deployed ''`,
      ].join('\n'),
    );
    expect(run.status, run.stderr).toBe(0);
    expect(h.read().records.map((r) => r.result)).toEqual(['deployed']);
    expect(statSync(records).mode & 0o777).toBe(0o700);
  });

  it('ended before the plan made it: the end makes it', () => {
    const h = service();
    const run = h.run(
      `trap 'hist_exit $?' EXIT\n${historyBegin('deploy', WHO, true)}\nhist_fail='the install step failed'; exit 1`,
    );
    expect(run.status).toBe(1);
    expect(h.read().records.map((r) => [r.result, r.reason])).toEqual([
      ['failed', 'the install step failed'],
    ]);
  });

  it('killed outright after the plan made the directory: its pending record is there (hist_later)', () => {
    const h = service();
    mkdirSync(join(`${h.base}${hostLayout(h.name).records}`, '..'), { mode: 0o700 });
    const run = h.run(
      [
        historyBegin('deploy', WHO, true),
        `mkdir -m 0700 -- ${hostLayout(h.name).records}`,
        // What the apply script runs right after the plan's mkdir (apply-script.ts).
        'hist_later',
        // The install step, say, when the host reboots.
        'kill -KILL $$',
      ].join('\n'),
    );
    expect(run.signal).toBe('SIGKILL');
    expect(h.read().records.map((r) => [r.action, r.result, r.before])).toEqual([
      ['deploy', 'interrupted', '-'],
    ]);
    // Once: hist_later does nothing for a run that has its pending record already.
    const twice = h.run(`${historyBegin('start')}\nhist_later\nhist_later\nhist_end done ''`);
    expect(twice.status, twice.stderr).toBe(0);
    expect(h.read().records.map((r) => [r.action, r.result])).toEqual([
      ['deploy', 'interrupted'],
      ['start', 'done'],
    ]);
  });

  it('once it exists, a deploy leaves its pending record as any run does', () => {
    const h = service();
    expect(h.run(`${historyBegin('start')}\nhist_end done ''`).status).toBe(0);
    const run = h.run(`${historyBegin('deploy', WHO, true)}\nkill -KILL $$`);
    expect(run.signal).toBe('SIGKILL');
    expect(h.read().records.map((r) => [r.action, r.result])).toEqual([
      ['start', 'done'],
      ['deploy', 'interrupted'],
    ]);
  });
});

describe('rotation', () => {
  it('past the limit the oldest records go; the newest stay in order', () => {
    const h = service(5);
    for (let i = 1; i <= 7; i++)
      expect(h.run(`${historyBegin('restart')}\nhist_end failed 'run ${i}'`).status).toBe(0);
    expect(h.lines().map((text) => parseHistoryLine(text)?.reason)).toEqual([
      'run 3',
      'run 4',
      'run 5',
      'run 6',
      'run 7',
    ]);
    expect(statSync(`${h.dir}/records`).mode & 0o777).toBe(0o600);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
    // The reader asks only for the newest it shows.
    expect(h.read(2).records.map((r) => r.reason)).toEqual(['run 6', 'run 7']);
  });
});

describe('runs at once', () => {
  it('twenty runs ending together, across a rotation: whole lines, the newest kept', () => {
    const h = service(15);
    const one = h.moved(
      `set -eu\n${historyFunctions(h.name, 15)}\n${historyBegin('restart')}\nhist_end failed "run $1"`,
    );
    writeFileSync(`${h.base}/one.sh`, one);
    const all = spawnSync(
      'sh',
      ['-c', `for i in $(seq 20); do sh ${h.base}/one.sh $i & done; wait`],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(all.status, all.stderr).toBe(0);
    const lines = h.lines();
    expect(lines).toHaveLength(15);
    const reasons = lines.map((text) => parseHistoryLine(text)?.reason);
    expect(new Set(reasons).size).toBe(15);
    for (const reason of reasons) expect(reason).toMatch(/^run ([1-9]|1\d|20)$/);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
  });
});

describe('a run that does not end well', () => {
  it.each([
    [
      'a health gate that failed, without a FAIL line',
      'hist_exited="EXITED	status 1	25"; exit 77',
      'rolled back',
      'the new release exited (status 1) 2.5 s after start',
    ],
    [
      'a death under monit: no status known',
      'hist_exited="EXITED		3"; exit 77',
      'rolled back',
      'the new release exited 0.3 s after start',
    ],
    ['a gate that timed out', 'exit 77', 'rolled back', 'the new release failed its health check'],
    [
      'a FAIL line said why',
      "hist_fail='nginx -t refused the site'; exit 77",
      'rolled back',
      'nginx -t refused the site',
    ],
    [
      'Ctrl-C',
      'exit 130',
      'interrupted',
      'interrupted (Ctrl-C or svc unlock --force): what it had applied was undone',
    ],
    [
      'a failure with its reason',
      "hist_fail='the install step failed'; exit 1",
      'failed',
      'the install step failed',
    ],
    [
      'a failure after a step',
      "hist_step='files in place'; false",
      'failed',
      'exit 1 after files in place',
    ],
    ['a failure before any step', 'exit 3', 'failed', 'exit 3'],
  ])('%s', (_, body, result, reason) => {
    const h = service();
    const run = h.run(`trap 'hist_exit $?' EXIT\n${historyBegin('deploy')}\n${body}`);
    expect(run.status).not.toBe(0);
    expect(h.read().records.map((r) => [r.result, r.reason])).toEqual([[result, reason]]);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
  });

  it('a run that recorded its end records nothing more on exit', () => {
    const h = service();
    h.run(`trap 'hist_exit $?' EXIT\n${historyBegin('deploy')}\nhist_end deployed ''\nexit 4`);
    expect(h.read().records.map((r) => r.result)).toEqual(['deployed']);
  });

  it('killed outright: pending, shown as running while its shell lives, folded in by the next run once it is gone', () => {
    const h = service();
    // A run that begins and is killed: no trap runs.
    const killed = h.run(`${historyBegin('deploy', WHO)}\nkill -KILL $$`);
    expect(killed.signal).toBe('SIGKILL');
    expect(readdirSync(h.dir).filter((f) => /^pending\.\d+$/.test(f))).toHaveLength(1);
    expect(h.read().records).toMatchObject([
      {
        action: 'deploy',
        result: 'interrupted',
        after: '?',
        reason: 'killed before it could record how it ended',
      },
    ]);
    expect(h.read().records[0]!.seconds).toBeUndefined();
    // A run still going: running.
    const going = h.moved(
      `set -eu\n${historyFunctions(h.name)}\n${historyBegin('restart')}\nexec sleep 30`,
    );
    const child = execFileSync(
      'sh',
      ['-c', `sh -c '${going.replaceAll("'", "'\\''")}' >/dev/null 2>&1 & echo $!`],
      {
        encoding: 'utf8',
      },
    );
    try {
      const deadline = Date.now() + 10_000;
      while (
        readdirSync(h.dir).filter((f) => /^pending\.\d+$/.test(f)).length < 2 &&
        Date.now() < deadline
      );
      expect(
        h
          .read()
          .records.map((r) => `${r.action} ${r.result}`)
          .sort(),
      ).toEqual(['deploy interrupted', 'restart running']);
      // The next run to write folds in the dead one, not the live one.
      expect(h.run(`${historyBegin('stop')}\nhist_end done ''`).status).toBe(0);
      expect(
        h
          .lines()
          .map((text) => `${parseHistoryLine(text)?.action} ${parseHistoryLine(text)?.result}`),
      ).toEqual(['deploy interrupted', 'stop done']);
      expect(readdirSync(h.dir).filter((f) => /^pending\.\d+$/.test(f))).toHaveLength(1);
    } finally {
      process.kill(Number(child.trim()), 'SIGKILL');
    }
  });
});

describe('root never writes through what another user controls', () => {
  it.each([
    [
      'the history directory is a link',
      (dir: string) => {
        mkdirSync(`${dir}-elsewhere`, { mode: 0o700 });
        symlinkSync(`${dir}-elsewhere`, dir);
      },
    ],
    [
      'the history directory is writable by others',
      (dir: string) => {
        mkdirSync(dir, { mode: 0o700 });
        chmodSync(dir, 0o733);
      },
    ],
    [
      'the service directory is writable by its group',
      (dir: string) => {
        chmodSync(join(dir, '..'), 0o770);
      },
    ],
    // The history directory there already: the three are checked by one stat.
    [
      'the history directory is there, and the service directory is writable by its group',
      (dir: string) => {
        mkdirSync(dir, { mode: 0o700 });
        chmodSync(join(dir, '..'), 0o770);
      },
    ],
    [
      'the history directory is there, and /var/lib/svc belongs to another user',
      (dir: string) => {
        mkdirSync(dir, { mode: 0o700 });
        chownSync(join(dir, '../..'), 1000, 0);
      },
    ],
    [
      'the history directory is there, and /var/lib/svc is a link',
      (dir: string) => {
        mkdirSync(dir, { mode: 0o700 });
        const svc = join(dir, '../..');
        renameSync(svc, `${svc}-elsewhere`);
        symlinkSync(`${svc}-elsewhere`, svc);
      },
    ],
  ])('%s: refused, nothing written', (_, arrange) => {
    const h = service();
    mkdirSync(join(h.dir, '..'), { recursive: true, mode: 0o700 });
    arrange(h.dir);
    const run = h.run(`${historyBegin('deploy')} || { echo refused; exit 9; }`);
    expect([run.status, run.stdout]).toEqual([9, 'refused\n']);
    expect(execFileSync('find', [h.base, '-type', 'f'], { encoding: 'utf8' })).toBe('');
  });

  it('the records file a link: the append fails, the target is untouched', () => {
    const h = service();
    mkdirSync(h.dir, { recursive: true, mode: 0o700 });
    chmodSync(join(h.dir, '..'), 0o700);
    writeFileSync(`${h.base}/target`, 'mine\n');
    symlinkSync(`${h.base}/target`, `${h.dir}/records`);
    const run = h.run(
      `${historyBegin('deploy')}\nhist_end deployed '' || { echo refused; exit 9; }`,
    );
    expect([run.status, run.stdout]).toEqual([9, 'refused\n']);
    expect(readFileSync(`${h.base}/target`, 'utf8')).toBe('mine\n');
  });
});

describe('a deploy with nothing to change (historyUnchangedScript)', () => {
  it('appends one record, unchanged, release before and after the same, and writes nothing else', () => {
    const h = service();
    h.current('aaaaaaaaaaaa');
    expect(h.run(`${historyBegin('deploy')}\nhist_end deployed ''`).status).toBe(0);
    for (const action of ['deploy', 'rollback'] as const) {
      const script = h.moved(historyUnchangedScript(h.name, action, WHO));
      const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
    }
    expect(
      h.read().records.map((r) => [r.action, r.operator, r.before, r.after, r.result, r.reason]),
    ).toEqual([
      ['deploy', 'unknown', 'aaaaaaaaaaaa', 'aaaaaaaaaaaa', 'deployed', ''],
      ['deploy', 'ana@laptop', 'aaaaaaaaaaaa', 'aaaaaaaaaaaa', 'unchanged', ''],
      ['rollback', 'ana@laptop', 'aaaaaaaaaaaa', 'aaaaaaaaaaaa', 'unchanged', ''],
    ]);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
  });

  it('refuses a history directory others may write, in one line, and records nothing', () => {
    const h = service();
    expect(h.run(`${historyBegin('start')}\nhist_end done ''`).status).toBe(0);
    chmodSync(h.dir, 0o777);
    try {
      const result = spawnSync('sh', ['-c', h.moved(historyUnchangedScript(h.name, 'deploy'))], {
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `svc cannot keep its history in ${h.dir} (not root's own private directory, or not writable)`,
      ]);
    } finally {
      chmodSync(h.dir, 0o700);
    }
    expect(h.lines()).toHaveLength(1);
  });

  it.each<[string, Operation[], string]>([
    ['a deploy', [], 'deploy'],
    [
      'a new release',
      [{ kind: 'release', path: '/r/x', id: 'x', files: 1, bytes: 1, keep: 5 } as Operation],
      'deploy',
    ],
    [
      'a pinned release (svc rollback)',
      [
        {
          kind: 'release',
          path: '/r/x',
          id: 'x',
          files: 1,
          bytes: 1,
          keep: 5,
          pinned: true,
        } as Operation,
      ],
      'rollback',
    ],
  ])('deployAction: %s is recorded as %s', (_, operations, want) => {
    expect(deployAction(operations)).toBe(want);
  });
});

describe("deploy's held fact command (heldFactScript): the verdict on its stdin", () => {
  // Facts that would read stdin if they could: they get /dev/null, never the verdict.
  const FACTS =
    "printf 'B\\tsvc-facts\\t1\\n'\nprintf 'X\\t%s\\n' \"$(cat)\"\nprintf 'E\\tsvc-facts\\n'\n";
  const OUT = 'B\tsvc-facts\t1\nX\t\nE\tsvc-facts\n';
  it.each<[string, string, boolean]>([
    ['the end of stdin (svc gone)', '', false],
    ['another word', 'apply\n', false],
    ['a part of the line (svc killed while writing)', 'unchanged', false],
    ['a longer word', 'unchangedx\n', false],
    ['unchanged', 'unchanged\n', true],
    ['unchanged, then more', 'unchanged\nunchanged\n', true],
  ])('%s', (_what, verdict, recorded) => {
    const h = service();
    h.current('bbbbbbbbbbbb');
    expect(h.run(`${historyBegin('deploy')}\nhist_end deployed ''`).status).toBe(0);
    const script = h.moved(heldFactScript(FACTS, h.name, 'deploy', WHO));
    const result = spawnSync('sh', ['-c', script], { input: verdict, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(recorded ? `${OUT}${RECORDED_LINE}\n` : OUT);
    expect(h.read().records.map((r) => [r.operator, r.before, r.after, r.result])).toEqual([
      ['unknown', 'bbbbbbbbbbbb', 'bbbbbbbbbbbb', 'deployed'],
      ...(recorded ? [['ana@laptop', 'bbbbbbbbbbbb', 'bbbbbbbbbbbb', 'unchanged']] : []),
    ]);
    expect(readdirSync(h.dir).sort()).toEqual(['lock', 'records']);
  });

  it('a record that cannot be appended: its exit and one line, no RECORDED_LINE', () => {
    const h = service();
    expect(h.run(`${historyBegin('start')}\nhist_end done ''`).status).toBe(0);
    chmodSync(h.dir, 0o777);
    try {
      const script = h.moved(heldFactScript(FACTS, h.name, 'deploy'));
      const result = spawnSync('sh', ['-c', script], { input: 'unchanged\n', encoding: 'utf8' });
      expect([result.status, result.stdout, result.stderr.trim()]).toEqual([
        1,
        OUT,
        `svc cannot keep its history in ${h.dir} (not root's own private directory, or not writable)`,
      ]);
    } finally {
      chmodSync(h.dir, 0o700);
    }
  });

  it("removes its own file when run from mktemp's (as ssh.ts runs it), whatever the verdict", () => {
    const h = service();
    const file = execFileSync('mktemp', [SCRIPT_FILE_TEMPLATE], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    }).trim();
    expect(file).toMatch(/^\/tmp\/svc-run\./);
    writeFileSync(file, h.moved(heldFactScript(FACTS, h.name, 'deploy')));
    const result = spawnSync('sh', [file], { input: '', encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(() => statSync(file)).toThrow();
  });
});
