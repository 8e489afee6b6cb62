// What a deploy checks of a site's nginx server on the host: that the requests its visitors send
// reach it. nginx hands a request to the server whose server_name matches its Host, else to the
// port's default_server (else the first server on the port): a catch-all site (server_name _)
// beside the stock Debian `default` site, which is default_server on port 80, is never reached,
// while nginx -t passes and the process behind it answers on its own port. Pure text: the sh
// functions, and the lines that call them.
import { shellQuote as q } from './quote.js';

/** The server_name of a site file's first server block (its names, in order); [] when none. */
export function serverNames(site: string): string[] {
  const withoutComments = site.replace(/#[^\n]*/g, '');
  const match = /(?:^|[\s;{}])server_name\s+([^;]*);/.exec(withoutComments);
  return match ? match[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * The Host header a visitor of the site sends: its first plain name; undefined for a catch-all
 * site (no server_name, `_`, or only wildcard and regex names), which gets any Host.
 */
export function visitorHost(site: string): string | undefined {
  return serverNames(site).find((name) => /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name));
}

/** How long nginx has to answer for the site once the process does. */
export const FRONT_SECONDS = 10;

export const FRONT = String.raw`# listener_elsewhere PORT SITE DEFAULT: the first enabled nginx file other than SITE (in nginx's
# include order, conf.d before sites-enabled) with a listen on PORT into $other, empty when none;
# DEFAULT=1: only a listen that is the port's default_server. Comments go and the lines are joined
# first: a one-line server block, or a listen written over several lines, counts too.
listener_elsewhere() {
  other=
  if [ "$3" = 1 ]; then re="(^|[;{} ])listen +([^; ]*:)?$1( [^;]*)? default_server[ ;]"
  else re="(^|[;{} ])listen +([^; ]*:)?$1[ ;]"; fi
  for f in /etc/nginx/conf.d/*.conf /etc/nginx/sites-enabled/*; do
    [ -f "$f" ] && [ "$f" != "$2" ] || continue
    if sed 's/#.*//' "$f" | tr '\n\t\r' '   ' | grep -Eq "$re"; then other=$f; return 0; fi
  done
}
# wait_front URL HOST SECONDS: http_ok within SECONDS by the clock, as wait_healthy (nginx takes up
# a reload after the reload command returned; each ask may take its 2 s).
wait_front() {
  uptime_s; end=$((up_s + $3))
  until http_ok "$1" "$2"; do
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
  done
}`;

export interface FrontCheck {
  name: string;
  /** The site file svc installs. */
  site: string;
  /** Its content, for the Host its visitors send. */
  text: string;
  /** The port nginx listens on for the site. */
  port: number;
  /** The health path, asked through nginx as a visitor would. */
  path: string;
}

/** The parameters of each of the site's listen directives on `port` (comments removed). */
export function listensOn(site: string, port: number): string[][] {
  const text = site.replace(/#[^\n]*/g, '');
  const listens = [...text.matchAll(/(?:^|[\s;{}])listen\s+([^;]*);/g)].map((match) =>
    match[1]!.trim().split(/\s+/),
  );
  return listens.filter(([address]) => new RegExp(`^(?:\\S*:)?${port}$`).test(address!));
}

/** Every listen of the site on `port` says default_server: nginx gives it every unnamed Host. */
export function isDefaultOn(site: string, port: number): boolean {
  const listens = listensOn(site, port);
  return listens.length > 0 && listens.every((params) => params.includes('default_server'));
}

/**
 * Before anything is applied: a catch-all site refused where nginx would give its visitors
 * another site. A site that is default_server on its port loses them only to another
 * default_server there (nginx -t refuses that too, with a less helpful line); one that is not
 * loses them to any other server on the port that nginx reads first or that is default_server,
 * so any other listen on the port is refused (naming the file and the fixes).
 */
export function frontConflictLine(check: FrontCheck): string | undefined {
  if (visitorHost(check.text) !== undefined) return undefined;
  const { name, port } = check;
  const fail = (why: string) => `if [ -n "$other" ]; then say "FAIL	$other ${why}"; exit 1; fi`;
  return isDefaultOn(check.text, port)
    ? [
        `listener_elsewhere ${port} ${q(check.site)} 1`,
        fail(
          `is the default_server on port ${port}, so nginx gives ${name}'s visitors that site, not ${name}: remove it from the host (rm $other) or give ${name}'s site a server_name`,
        ),
      ].join('\n')
    : [
        `listener_elsewhere ${port} ${q(check.site)} 0`,
        fail(
          `also listens on port ${port}, and ${name}'s site is not the port's default_server, so nginx may give ${name}'s visitors that site (the default_server, else the first server nginx reads, gets every Host no server_name names): add default_server to the listen lines of ${name}'s site on port ${port}, or remove it from the host (rm $other)`,
        ),
      ].join('\n');
}

/**
 * After the process answers on its own port: the same health path through nginx, as visitors ask;
 * a release they cannot reach is rolled back.
 */
export function frontGateLine(check: FrontCheck): string {
  const host = visitorHost(check.text) ?? '';
  const url = `http://127.0.0.1:${check.port}${check.path}`;
  const asked = host === '' ? '' : ` (Host: ${host})`;
  return `wait_front ${q(url)} ${q(host)} ${FRONT_SECONDS} || { say "FAIL	${check.name} answers on its own port but not through nginx on port ${check.port}: ${url.replace(/["$`\\]/g, '')}${asked} did not answer 200 (another nginx site takes its requests, or nginx did not take up the site)"; rollback; }`;
}
