// Parses the fact script's output. Strict on purpose: every record is checked for shape and
// order, and a missing end marker means the output was cut short. A host that prints something
// unexpected gets an error naming the line, never a plan built on a guess.
import type {
  DirFact,
  FactRequest,
  HostFacts,
  InitKind,
  PathFact,
  PathType,
  ReleaseRecord,
  ServiceRecords,
  UserFact,
} from './facts.js';
import { FACTS_VERSION } from './facts.js';
import { readLiveRelease } from './release-facts.js';
import type { SlotFact } from './cutover-warm.js';
import type { FoundEnvLine } from './env-diff.js';

export class FactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FactsError';
  }
}

const PATH_TYPES: readonly PathType[] = ['absent', 'file', 'dir', 'link', 'other'];
const INITS: readonly InitKind[] = ['systemd', 'openrc', 'upstart', 'none'];
const HEX = /^(?:[0-9a-f]{2})*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DECIMAL = /^\d{1,15}$/;
const NAME = /^[A-Za-z0-9._-][A-Za-z0-9._$-]*$/;

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  // Stryker disable next-line EqualityOperator: one more turn writes past the end of a typed array, which JS ignores
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
// Stryker disable next-line ObjectLiteral: without options fatal is false too
const utf8 = new TextDecoder('utf-8', { fatal: false });
const hexText = (hex: string) => utf8.decode(hexToBytes(hex));
/** The script's `enc`: `=text` for a plain value (the same characters its case allows), else hex. */
const PLAIN = /^=[A-Za-z0-9._/@:+,-]+$/;
function decodeText(field: string): string | undefined {
  if (PLAIN.test(field)) return field.slice(1);
  return HEX.test(field) ? hexText(field) : undefined;
}

/**
 * A directory path a host reports (D, K, A records) as svc would write it: absolute, no empty,
 * `.` or `..` part, no trailing slash, no control character. A host that reports anything else
 * is lying or broken; the chain checks would compare the wrong strings.
 */
export function canonicalPath(path: string | undefined): path is string {
  if (path === undefined || !path.startsWith('/')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return false;
  if (path === '/') return true;
  return path
    .slice(1)
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..');
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  // Stryker disable next-line EqualityOperator: one more turn writes past the end of a typed array, which JS ignores
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

class Reader {
  private index = 0;
  constructor(
    private readonly lines: string[],
    private readonly host: string,
  ) {}
  fail(reason: string): never {
    throw new FactsError(`${this.host}: facts line ${this.index}: ${reason}`);
  }
  /** The next record, which must have the given tag and field count. */
  next(tag: string, fields: number): string[] {
    const line = this.lines[this.index++];
    if (line === undefined) this.fail(`output ended early, expected a ${tag} record`);
    const parts = line.split('\t');
    if (parts[0] !== tag)
      this.fail(`expected a ${tag} record, got ${JSON.stringify(line.slice(0, 40))}`);
    if (parts.length !== fields + 1)
      this.fail(`a ${tag} record has ${fields} fields, got ${parts.length - 1}`);
    return parts.slice(1);
  }
  /** How many fields the next record has, if it carries this tag; 0 otherwise. */
  peekFieldCount(tag: string): number {
    return this.peek(tag) ? this.lines[this.index]!.split('\t').length - 1 : 0;
  }
  peek(tag: string): boolean {
    return this.lines[this.index]?.startsWith(`${tag}\t`) ?? false;
  }
  check(ok: boolean, reason: string): void {
    if (!ok) this.fail(reason);
  }
  /** `text` parsed as JSON; text that is not JSON fails with `reason`. */
  json(text: string, reason: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return this.fail(reason);
    }
  }
  atEnd(): boolean {
    return this.index >= this.lines.length;
  }
}

export function parseFacts(output: string, request: FactRequest, host: string): HostFacts {
  const lines = output.endsWith('\n') ? output.slice(0, -1).split('\n') : output.split('\n');
  const reader = new Reader(lines, host);
  const [magic, version] = reader.next('B', 2);
  reader.check(
    magic === 'svc-facts' && version === FACTS_VERSION,
    `not svc facts version ${FACTS_VERSION}`,
  );
  const [init] = reader.next('I', 1);
  reader.check(INITS.includes(init as InitKind), `unknown init system ${JSON.stringify(init)}`);
  const hostname = decodeText(reader.next('H', 1)[0]!);
  reader.check(hostname !== undefined, 'the hostname is not encoded text');
  const [login, homeField] = reader.next('L', 2);
  const home = decodeText(homeField!);
  reader.check(
    login === request.loginUser && home !== undefined,
    'login record does not match the request',
  );
  const [monitInstalled, monitRunning] = reader.next('M', 2);
  reader.check(
    /^[01]$/.test(monitInstalled!) && /^[01]$/.test(monitRunning!),
    'monit record is not 0/1',
  );
  const [active, pid] = reader.next('S', 2);
  reader.check(
    /^[01]$/.test(active!) && (pid === '-' || DECIMAL.test(pid!)),
    'service record is malformed',
  );
  const [records] = reader.next('R', 1);
  reader.check(records === '-' || BASE64.test(records!), 'records are not base64');
  const own =
    records === '-' ? undefined : parseRecords(utf8.decode(base64ToBytes(records!)), reader);
  const releases: string[] = [];
  while (reader.peek('X')) {
    const name = decodeText(reader.next('X', 1)[0]!);
    reader.check(name !== undefined, 'a release name is not encoded text');
    releases.push(name!);
  }
  const recordedNow = new Map<string, { type: PathType; sha256?: string }>();
  while (reader.peek('W')) {
    const [pathField, type, sum] = reader.next('W', 3);
    const path = decodeText(pathField!);
    reader.check(
      path !== undefined && path.startsWith('/') && PATH_TYPES.includes(type as PathType),
      'bad record of an installed file',
    );
    reader.check(type === 'file' ? SHA256.test(sum!) : sum === '-', `bad sha256 for ${path}`);
    recordedNow.set(
      path!,
      type === 'file' ? { type: 'file', sha256: sum! } : { type: type as PathType },
    );
  }
  const claimed = new Map<string, string>();
  while (reader.peek('O')) {
    const [serviceField, claimField] = reader.next('O', 2);
    const other = decodeText(serviceField!);
    const claim = decodeText(claimField!);
    reader.check(other !== undefined && claim !== undefined, 'bad claim of another service');
    claimed.set(parseClaim(claim!, reader), other!);
  }

  const paths = new Map<string, PathFact>();
  const resolved = new Map<string, string | undefined>();
  const dirs = new Map<string, DirFact>();
  const linkHolders = new Map<string, string[]>();
  request.paths.forEach((_, index) => {
    const fact = readPathFact(reader, request, index, home!);
    paths.set(fact.path, fact);
    const holders: string[] = [];
    while (reader.peek('D') || reader.peek('K')) {
      if (reader.peek('D')) {
        const dir = readDirFact(reader);
        dirs.set(dir.path, dir);
        continue;
      }
      const [holderIndex, holderField] = reader.next('K', 2);
      const holder = decodeText(holderField!);
      reader.check(
        holderIndex === String(index) && canonicalPath(holder),
        `bad link-holder record for ${fact.path}`,
      );
      holders.push(holder!);
    }
    const [resolvedIndex, resolvedField] = reader.next('A', 2);
    const where = resolvedField === '-' ? undefined : decodeText(resolvedField!);
    reader.check(
      resolvedIndex === String(index) && (resolvedField === '-' || canonicalPath(where)),
      `bad resolution record for ${fact.path}`,
    );
    resolved.set(fact.path, where);
    if (holders.length > 0) linkHolders.set(fact.path, holders);
  });
  const users = new Map<string, UserFact | undefined>();
  for (const name of request.users) users.set(name, readUser(reader, name));
  const groups = new Map<string, number | undefined>();
  for (const name of request.groups) {
    const [got, gid] = reader.next('G', 2);
    reader.check(
      got === name && (gid === '-' || DECIMAL.test(gid!)),
      `bad group record for ${name}`,
    );
    groups.set(name, gid === '-' ? undefined : Number(gid));
  }
  const liveRelease = request.liveRelease && readLiveRelease(reader, request.liveRelease);
  const slots = request.slots && readSlots(reader, request.slots);
  const [end] = reader.next('E', 1);
  reader.check(end === 'svc-facts' && reader.atEnd(), 'trailing output after the end marker');

  return {
    salt: request.salt,
    hostname: hostname!,
    login: { user: login!, home: home! },
    init: init as InitKind,
    monit: { installed: monitInstalled === '1', running: monitRunning === '1' },
    service:
      active === '1' && pid !== '-'
        ? { active: true, pid: Number(pid) }
        : { active: active === '1' },
    paths,
    users,
    groups,
    installed: own?.files,
    installedSha256: new Map(
      (own?.sha256 ?? []).map((sum, index) => [own!.files[index]!, sum] as const),
    ),
    adopted: new Set(own?.adopted ?? []),
    recordedNow,
    history: own?.history ?? [],
    releases,
    claimed,
    resolved,
    dirs,
    linkHolders,
    ...(liveRelease && { liveRelease }),
    ...(slots && { slots }),
  };
}

/** T: each slot asked for, in order: its main pid, the release it runs, what it started with. */
function readSlots(
  reader: Reader,
  asked: NonNullable<FactRequest['slots']>,
): Map<number, SlotFact> {
  const slots = new Map<number, SlotFact>();
  for (const { port } of asked) {
    const [got, pid, releaseField, env, unit] = reader.next('T', 5);
    const release = releaseField === '-' ? undefined : decodeText(releaseField!);
    const sha = (field: string) => field === '-' || SHA256.test(field);
    reader.check(
      got === String(port) &&
        (pid === '-' || DECIMAL.test(pid!)) &&
        (releaseField === '-' || (release !== undefined && NAME.test(release))) &&
        sha(env!) &&
        sha(unit!),
      `bad slot record for port ${port}`,
    );
    slots.set(port, {
      ...(pid !== '-' && { pid: Number(pid) }),
      ...(release !== undefined && { release }),
      ...(env !== '-' && { envSha256: env! }),
      ...(unit !== '-' && { unitSha256: unit! }),
    });
  }
  return slots;
}

/** D: a directory on the way to a requested path: mode, uid, gid, owner and group names. */
function readDirFact(reader: Reader): DirFact {
  const [pathField, mode, uid, gid, owner, group, acl] = reader.next('D', 7);
  const path = decodeText(pathField!);
  reader.check(
    canonicalPath(path) &&
      (acl === '+' || acl === '-') &&
      /^[0-7]{3,4}$/.test(mode!) &&
      DECIMAL.test(uid!) &&
      DECIMAL.test(gid!) &&
      NAME.test(owner!) &&
      NAME.test(group!),
    `bad directory record for ${path ?? pathField}`,
  );
  return {
    path: path!,
    mode: parseInt(mode!, 8),
    uid: Number(uid),
    gid: Number(gid),
    owner: owner!,
    group: group!,
    ...(acl === '+' && { acl: true }),
  };
}

function readPathFact(reader: Reader, request: FactRequest, index: number, home: string): PathFact {
  const requested = request.paths[index]!;
  const path = requested.path.startsWith('~/')
    ? `${home}/${requested.path.slice(2)}`
    : requested.path;
  const first = reader.next('P', reader.peekFieldCount('P') === 2 ? 2 : 8);
  reader.check(
    first[0] === String(index),
    `expected facts for path ${index} (${path}), got ${first[0]}`,
  );
  if (first.length === 2) {
    reader.check(first[1] === 'absent', `bad path record for ${path}`);
    return { path, type: 'absent' };
  }
  const [, type, mode, owner, group, size, sum, target] = first as [string, ...string[]];
  reader.check(
    PATH_TYPES.includes(type as PathType) && type !== 'absent',
    `unknown type ${JSON.stringify(type)} for ${path}`,
  );
  reader.check(/^[0-7]{3,4}$/.test(mode!), `bad mode for ${path}`);
  reader.check(NAME.test(owner!) && NAME.test(group!), `bad owner for ${path}`);
  reader.check(DECIMAL.test(size!), `bad size for ${path}`);
  reader.check(type === 'file' ? SHA256.test(sum!) : sum === '-', `bad sha256 for ${path}`);
  const linkTarget = type === 'link' ? decodeText(target!) : undefined;
  reader.check(
    type === 'link' ? linkTarget !== undefined && linkTarget !== '' : target === '-',
    `bad link target for ${path}`,
  );
  const fact: PathFact = {
    path,
    type: type as PathType,
    mode: parseInt(mode!, 8),
    owner,
    group,
    size: Number(size),
  };
  if (type === 'file') fact.sha256 = sum;
  if (linkTarget !== undefined) fact.target = linkTarget;
  if (reader.peek('C')) {
    const [contentIndex, content] = reader.next('C', 2);
    reader.check(
      contentIndex === String(index) && BASE64.test(content!),
      `bad content record for ${path}`,
    );
    fact.content = base64ToBytes(content!);
  }
  if (requested.envKeys !== undefined && type === 'file')
    fact.envLines = readEnvLines(reader, index, path);
  return fact;
}

/** N records: the env file's lines, each the line itself (=) or its salted sha256 (#). */
function readEnvLines(reader: Reader, index: number, path: string): FoundEnvLine[] {
  const lines: FoundEnvLine[] = [];
  while (reader.peek('N')) {
    const [lineIndex, keyField, kind, value] = reader.next('N', 4);
    const key = decodeText(keyField!);
    const plain = kind === '=' ? decodeText(value!) : undefined;
    reader.check(
      lineIndex === String(index) &&
        key !== undefined &&
        (kind === '=' ? plain !== undefined : kind === '#' && SHA256.test(value!)),
      `bad env file line record for ${path}`,
    );
    lines.push(kind === '=' ? { key: key!, plain: plain! } : { key: key!, hash: value! });
  }
  return lines;
}

function readUser(reader: Reader, name: string): UserFact | undefined {
  const [got, entryField] = reader.next('U', 2);
  reader.check(got === name, `expected the user record for ${name}`);
  if (entryField === '-') return undefined;
  const entry = decodeText(entryField!);
  reader.check(entry !== undefined, `bad user record for ${name}`);
  const fields = entry!.split(':');
  reader.check(fields.length === 7 && fields[0] === name, `bad passwd entry for ${name}`);
  reader.check(DECIMAL.test(fields[2]!) && DECIMAL.test(fields[3]!), `bad uid or gid for ${name}`);
  return {
    name,
    uid: Number(fields[2]),
    gid: Number(fields[3]),
    home: fields[5]!,
    shell: fields[6]!,
  };
}

/** A claim is a path as it appears in a records file: a JSON string. */
function parseClaim(text: string, reader: Reader): string {
  const path = reader.json(text, 'a claim of another service is not a JSON string');
  reader.check(typeof path === 'string' && path.startsWith('/'), 'a claim is not an absolute path');
  return path as string;
}

type ParsedRecords = Pick<ServiceRecords, 'files' | 'history' | 'sha256' | 'adopted'>;

function parseRecords(text: string, reader: Reader): ParsedRecords {
  const data = reader.json(text, 'svc records on the host are not valid JSON');
  const {
    files,
    history = [],
    sha256,
    adopted = [],
  } = (data ?? {}) as { files?: unknown; history?: unknown; sha256?: unknown; adopted?: unknown };
  const isPathList = (list: unknown): list is string[] =>
    Array.isArray(list) && list.every((file) => typeof file === 'string' && file.startsWith('/'));
  reader.check(isPathList(files) && isPathList(adopted), 'svc records on the host are malformed');
  reader.check(
    sha256 === undefined ||
      (Array.isArray(sha256) &&
        sha256.length === (files as string[]).length &&
        sha256.every((sum) => typeof sum === 'string' && SHA256.test(sum))),
    'svc records on the host are malformed (sha256)',
  );
  reader.check(
    Array.isArray(history) &&
      history.every(
        (entry) =>
          typeof entry?.id === 'string' &&
          (entry.status === 'good' || entry.status === 'bad') &&
          typeof entry.at === 'string',
      ),
    'svc release history on the host is malformed',
  );
  return {
    files: files as string[],
    history: history as ReleaseRecord[],
    // Stryker disable next-line ConditionalExpression: sha256: undefined reads the same as no key (`own?.sha256 ?? []`)
    ...(sha256 !== undefined && { sha256: sha256 as string[] }),
    adopted: adopted as string[],
  };
}
