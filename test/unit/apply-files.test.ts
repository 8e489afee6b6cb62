// Root never writes through a link at its destination (issue 9, point 5): every cp, mv, ln and
// install in a generated apply script carries its no-follow form (a scan of the scripts for
// first deploys, updates, adoptions, deletions and rollbacks), and the commands themselves,
// run by a real sh against a scratch tree, replace a planted link instead of writing through it.
// The sandbox tests (test/reliability/parent-chain.test.ts) prove the same on real hosts.
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPrivateDir,
  copy,
  emitDirCreates,
  emitFileInstalls,
  dirCreate,
  fileInstall,
  installFile,
  overlayEntry,
  stagedOverlay,
  moveLink,
  restoreFile,
} from '../../src/core/apply-files.js';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { HostFacts } from '../../src/core/facts.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import { shellQuote as q } from '../../src/core/quote.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  manifest,
  operations,
  withRecordedFile,
  SALT,
} from '../helpers/plan-fixtures.js';

function script(
  hostFacts: HostFacts,
  config = CONFIG,
  ops = resolveHomePaths(operations(config), hostFacts.login.home),
): string {
  const plan = planHost('web1', ops, hostFacts, 'f'.repeat(64));
  expect(plan.problems).toEqual([]);
  const input: ApplyInput = {
    manifest,
    operations: ops,
    plan,
    facts: hostFacts,
    factRequest: buildFactRequest(manifest, ops, 'deploy', false, SALT),
    holder: '{}',
    lockWaitSeconds: 0,
    healthTimeoutSeconds: 5,
    now: '2026-11-27T00:00:00.000Z',
    nonce: 'n0nce',
  };
  return buildApply(input, [{ path: 'a', mode: 0o644, content: new Uint8Array() }]).script;
}

/** Every cp, mv, ln and install at a command position: the command and its arguments. */
function fileCommands(text: string): string[] {
  const found: string[] = [];
  const re = /(?:^|[;&|{(]|\bthen|\bdo|\belse)\s*(cp|mv|ln|install)\s+([^;&|\n]*)/gm;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    for (const match of line.matchAll(re)) found.push(`${match[1]} ${match[2]}`);
  }
  return found;
}

const noFollow = (command: string): boolean => {
  const words = command.split(/\s+/);
  const [name] = words;
  const has = (flag: string) => words.includes(flag);
  switch (name) {
    case 'cp':
      return has('-T') && (has('-a') || (has('-P') && has('--remove-destination')));
    case 'mv':
      return has('-T');
    case 'ln':
      return has('-T');
    case 'install':
      // -t DIR: each file goes to DIR/NAME (its temporary name), never into a directory there.
      return (has('-T') || has('-t')) && !has('-d');
    default:
      return false;
  }
};

describe('every cp, mv, ln and install in the apply script', () => {
  // Built inside each test (a throw is a failure there, not a skipped file).
  const updated = () => {
    const hostFacts = withRecordedFile(deployedFacts(), '/etc/x');
    hostFacts.adopted.add('/etc/x');
    return hostFacts;
  };
  const changed = () => {
    const hostFacts = deployedFacts();
    hostFacts.installed = hostFacts.installed!.filter((path) => path !== '/etc/default/api-orders');
    return hostFacts;
  };
  const scripts: [string, () => string][] = [
    ['a first deploy', () => script(facts())],
    [
      'an update, adopting a file',
      () =>
        script(changed(), [...CONFIG.slice(1), file('etc/default/api-orders', 'NEW=1\n', 0o600)]),
    ],
    ['an adopted file given back, a release moving', () => script(updated())],
    ['a deletion', () => script(withRecordedFile(deployedFacts(), '/etc/gone'))],
  ];

  it.each(scripts)('carries the no-follow form: %s', (_, build) => {
    const commands = fileCommands(build());
    expect(commands.length).toBeGreaterThan(3);
    for (const command of commands) expect(noFollow(command), command).toBe(true);
  });

  it('the scan finds what it looks for (the old forms fail it)', () => {
    expect(fileCommands('cp -p -- a b\nif x; then mv -f -- a b; fi\n{ ln -s -- t l; }')).toEqual([
      'cp -p -- a b',
      'mv -f -- a b',
      'ln -s -- t l',
    ]);
    for (const old of ['cp -p -- a b', 'mv -f -- a b', 'ln -sfn -- t l', 'install -d -m 0700 x'])
      expect(noFollow(old)).toBe(false);
  });
});

/** Review 2, point 8: the other commands that write, and every redirection, at command position. */
function otherWrites(text: string): string[] {
  const found: string[] = [];
  const re = /(?:^|[;&|{(]|\bthen|\bdo|\belse)\s*(chmod|chown|mkdir|rm)\s+([^;&|\n]*)/gm;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    for (const match of line.matchAll(re)) found.push(`${match[1]} ${match[2]}`);
  }
  return found;
}

/** Every `>`/`>>` redirection target outside heredoc bodies and quotes (fd dups excluded). */
function redirections(text: string): string[] {
  const found: string[] = [];
  let heredoc: string | undefined;
  for (const line of text.split('\n')) {
    if (heredoc !== undefined) {
      if (line === heredoc) heredoc = undefined;
      continue;
    }
    const start = /<<-?\s*'?([A-Za-z0-9_]+)'?/.exec(line);
    if (start) heredoc = start[1];
    if (/^\s*#/.test(line)) continue;
    // Drop single-quoted text (data, node -e programs): no redirection lives in it.
    const code = line.replace(/'[^']*'/g, "''");
    for (const match of code.matchAll(/\d?>>?\s*(?!&)("[^"]*"|[^\s;&|)]+)/g)) found.push(match[1]!);
  }
  return found;
}

/**
 * The forms root may use: chown -h (never the link's target), chmod only of a path the script
 * has just checked is no link, mkdir that fails on anything there (-m) or makes parents (-p, of
 * directories the plan checked), rm with --; a redirection only into svc's verified private
 * state (/var/lib/svc/...), its own mktemp output, the holder note in locks/, or /dev/null.
 */
function safeWrite(command: string, text: string): boolean {
  const words = command.split(/\s+/);
  const [name] = words;
  const target = words.at(-1)!;
  switch (name) {
    case 'chown':
      return words.includes('-h');
    case 'chmod':
      return text.includes(`[ ! -L ${target} ]`);
    case 'mkdir':
      return words.includes('--') && (words.includes('-m') || words.includes('-p'));
    case 'rm':
      return words.includes('--');
    default:
      return false;
  }
}
const PRIVATE_TARGETS = ['"$holder"', '"$output"', '/dev/null'];
const safeRedirection = (target: string) =>
  PRIVATE_TARGETS.includes(target) || /^'?\/var\/lib\/svc\//.test(target);

describe('every chmod, chown, mkdir, rm and redirection in the apply script', () => {
  const projectOps = (hostFacts: HostFacts) => {
    const playbook = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');
    const extra = [
      '- dir: { path: /srv/data, mode: "0750" }',
      '- link: { path: /srv/app, target: /var/www/api-orders/current }',
    ].join('\n');
    const expanded = expandPlaybook(
      parsePlaybook(`${playbook}${extra}\n`, 'playbooks/deploy.yaml'),
      {
        manifest,
        host: { name: 'web1', login: 'deploy', vars: {} },
        config: CONFIG,
        release: { id: 'abc123abc123', files: 1, bytes: 1 },
        playbookFile: 'playbooks/deploy.yaml',
        projectPlaybook: true,
      },
    );
    return resolveHomePaths(expanded, hostFacts.login.home);
  };
  // A rollback to a release already on the host (svc rollback --to): current moves back.
  const pinned = () => {
    const hostFacts = deployedFacts();
    hostFacts.paths.set('/var/www/api-orders/current', {
      path: '/var/www/api-orders/current',
      type: 'link',
      target: 'releases/fedcba987654',
    });
    hostFacts.releases = ['abc123abc123', 'fedcba987654'];
    return hostFacts;
  };
  const updated = () => {
    const hostFacts = withRecordedFile(deployedFacts(), '/etc/x');
    hostFacts.adopted.add('/etc/x');
    return hostFacts;
  };
  // Built inside each test (a throw is a failure there, not a skipped file).
  const scripts: [string, () => string][] = [
    ['a first deploy', () => script(facts())],
    [
      'a project playbook with dir and link steps',
      () => script(facts(), CONFIG, projectOps(facts())),
    ],
    ['a pinned-release rollback', () => script(pinned())],
    [
      'a release with an install step',
      () =>
        script(
          facts(),
          CONFIG,
          resolveHomePaths(
            operations(CONFIG, { ...manifest, install: ['npm', 'ci'] }),
            '/home/deploy',
          ),
        ),
    ],
    ['an adopted file given back', () => script(updated())],
    ['a deletion', () => script(withRecordedFile(deployedFacts(), '/etc/gone'))],
  ];

  it.each(scripts)('uses only the safe forms: %s', (_, build) => {
    const text = build();
    const commands = otherWrites(text);
    expect(commands.length).toBeGreaterThan(3);
    for (const command of commands) expect(safeWrite(command, text), command).toBe(true);
    const targets = redirections(text);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(safeRedirection(target), target).toBe(true);
  });

  it('the scan finds what it looks for (unsafe forms fail it)', () => {
    expect(otherWrites('chown root:root -- /etc/x\nif a; then chmod 0644 -- /x; fi')).toEqual([
      'chown root:root -- /etc/x',
      'chmod 0644 -- /x',
    ]);
    expect(safeWrite('chown root:root -- /etc/x', '')).toBe(false);
    expect(safeWrite("chmod 0644 -- '/x'", '')).toBe(false);
    expect(safeWrite("chmod 0644 -- '/x'", "[ ! -L '/x' ]")).toBe(true);
    expect(safeWrite('rm -f /x', '')).toBe(false);
    expect(
      redirections(`printf x > /etc/x\necho 'a > b' >> "$f" 2>/dev/null\ncat <<'E'\n> /no\nE`),
    ).toEqual(['/etc/x', '"$f"', '/dev/null']);
    expect(safeRedirection('/etc/x')).toBe(false);
    expect(safeRedirection('"$f"')).toBe(false);
  });
});

describe('the commands, against a planted link (real sh, scratch tree)', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'svc-nofollow-'));
  });
  afterAll(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });
  const sh = (text: string) =>
    execFileSync('sh', ['-c', `set -eu\nsay() { :; }\n${text}`], { encoding: 'utf8' });

  it('restoreFile (undo, rollback) replaces a link planted at PATH.svc-old', () => {
    const dir = join(root, 'restore');
    mkdirSync(dir);
    writeFileSync(join(root, 'victim'), 'victim\n');
    writeFileSync(join(dir, 'backup'), 'old content\n');
    writeFileSync(join(dir, 'conf'), 'new content\n');
    symlinkSync(join(root, 'victim'), join(dir, 'conf.svc-old'));
    sh(restoreFile(q(join(dir, 'backup')), join(dir, 'conf')));
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('victim\n');
    expect(readFileSync(join(dir, 'conf'), 'utf8')).toBe('old content\n');
    expect(lstatSync(join(dir, 'conf')).isFile()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['backup', 'conf']);
  });

  it('installFile replaces a link at the temporary name and at the target (to a directory)', () => {
    const dir = join(root, 'install');
    const victims = join(root, 'victim-dir');
    mkdirSync(dir);
    mkdirSync(victims);
    writeFileSync(join(root, 'staged'), 'new\n');
    symlinkSync(join(root, 'victim'), join(dir, '.conf.svc-new'));
    symlinkSync(victims, join(dir, 'conf'));
    sh(
      installFile(q(join(root, 'staged')), {
        path: join(dir, 'conf'),
        mode: 0o640,
        owner: String(process.getuid!()),
        group: String(process.getgid!()),
      }),
    );
    expect(readdirSync(victims)).toEqual([]);
    expect(readFileSync(join(dir, 'conf'), 'utf8')).toBe('new\n');
    expect(lstatSync(join(dir, 'conf')).isFile()).toBe(true);
  });

  // Files of one directory, mode and owner: one install -t, then a rename each.
  const grouped = (dir: string, names: string[]) => {
    const stage = join(root, `stage-${names.join('-')}`);
    const owner = String(process.getuid!());
    const group = String(process.getgid!());
    const lines = names.map((name, index) => {
      const path = join(dir, name);
      mkdirSync(join(stage, overlayEntry(index, path), '..'), { recursive: true });
      writeFileSync(join(stage, overlayEntry(index, path)), `new ${name}\n`);
      return fileInstall(stagedOverlay(index, path), { path, mode: 0o640, owner, group });
    });
    emitFileInstalls(lines);
    return { script: `stage=${q(stage)}\n${lines.join('\n')}`, lines };
  };

  it('grouped installs replace a link at a temporary name and at a target (to a directory)', () => {
    const dir = join(root, 'grouped');
    const victims = join(root, 'grouped-victims');
    mkdirSync(dir);
    mkdirSync(victims);
    writeFileSync(join(root, 'grouped-victim'), 'victim\n');
    symlinkSync(join(root, 'grouped-victim'), join(dir, '.a.svc-new'));
    symlinkSync(victims, join(dir, 'b'));
    const { script, lines } = grouped(dir, ['a', 'b']);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^install -m 0640 -o \d+ -g \d+ -t \S+ -- /);
    sh(script);
    expect(readFileSync(join(root, 'grouped-victim'), 'utf8')).toBe('victim\n');
    expect(readdirSync(victims)).toEqual([]);
    for (const name of ['a', 'b']) {
      expect(readFileSync(join(dir, name), 'utf8')).toBe(`new ${name}\n`);
      expect(lstatSync(join(dir, name)).isFile()).toBe(true);
      expect(lstatSync(join(dir, name)).mode & 0o7777).toBe(0o640);
    }
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('a grouped install never writes into a directory at a temporary name: it fails', () => {
    const dir = join(root, 'grouped-dir');
    mkdirSync(join(dir, '.d.svc-new'), { recursive: true });
    const { script } = grouped(dir, ['c', 'd']);
    expect(() => sh(script)).toThrow();
    expect(readdirSync(join(dir, '.d.svc-new'))).toEqual([]);
    expect(readdirSync(dir).sort()).not.toContain('d');
  });

  it('copy (backups, adopted originals) copies a link as a link and never into a directory', () => {
    const dir = join(root, 'copy');
    mkdirSync(dir);
    mkdirSync(join(dir, 'into'));
    symlinkSync(join(dir, 'into'), join(dir, 'dest'));
    writeFileSync(join(dir, 'src'), 'x\n');
    sh(copy(q(join(dir, 'src')), q(join(dir, 'dest'))));
    expect(readdirSync(join(dir, 'into'))).toEqual([]);
    expect(lstatSync(join(dir, 'dest')).isFile()).toBe(true);
  });

  it('moveLink replaces a link to a directory at its temporary name, not a link inside it', () => {
    const dir = join(root, 'link');
    mkdirSync(dir);
    mkdirSync(join(dir, 'into'));
    symlinkSync(join(dir, 'into'), join(dir, 'current.svc-new'));
    symlinkSync('old', join(dir, 'current'));
    sh(moveLink(join(dir, 'current'), 'releases/new'));
    expect(readdirSync(join(dir, 'into'))).toEqual([]);
    expect(execFileSync('readlink', [join(dir, 'current')], { encoding: 'utf8' })).toBe(
      'releases/new\n',
    );
  });

  it('a directory is made only where nothing is: a planted link makes it fail, not chmod through', () => {
    const dir = join(root, 'dirs');
    mkdirSync(dir);
    mkdirSync(join(root, 'target-dir'), { mode: 0o755 });
    symlinkSync(join(root, 'target-dir'), join(dir, 'planted'));
    const lines = [dirCreate(join(dir, 'planted'), 0o777, 'root', 'root')];
    emitDirCreates(lines);
    expect(() => sh(lines.join('\n'))).toThrow();
    expect(lstatSync(join(root, 'target-dir')).mode & 0o777).toBe(0o755);
    const fresh = [
      dirCreate(join(dir, 'a', 'b'), 0o750, String(process.getuid!()), String(process.getgid!())),
    ];
    emitDirCreates(fresh);
    sh(fresh.join('\n'));
    expect(lstatSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o750);
  });

  it("svc's state directories: verified root's alone, not just made (review 2, point 5)", () => {
    const said = (dir: string) =>
      execFileSync(
        'sh',
        ['-c', `set -eu\nsay() { printf '%s\\n' "$*"; }\n${checkPrivateDir(dir)}\necho OK`],
        { encoding: 'utf8' },
      );
    const run = (dir: string) => {
      try {
        return said(dir);
      } catch (error) {
        return String((error as { stdout: string }).stdout);
      }
    };
    const state = join(root, 'state');
    for (const [name, mode] of [
      ['group-writable', 0o770],
      ['other-writable', 0o707],
      ['sticky-world', 0o1777],
    ] as const) {
      mkdirSync(join(state, name), { recursive: true });
      execFileSync('chmod', [mode.toString(8), join(state, name)]);
      expect(run(join(state, name))).toMatch(/^FAIL\t.* is not root's own private directory/);
    }
    mkdirSync(join(state, 'real'));
    symlinkSync(join(state, 'real'), join(state, 'link'));
    expect(run(join(state, 'link'))).toMatch(/^FAIL\t/);
    expect(run(join(state, 'absent'))).toMatch(/^FAIL\t/);
    // Owned by uid 0 and writable by root alone (the root directory is): passes.
    expect(run('/')).toBe('OK\n');
  });
});
