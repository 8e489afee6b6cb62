// `node --import ./test/helpers/loaded-files.mjs SCRIPT`: appends the URL of every file: module
// the process loads to the file named by $SVC_LOADED_FILES, one per line, in load order. Used to
// check which parts of the bundle a command reads (test/integration/startup.test.ts). The hook
// runs on Node's loader thread, hence a file rather than stderr.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.SVC_LOADED_FILES, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
