// A changed scaffold for svc update's tests (issue 13): a copy of svc's own scaffolds/ with edits
// a release might make, rendered by runUpdate in place of svc's own.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCAFFOLDS_DIR } from '../../src/scaffold/render.js';

export function edit(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${path}: no ${JSON.stringify(from)} to edit`);
  writeFileSync(path, text.replace(from, to));
}

/**
 * scaffolds/ copied to `dir`, changed: the systemd unit restarts after 3 s (was 2) and names the
 * port it answers on, monit waits 15 s for a start (was 10), logrotate keeps 12 logs (was 8).
 */
export function changedScaffolds(dir: string): string {
  cpSync(SCAFFOLDS_DIR, dir, { recursive: true });
  edit(join(dir, 'config/systemd.service.ejs'), 'RestartSec=2\n', 'RestartSec=3\n');
  edit(
    join(dir, 'config/systemd.service.ejs'),
    'Type=exec\n',
    'Type=exec\n<% if (it.port !== undefined) { -%>\n# It answers HTTP on 127.0.0.1:<%- it.appPort ?? it.port %>.\n<% } -%>\n',
  );
  edit(join(dir, 'config/monit.ejs'), 'with timeout 10 seconds', 'with timeout 15 seconds');
  edit(join(dir, 'config/logrotate.ejs'), 'rotate 8\n', 'rotate 12\n');
  return dir;
}
