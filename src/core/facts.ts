// Facts: what a host looks like now, gathered in ONE round trip by one read-only sh script, and
// parsed strictly. Output that is malformed, truncated or out of order is an error: a wrong plan
// is worse than no plan.
import { shellQuote } from './quote.js';
import { ENV_PLAIN_MARK, ENV_SECRET_MARK } from './env-file.js';
import type { FoundEnvLine } from './env-diff.js';
import { sha256Hex } from './release.js';
import { SLOT_FACT, type SlotFact } from './cutover-warm.js';
import {
  liveReleaseScript,
  MAX_DIFF_BYTES,
  type LiveRelease,
  type LiveReleaseRequest,
} from './release-facts.js';

export type PathType = 'absent' | 'file' | 'dir' | 'link' | 'other';
export type InitKind = 'systemd' | 'openrc' | 'upstart' | 'none';

export interface PathFact {
  path: string;
  type: PathType;
  mode?: number;
  owner?: string;
  group?: string;
  size?: number;
  sha256?: string;
  /** For a link: where it points, exactly as readlink prints it. */
  target?: string;
  /** For a file whose sha256 differs from the expected one: its content, for the diff. */
  content?: Uint8Array;
  /** The env file svc renders (PathRequest.envKeys): each KEY=VALUE line, plain or hashed. */
  envLines?: FoundEnvLine[];
}

export interface UserFact {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface HostFacts {
  hostname: string;
  /** The SSH login user and its home: where ~/service, ~/log and ~/db live. */
  login: { user: string; home: string };
  init: InitKind;
  monit: { installed: boolean; running: boolean };
  service: { active: boolean; pid?: number };
  paths: Map<string, PathFact>;
  users: Map<string, UserFact | undefined>;
  groups: Map<string, number | undefined>;
  /** svc's record of the files it installed for this service; undefined before the first deploy. */
  installed?: string[];
  /** The sha256 svc recorded for each installed file when it wrote it (absent: an older svc). */
  installedSha256: Map<string, string>;
  /** Installed files that were on the host before svc took them over (--adopt): svc keeps the original. */
  adopted: Set<string>;
  /** What each recorded file is now (installed.list): a deletion needs its content unchanged. */
  recordedNow: Map<string, { type: PathType; sha256?: string }>;
  /** The release history svc recorded (newest last); empty before the first deploy. */
  history: ReleaseRecord[];
  /** Release directories present under /var/www/NAME/releases. */
  releases: string[];
  /** Files other services' records claim: path -> service. */
  claimed: Map<string, string>;
  /**
   * Each requested path as the host resolves it (A records): its deepest existing ancestor through
   * every link (readlink -f), then the rest as written. undefined: the host could not resolve it
   * (a link loop). A path missing here resolves to itself.
   */
  resolved: Map<string, string | undefined>;
  /**
   * Every directory a requested path's resolution passes through, with its owner and mode (D
   * records): root must not write below one that another user can change (plan.ts).
   */
  dirs: Map<string, DirFact>;
  /**
   * For each requested path with a link on its way: the directories holding those links, each
   * hop included (K records). Whoever can change one can move the link (parent-chain.ts).
   */
  linkHolders: Map<string, string[]>;
  /** The live release and its recorded file list (V, Z records), when the request asked. */
  liveRelease?: LiveRelease;
  /** The run's salt of the env file's line hashes (FactRequest.salt); absent: ''. */
  salt?: string;
  /** cutover: switch: each slot by port, as its unit runs now (T records, cutover-warm.ts). */
  slots?: Map<number, SlotFact>;
}

/** A real directory (no link) on the way to a path svc writes. */
export interface DirFact {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  /** ls marks it as having a POSIX ACL (+): write may be granted beyond what the mode shows. */
  acl?: boolean;
}

export interface ReleaseRecord {
  id: string;
  status: 'good' | 'bad';
  at: string;
}

/** The records file, /var/lib/svc/NAME/installed.json. */
export interface ServiceRecords {
  version: 1;
  service: string;
  files: string[];
  /** sha256 of each of `files`, in the same order, as svc installed it. */
  sha256?: string[];
  /** Those of `files` that svc took over with --adopt: the original waits in adopted/. */
  adopted?: string[];
  history: ReleaseRecord[];
}

export interface PathRequest {
  path: string;
  /** Fetch the content when the file's sha256 differs from this (and it is not secret). */
  compareWith?: string;
  /**
   * The env file svc renders: one N record per KEY=VALUE line, the line itself for these keys in
   * the file's plain part (ENV_PLAIN_MARK), sha256(salt, line) for every other line.
   */
  envKeys?: string[];
}

export interface FactRequest {
  service: string;
  loginUser: string;
  paths: PathRequest[];
  users: string[];
  groups: string[];
  /** svc's installed-files record on the host. */
  recordsFile: string;
  /** Where every service's records live: /var/lib/svc (one directory per service). */
  recordsRoot: string;
  releasesDir: string;
  pidfile: string;
  /** What the live release holds (release-facts.ts): asked when a release with files is planned. */
  liveRelease?: LiveReleaseRequest;
  /**
   * cutover: switch: each slot's systemd unit ('' under other init systems), port, start record
   * and the pidfile that names its process there (cutover-warm.ts), in slot order.
   */
  slots?: { unit: string; port: number; record: string; pidfile: string }[];
  /**
   * A random value of this run (the edge makes it; it is never printed): it salts the facts
   * digest and the env file's per-line hashes, so neither is an offline oracle for a secret.
   */
  salt: string;
}

export const FACTS_VERSION = '7';
/** Files larger than this are compared by hash only (release-facts.ts: one cap for both). */
export { MAX_DIFF_BYTES };

/** `${expr}` for the sh scripts below: written through this, String.raw can carry it. */
export const expand = (expression: string) => '${' + expression + '}';

// Processes are what a fact run costs (a host may be one of ten sharing two CPUs), so values are
// read with the shell's own read and parameter expansion where it can, and a text value travels
// as `=text` when it is plain, hex only when it holds anything else.
const SCRIPT_PRELUDE = String.raw`set -u
export LC_ALL=C
hex() { od -An -v -tx1 | tr -d ' \n'; }
b64() { base64 | tr -d '\n'; }
enc() {
  case $1 in
    '' | *[!A-Za-z0-9._/@:+,-]*) enc=$(printf %s "$1" | hex) ;;
    *) enc="=$1" ;;
  esac
}
# File content is read without following a link or waiting on a FIFO (dd's nofollow, nonblock):
# another user could swap the file for one between the test above and the read, and root would
# read /etc/shadow into the plan, or hang. Without GNU dd (busybox), the read is re-checked
# immediately before, a narrower window (docs/RELIABILITY.md).
if dd if=/dev/null of=/dev/null iflag=nofollow,nonblock count=0 2>/dev/null; then
  rd() { dd if="$1" iflag=nofollow,nonblock bs=65536 2>/dev/null; }
else
  rd() { if [ -f "$1" ] && [ ! -L "$1" ] && [ ! -p "$1" ]; then cat -- "$1"; fi; }
fi
path_fact() {
  if [ -L "$2" ]; then t=link; elif [ -d "$2" ]; then t=dir; elif [ -f "$2" ]; then t=file;
  elif [ -e "$2" ]; then t=other; else printf 'P\t%s\tabsent\n' "$1"; return; fi
  if cached "$2"; then path_stat $hit; else st=$(stat -c '%a %U %G %s' -- "$2"); fi
  set -- "$1" "$2" "$3" "$t" $st
  sum=-; enc=-
  if [ "$4" = file ]; then
    if sum_of "$2"; then sum=$hit; else sum=$(rd "$2" | sha256sum); sum=${expand('sum%% *')}; fi
  fi
  if [ "$4" = link ]; then
    # Exact, trailing newlines included: the . stops $(...) from stripping them.
    # A link gone meanwhile reads as an empty target, which the parser refuses.
    target=$(readlink -- "$2" && echo .) || target=; target=${expand('target%?.')}; enc "$target"
  fi
  printf 'P\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$4" "$5" "$6" "$7" "$8" "$sum" "$enc"
  if [ "$4" = file ] && [ -n "$3" ] && [ "$sum" != "$3" ] && [ "$8" -le ${MAX_DIFF_BYTES} ]; then
    printf 'C\t%s\t%s\n' "$1" "$(rd "$2" | b64)"
  fi
}
# The env file's lines (N records), comments and blank lines left out: a line of a key in $3 (svc.yaml's
# own values) after the plain mark as it is, any other line as sha256 of the run's salt and the
# line, so that no secret leaves the host and its hash tells nothing without the salt.
env_fact() {
  [ -f "$2" ] && [ ! -L "$2" ] || return 0
  rd "$2" | {
    zone=hash
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        "$env_plain_mark") zone=plain; continue ;;
        "$env_secret_mark") zone=hash; continue ;;
        '' | '#'*) continue ;;
      esac
      key=${expand('line%%=*')}
      shown=0
      case $key in '' | *[!A-Za-z0-9_]*) ;; *) case " $3 " in *" $key "*) [ $zone = hash ] || shown=1 ;; esac ;; esac
      enc "$key"; k=$enc
      if [ $shown = 1 ]; then enc "$line"; printf 'N\t%s\t%s\t=\t%s\n' "$1" "$k" "$enc"
      else sum=$(printf '%s\n%s' "$salt" "$line" | sha256sum); printf 'N\t%s\t%s\t#\t%s\n' "$1" "$k" "${expand('sum%% *')}"; fi
    done
  }
}
# The directories on the way to a path, each once (D), the directories holding a link on its way
# (K: whoever can change one can move the link), then where the path resolves (A). The path is
# resolved one link at a time (readlink, one level, at most 40), so a link met inside another
# link's target is seen too; past the deepest existing directory the rest is as written. D also says whether
# ls marks the directory as having an ACL (+), which can grant write beyond its mode.
# One stat and one ls for every requested path that exists and every real directory above one
# (processes are what a fact run costs; the chains below would take a stat and an ls each): the
# cache holds a line per path, its name then "ACL MODE UID GID OWNER GROUP SIZE" (a value never
# begins with /, a name always does). A path holding a newline is left out (it is looked up the
# old way), and so is everything when the two commands do not print exactly a line per path.
nl='
'
stat_cache=$nl
prefetch() {
  pf_list=$nl
  for pf_p do
    case $pf_p in /*) ;; *) continue ;; esac
    case $pf_p in *"$nl"*) continue ;; esac
    if [ -e "$pf_p" ] || [ -L "$pf_p" ]; then pf_add "$pf_p"; fi
    pf_d=$pf_p
    while [ "$pf_d" != / ]; do
      pf_d=${expand('pf_d%/*')}; [ -n "$pf_d" ] || pf_d=/
      if [ -d "$pf_d" ] && [ ! -L "$pf_d" ]; then pf_add "$pf_d"; fi
    done
  done
  IFS=$nl; set -f; set -- $pf_list; unset IFS; set +f
  [ $# -gt 0 ] || return 0
  pf_s=$(stat -c '%a %u %g %U %G %s' -- "$@" 2>/dev/null) || return 0
  pf_l=$(ls -ldUq -- "$@" 2>/dev/null) || return 0
  pf_s=$pf_s$nl pf_l=$pf_l$nl pf_cache=$nl
  for pf_p do
    [ -n "$pf_s" ] && [ -n "$pf_l" ] || return 0
    pf_acl=-
    case ${expand('pf_l%%"$nl"*')} in ??????????+*) pf_acl=+ ;; esac
    pf_cache=$pf_cache$pf_p$nl$pf_acl' '${expand('pf_s%%"$nl"*')}$nl
    pf_s=${expand('pf_s#*"$nl"')} pf_l=${expand('pf_l#*"$nl"')}
  done
  [ -z "$pf_s" ] && [ -z "$pf_l" ] || return 0
  stat_cache=$pf_cache
}
pf_add() { case $pf_list in *"$nl$1$nl"*) ;; *) pf_list=$pf_list$1$nl ;; esac; }
# cached PATH: its line from the prefetch into $hit, or 1 when it has none.
cached() {
  case $1 in *"$nl"*) return 1 ;; esac
  case $stat_cache in *"$nl$1$nl"*) ;; *) return 1 ;; esac
  hit=${expand('stat_cache#*"$nl$1$nl"')}; hit=${expand('hit%%"$nl"*')}
}
# path_stat ACL MODE UID GID OWNER GROUP SIZE: what path_fact's stat prints, into $st.
path_stat() { st="$2 $5 $6 $7"; }
# The sha256 of each file installed.list names (W records), kept for its P record: a file svc
# installed is asked about in both, and read (dd and sha256sum) once. Name, then sum, as above.
sum_cache=$nl
sum_keep() { case $1 in *"$nl"*) ;; *) sum_cache=$sum_cache$1$nl$2$nl ;; esac; }
sum_of() {
  case $1 in *"$nl"*) return 1 ;; esac
  case $sum_cache in *"$nl$1$nl"*) ;; *) return 1 ;; esac
  hit=${expand('sum_cache#*"$nl$1$nl"')}; hit=${expand('hit%%"$nl"*')}
}
seen_dirs=
dir_facts() {
  d=$1
  while :; do
    case $seen_dirs in *"
$d
"*) return 0 ;; esac
    seen_dirs="$seen_dirs
$d
"
    if cached "$d"; then acl=${expand('hit%% *')}; s=${expand('hit#* ')}
    else
      s=$(stat -c '%a %u %g %U %G' -- "$d") || return 0
      acl=-
      case $(ls -ld -- "$d" 2>/dev/null) in ??????????+*) acl=+ ;; esac
    fi
    set -- $s
    enc "$d"; printf 'D\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$enc" "$1" "$2" "$3" "$4" "$5" "$acl"
    [ "$d" != / ] || return 0
    d=${expand('d%/*')}; [ -n "$d" ] || d=/
  done
}
chain_fact() {
  i=$1 cur= have= todo=${expand('2#/')} hops=0 gone= held="
"
  while [ -n "$todo" ]; do
    c=${expand('todo%%/*')}
    case $todo in */*) todo=${expand('todo#*/')} ;; *) todo= ;; esac
    case $c in '' | .) continue ;; ..) cur=${expand('cur%/*')}; continue ;; esac
    next=$cur/$c
    # The path itself is not followed: svc replaces a link there or refuses (its P record).
    if [ -n "$gone" ] || [ -z "$todo" ]; then cur=$next
    elif [ -L "$next" ]; then
      hops=$((hops + 1))
      if [ $hops -gt 40 ] || ! t=$(readlink -- "$next" && echo .); then printf 'A\t%s\t-\n' "$i"; return; fi
      t=${expand('t%?.')}
      if [ -z "$t" ]; then printf 'A\t%s\t-\n' "$i"; return; fi
      case $held in *"
${expand('cur:-/')}
"*) ;; *)
        held="$held${expand('cur:-/')}
"
        dir_facts "${expand('cur:-/')}"; enc "${expand('cur:-/')}"; printf 'K\t%s\t%s\n' "$i" "$enc" ;;
      esac
      case $t in /*) cur= ;; esac
      t=${expand('t#/')}; todo=$t${expand('todo:+/$todo')}
    elif [ -d "$next" ]; then cur=$next; have=$next
    elif [ -e "$next" ]; then cur=$next
    else cur=$next; gone=1; fi
  done
  dir_facts "${expand('have:-/')}"
  enc "${expand('cur:-/')}"; printf 'A\t%s\t%s\n' "$i" "$enc"
}
user_fact() {
  if line=$(getent passwd "$1"); then enc "$line"; printf 'U\t%s\t%s\n' "$1" "$enc"
  else printf 'U\t%s\t-\n' "$1"; fi
}
group_fact() {
  if line=$(getent group "$1"); then IFS=: read -r _ _ gid _ <<EOF
$line
EOF
    printf 'G\t%s\t%s\n' "$1" "$gid"
  else printf 'G\t%s\t-\n' "$1"; fi
}
`;

const SCRIPT_HOST = String.raw`comm=
[ ! -r /proc/1/comm ] || read -r comm < /proc/1/comm || :
if [ "$comm" = systemd ] || [ -d /run/systemd/system ]; then init=systemd
elif [ -d /run/openrc ]; then init=openrc
elif command -v initctl >/dev/null 2>&1 && initctl version 2>/dev/null | grep -q upstart; then init=upstart
else init=none; fi
printf 'I\t%s\n' "$init"
if [ -r /proc/sys/kernel/hostname ]; then read -r host < /proc/sys/kernel/hostname; else host=$(hostname); fi
enc "$host"; printf 'H\t%s\n' "$enc"
login_home=
if line=$(getent passwd "$login"); then IFS=: read -r _ _ _ _ _ login_home _ <<EOF
$line
EOF
fi
if [ -z "$login_home" ]; then echo "svc-facts: the login user $login has no home directory" >&2; exit 3; fi
enc "$login_home"; printf 'L\t%s\t%s\n' "$login" "$enc"
if command -v monit >/dev/null 2>&1; then
  if monit summary >/dev/null 2>&1; then printf 'M\t1\t1\n'; else printf 'M\t1\t0\n'; fi
else printf 'M\t0\t0\n'; fi
active=0; pid=-
if [ "$init" = systemd ]; then
  if systemctl is-active --quiet "$service" 2>/dev/null; then active=1; pid=$(systemctl show -p MainPID --value "$service" | tr -cd 0-9); fi
elif [ -r "$pidfile" ]; then
  pid=$(head -c 32 "$pidfile" | tr -cd 0-9)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then active=1; else pid=-; fi
fi
[ -n "$pid" ] || pid=-
printf 'S\t%s\t%s\n' "$active" "$pid"
if [ -f "$records" ] && [ ! -L "$records" ]; then printf 'R\t%s\n' "$(head -c 1048576 "$records" | b64)"; else printf 'R\t-\n'; fi
if [ -d "$releases" ] && [ ! -L "$releases" ]; then
  for d in "$releases"/*; do
    if [ -d "$d" ] && [ ! -L "$d" ]; then enc "${expand('d##*/')}"; printf 'X\t%s\n' "$enc"; fi
  done
fi
# The files svc recorded for this service, and what each is now: a deletion only removes a file
# whose content is still what svc installed (installed.list: the same paths, one per line).
list=${expand('records%/*')}/installed.list
if [ -f "$list" ] && [ ! -L "$list" ]; then
  while IFS= read -r f; do
    case $f in /*) ;; *) continue ;; esac
    if [ -L "$f" ]; then t=link; elif [ -f "$f" ]; then t=file; elif [ -e "$f" ]; then t=other; else t=absent; fi
    sum=-; [ "$t" != file ] || { sum=$(rd "$f" | sha256sum); sum=${expand('sum%% *')}; sum_keep "$f" "$sum"; }
    enc "$f"; printf 'W\t%s\t%s\t%s\n' "$enc" "$t" "$sum"
  done < "$list"
fi
# Other services' claims, on the paths this plan writes only: a record of another service that
# does not touch them is no part of the plan (nor of the digest that refuses a stale one).
if command -v claims >/dev/null 2>&1; then
  for f in "$records_root"/*/installed.json; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    other=${expand('f%/installed.json')}; other=${expand('other##*/')}
    [ "$other" = "$service" ] && continue
    enc "$other"; other=$enc
    claims "$f" | while IFS= read -r claim; do enc "$claim"; printf 'O\t%s\t%s\n' "$other" "$enc"; done
  done
fi
`;

/**
 * claims FILE: which of the absolute paths this plan writes another service's records list, each
 * as its JSON string (records are JSON.stringify'd, so a listed path appears exactly so, and
 * only in `files`). No function when the plan writes no absolute path.
 */
function claimsFunction(request: FactRequest): string {
  const patterns = request.paths
    .filter((path) => path.path.startsWith('/'))
    .flatMap((path) => ['-e', shellQuote(JSON.stringify(path.path))]);
  return patterns.length === 0
    ? ''
    : `claims() { grep -F -o ${patterns.join(' ')} -- "$1" 2>/dev/null || :; }`;
}

/**
 * What the stale-plan check hashes: the fact output without the service's running state (S, and
 * each cutover slot's, T), which
 * a supervisor restarting a crashing service changes from one second to the next. The apply step
 * decides start or restart from the host as it finds it, so the plan does not depend on it.
 */
export function digestedFacts(output: string): string {
  return output
    .split(/(?<=\n)/)
    .filter(
      (line) =>
        !line.startsWith('S\t') && !line.startsWith('T\t') && !line.startsWith(STATE_DIR_RECORD),
    )
    .join('');
}

/**
 * The directory record of svc's own state directory: the apply script makes /var/lib/svc (for
 * its lock and staging area) before it checks the facts again, so on a first deploy it is there
 * then and was not at plan time. Whether it was safe when it was there is still the plan's to
 * say (it is on the way to /var/lib/svc/NAME); the apply script makes it root's 0700 either way.
 */
const STATE_DIR_RECORD = 'D\t=/var/lib/svc\t';

/**
 * The digest a plan carries and the apply script recomputes on the host (stale check). The facts
 * hold the env file's plain sha256 (P, W records and svc's records): a digest of them alone would
 * let anyone holding a `--json` plan or a log try short secrets offline. Salted with the run's
 * random value, which stays in svc's memory and the apply script's stdin, it tells nothing.
 */
export function factsDigest(output: string, salt: string): string {
  return sha256Hex(`${salt}\n${digestedFacts(output)}`);
}

/** The same filter in sh, for the apply script's stale check (literal tabs in the patterns). */
export const DIGESTED_FACTS_FILTER = `grep -v -e '^S\t' -e '^T\t' -e '^${STATE_DIR_RECORD}'`;

/** The read-only script that reports every fact a plan needs. Every value in it is shell-quoted. */
export function factScript(request: FactRequest): string {
  const lines = [
    SCRIPT_PRELUDE,
    `login=${shellQuote(request.loginUser)}`,
    `service=${shellQuote(request.service)}`,
    `pidfile=${shellQuote(request.pidfile)}`,
    `records=${shellQuote(request.recordsFile)}`,
    `records_root=${shellQuote(request.recordsRoot)}`,
    `releases=${shellQuote(request.releasesDir)}`,
    `salt=${shellQuote(request.salt)}`,
    `env_plain_mark=${shellQuote(ENV_PLAIN_MARK)}`,
    `env_secret_mark=${shellQuote(ENV_SECRET_MARK)}`,
    `printf 'B\\tsvc-facts\\t${FACTS_VERSION}\\n'`,
    claimsFunction(request),
    SCRIPT_HOST,
  ];
  const pathWord = (path: string) =>
    path.startsWith('~/') ? `"$login_home"/${shellQuote(path.slice(2))}` : shellQuote(path);
  if (request.paths.length > 0)
    lines.push(`prefetch ${request.paths.map((path) => pathWord(path.path)).join(' ')}`);
  request.paths.forEach((request, index) => {
    const path = pathWord(request.path);
    lines.push(`path_fact ${index} ${path} ${shellQuote(request.compareWith ?? '')}`);
    if (request.envKeys !== undefined)
      lines.push(`env_fact ${index} ${path} ${shellQuote(request.envKeys.join(' '))}`);
    lines.push(`chain_fact ${index} ${path}`);
  });
  for (const user of request.users) lines.push(`user_fact ${shellQuote(user)}`);
  for (const group of request.groups) lines.push(`group_fact ${shellQuote(group)}`);
  if (request.liveRelease) lines.push(liveReleaseScript(request.liveRelease));
  if (request.slots !== undefined && request.slots.length > 0) {
    lines.push(SLOT_FACT);
    for (const slot of request.slots)
      lines.push(
        `slot_fact ${shellQuote(slot.unit)} ${slot.port} ${shellQuote(slot.record)} ${shellQuote(slot.pidfile)}`,
      );
  }
  lines.push(`printf 'E\\tsvc-facts\\n'`);
  return `${lines.join('\n')}\n`;
}
