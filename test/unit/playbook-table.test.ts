// parsePlaybook, case by case: each bad step is one line naming the file, the step's number, its
// type and the field; each bound of each field is pinned on both sides.
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/core/playbook.js';

const TYPES = 'user, dir, link, release, overlay, service, monit, scripts, health';
const NOT_A_STEP = `pb.yaml: 1: a step is a mapping with exactly one key, the step type (${TYPES})`;
const MODE = 'must be an octal mode in quotes, e.g. "0755"';
const KEEP = 'must be a whole number from 2 to 100';
const TIMEOUT = 'must be a number of seconds from 1 to 600';

/** An alias bomb: 10^8 x's from a few lines (billion laughs). */
function aliasBomb(): string {
  const lines = ['    a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level < 8; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(`    ${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
  }
  return `- service: {}\n- bomb:\n${lines.join('\n')}\n`;
}

describe('parsePlaybook refuses', () => {
  it.each([
    ['a mapping', 'a: 1\n', 'pb.yaml: a playbook is a list of steps'],
    ['a string', '"x"\n', 'pb.yaml: a playbook is a list of steps'],
    ['a list as a step', '- [1]\n', NOT_A_STEP],
    ['null as a step', '- null\n', NOT_A_STEP],
    ['a string as a step', '- "dir"\n', NOT_A_STEP],
    [
      'a step with two keys',
      '- { dir: { path: /a }, link: { path: /b, target: c } }\n',
      NOT_A_STEP,
    ],
    ['an empty step', '- {}\n', NOT_A_STEP],
    [
      'an unknown step',
      '- servce: {}\n',
      'pb.yaml: 1: unknown step servce (did you mean service?)',
    ],
    ['a missing field', '- user: { name: a }\n', 'pb.yaml: 1.user.home: must be a string'],
    [
      'a number for a string',
      '- user: { name: a, home: 1 }\n',
      'pb.yaml: 1.user.home: must be a string',
    ],
    [
      'an unknown key',
      '- user: { name: a, home: /h, shell: x }\n',
      'pb.yaml: 1.user.shell: unknown key',
    ],
    ['an unknown key of an empty step', '- monit: { x: 1 }\n', 'pb.yaml: 1.monit.x: unknown key'],
    ['an unquoted mode', '- dir: { path: /a, mode: 755 }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    ['an 8 in a mode', '- dir: { path: /a, mode: "0855" }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    ['text before a mode', '- dir: { path: /a, mode: "x0755" }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    ['text after a mode', '- dir: { path: /a, mode: "0755x" }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    ['a two-digit mode', '- dir: { path: /a, mode: "75" }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    ['a five-digit mode', '- dir: { path: /a, mode: "107555" }\n', `pb.yaml: 1.dir.mode: ${MODE}`],
    [
      'a number for an owner',
      '- dir: { path: /a, owner: 1 }\n',
      'pb.yaml: 1.dir.owner: must be a string',
    ],
    [
      'a number for a group',
      '- dir: { path: /a, group: 1 }\n',
      'pb.yaml: 1.dir.group: must be a string',
    ],
    ['a link without target', '- link: { path: /a }\n', 'pb.yaml: 1.link.target: must be a string'],
    ['keep 1', '- release: { keep: 1 }\n', `pb.yaml: 1.release.keep: ${KEEP}`],
    ['keep 101', '- release: { keep: 101 }\n', `pb.yaml: 1.release.keep: ${KEEP}`],
    ['keep 2.5', '- release: { keep: 2.5 }\n', `pb.yaml: 1.release.keep: ${KEEP}`],
    ['keep "5"', '- release: { keep: "5" }\n', `pb.yaml: 1.release.keep: ${KEEP}`],
    [
      'an overlay from elsewhere',
      '- overlay: { from: other }\n',
      'pb.yaml: 1.overlay.from: must be config',
    ],
    ['an overlay from nowhere', '- overlay: {}\n', 'pb.yaml: 1.overlay.from: must be config'],
    ['timeout 0', '- health: { timeout: 0 }\n', `pb.yaml: 1.health.timeout: ${TIMEOUT}`],
    ['timeout 601', '- health: { timeout: 601 }\n', `pb.yaml: 1.health.timeout: ${TIMEOUT}`],
    ['timeout 1.5', '- health: { timeout: 1.5 }\n', `pb.yaml: 1.health.timeout: ${TIMEOUT}`],
    ['timeout "x"', '- health: { timeout: "x" }\n', `pb.yaml: 1.health.timeout: ${TIMEOUT}`],
    [
      'the second step, numbered 2',
      '- service: {}\n- monit: { x: 1 }\n',
      'pb.yaml: 2.monit.x: unknown key',
    ],
    [
      'a duplicate key',
      '- service: {}\n  service: {}\n',
      'pb.yaml: Map keys must be unique at line 2, column 3:',
    ],
    [
      'broken YAML',
      '- service: {\n',
      'pb.yaml: Flow map in block collection must be sufficiently indented and end with a } at line 2, column 1:',
    ],
    ['an alias bomb', aliasBomb(), 'pb.yaml: its YAML aliases expand too far (an alias bomb?)'],
  ])('%s', (_, source, message) => {
    let thrown: unknown;
    try {
      parsePlaybook(source, 'pb.yaml');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe(message);
  });
});

describe('parsePlaybook accepts', () => {
  it.each([
    ['a step with no value', '- service:\n', [{ kind: 'service', args: {} }]],
    [
      'a three-digit mode',
      '- dir: { path: /a, mode: "755" }\n',
      [{ kind: 'dir', args: { path: '/a', mode: '755' } }],
    ],
    [
      'a sticky mode',
      '- dir: { path: /a, mode: "01777" }\n',
      [{ kind: 'dir', args: { path: '/a', mode: '01777' } }],
    ],
    [
      'a four-digit mode',
      '- dir: { path: /a, mode: "7555" }\n',
      [{ kind: 'dir', args: { path: '/a', mode: '7555' } }],
    ],
    ['keep 2', '- release: { keep: 2 }\n', [{ kind: 'release', args: { keep: 2 } }]],
    ['keep 100', '- release: { keep: 100 }\n', [{ kind: 'release', args: { keep: 100 } }]],
    ['timeout 1', '- health: { timeout: 1 }\n', [{ kind: 'health', args: { timeout: 1 } }]],
    ['timeout 600', '- health: { timeout: 600 }\n', [{ kind: 'health', args: { timeout: 600 } }]],
    [
      'a few aliases',
      '- dir: &a { path: /a }\n- dir: *a\n',
      [
        { kind: 'dir', args: { path: '/a' } },
        { kind: 'dir', args: { path: '/a' } },
      ],
    ],
    [
      'steps in order',
      '- scripts: {}\n- link: { path: /a, target: b }\n- overlay: { from: config }\n',
      [
        { kind: 'scripts', args: {} },
        { kind: 'link', args: { path: '/a', target: 'b' } },
        { kind: 'overlay', args: { from: 'config' } },
      ],
    ],
  ])('%s', (_, source, steps) => {
    expect(parsePlaybook(source, 'pb.yaml')).toEqual(steps);
  });
});
