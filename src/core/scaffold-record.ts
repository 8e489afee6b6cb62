// The record `svc new` leaves in a project, and `svc update` reads and renews: which svc made the
// files, the answers it made them from, and the pristine text of every file it generated. With it
// an update knows the base of its three-way merge without an old svc or old templates (re-rendering
// an old template version is what breaks such updates elsewhere).
//
//   .svc/scaffold/answers.yaml     svc's version and the answers (never an --env or --secret value)
//   .svc/scaffold/files/PATH       what svc generated at PATH, as it generated it
//
// It lives in .svc/, which never ships in a release, and the scaffold's .gitignore lets git track
// it (and nothing else of .svc/, where secrets live). Its svc.yaml is rendered without env: and
// secrets:, which are the user's data: they are never recorded here.
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { SvcError } from './errors.js';
import { CUTOVERS } from './cutover.js';
import { describeYamlError } from './manifest-file.js';
import { INIT_SYSTEMS, RUNTIMES, fieldProblem, type Manifest } from './manifest.js';
import { checkServiceName } from './naming.js';

export const RECORD_DIR = '.svc/scaffold';
export const RECORD_ANSWERS = `${RECORD_DIR}/answers.yaml`;
export const RECORD_FILES = `${RECORD_DIR}/files`;

/** The questions' answers as `svc new` gave them to the scaffold (kind comes from the name). */
export interface RecordedAnswers {
  name: string;
  description: string;
  runtime: Manifest['runtime'];
  port?: number;
  health?: string;
  init?: Manifest['init'];
  monit: boolean;
  user: string;
  alert?: string;
  /** As svc.yaml had it: absent when svc new wrote no cutover: key. */
  cutover?: Manifest['cutover'];
}

export interface ScaffoldRecord {
  svc: string;
  answers: RecordedAnswers;
}

const field =
  (name: 'name' | 'description' | 'port' | 'health' | 'user' | 'alert') => (value: unknown) =>
    fieldProblem(name, value) === undefined;

const answersSchema = z.strictObject({
  // fieldProblem('name') only asks for a string: the rule is svc new's, so a hand-edited name is
  // refused here, naming this file, not later as a bare name.
  name: z.string().refine((name) => checkServiceName(name).ok, 'must be a valid service name'),
  description: z.string().refine(field('description'), 'must be one line of text'),
  runtime: z.enum(RUNTIMES),
  port: z.number().refine(field('port'), 'must be an integer between 1 and 65535').optional(),
  health: z.string().refine(field('health'), 'must be a URL path').optional(),
  init: z.enum(INIT_SYSTEMS).optional(),
  monit: z.boolean(),
  user: z.string().refine(field('user'), 'must be a user name'),
  alert: z.string().refine(field('alert'), 'must be a mail address').optional(),
  cutover: z.enum(CUTOVERS).optional(),
});
// The version is printed in every report: a hand-edited one must not carry terminal escapes.
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;
const recordSchema = z.strictObject({
  svc: z.string().regex(VERSION, 'must be a version (digits, letters, . + -)'),
  answers: answersSchema,
});

const HEADER = ` What svc generated in this project, for \`svc update\`: svc's version and the answers the
 files in files/ were rendered from (files/ holds each one as svc wrote it, the base of the next
 update's merge). Written by svc new and svc update; commit it, and do not edit it by hand.
 It never holds an --env or --secret value.`;

export function recordAnswersText(record: ScaffoldRecord): string {
  const doc = parseDocument(stringify(record, { lineWidth: 0 }));
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}

/** The record's answers.yaml, checked; every problem names the file and the field. */
export function parseRecordAnswers(text: string): ScaffoldRecord {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new SvcError(
      `${describeYamlError(doc.errors[0]!, doc, text, RECORD_ANSWERS)} (svc writes this file; restore it from git)`,
    );
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // An alias to no anchor (or too many aliases) only shows when the document is resolved.
    throw new SvcError(
      `${RECORD_ANSWERS}: ${(error as Error).message.split('\n')[0]} (svc writes this file; restore it from git)`,
    );
  }
  const parsed = recordSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new SvcError(
      `${RECORD_ANSWERS}: ${where}${issue.message} (svc writes this file; restore it from git)`,
    );
  }
  return parsed.data as ScaffoldRecord;
}

/** The answers a manifest was made from: for svc new, and for --adopt (from the user's svc.yaml). */
export function answersOfManifest(manifest: Manifest): RecordedAnswers {
  return {
    name: manifest.name,
    description: manifest.description,
    runtime: manifest.runtime,
    ...(manifest.port !== undefined && { port: manifest.port }),
    ...(manifest.health !== undefined && { health: manifest.health }),
    ...(manifest.runtime === 'node' && manifest.init !== undefined && { init: manifest.init }),
    monit: manifest.monit,
    user: manifest.user,
    ...(manifest.alert !== undefined && { alert: manifest.alert }),
    ...(manifest.cutover !== undefined && { cutover: manifest.cutover }),
  };
}

/** What changed between two sets of answers, for the report: `port 3000 -> 4000`. */
export function answerChanges(before: RecordedAnswers, after: RecordedAnswers): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])] as Array<
    keyof RecordedAnswers
  >;
  const shown = (value: unknown) => (value === undefined ? '(none)' : String(value));
  return keys
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key} ${shown(before[key])} -> ${shown(after[key])}`);
}

/** MAJOR.MINOR.PATCH of a version as numbers, or undefined when it does not start with one. */
function versionCore(version: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return match === null ? undefined : match.slice(1).map(Number);
}

/**
 * Whether the record was made by a later svc than this one (by MAJOR.MINOR.PATCH; a version that
 * has none is not compared): updating then would take the files back to an older scaffold.
 */
export function recordIsNewer(recorded: string, current: string): boolean {
  const a = versionCore(recorded);
  const b = versionCore(current);
  if (a === undefined || b === undefined) return false;
  const differs = a.findIndex((part, index) => part !== b[index]);
  return differs !== -1 && a[differs]! > b[differs]!;
}
