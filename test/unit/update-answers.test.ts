// svc update's answer flags over the recorded answers (cli/update-answers.ts): svc new's checks
// and defaults, case by case.
import { describe, expect, it } from 'vitest';
import { answersWithFlags, type AnswerFlags } from '../../src/cli/update-answers.js';
import type { RecordedAnswers } from '../../src/core/scaffold-record.js';
import { cutoverOf } from '../../src/core/cutover.js';

const api: RecordedAnswers = {
  name: 'api-x',
  description: 'api-x: HTTP API',
  runtime: 'node',
  port: 3000,
  health: '/ok',
  init: 'systemd',
  monit: true,
  user: 'api-x',
  cutover: 'restart',
};
const site: RecordedAnswers = {
  name: 'www-x',
  description: 'www-x: web site',
  runtime: 'static',
  port: 8080,
  health: '/ok',
  monit: true,
  user: 'www-x',
};
const worker: RecordedAnswers = {
  name: 'service-x',
  description: 'service-x: background worker',
  runtime: 'node',
  init: 'openrc',
  monit: false,
  user: 'service-x',
};

describe('answersWithFlags', () => {
  it('keeps a project made without cutover: on restart, whatever the default for new projects', async () => {
    const old: RecordedAnswers = { ...api };
    delete old.cutover;
    expect(cutoverOf(await answersWithFlags(old, {}, '0.0.0-test'))).toBe('restart');
  });

  it.each<[string, RecordedAnswers, AnswerFlags, RecordedAnswers]>([
    ['no flags: the recorded answers', api, {}, api],
    ['--port', api, { port: '4000' }, { ...api, port: 4000 }],
    [
      '--init monit brings the monit check',
      { ...api, monit: false },
      { init: 'monit' },
      { ...api, init: 'monit' },
    ],
    [
      '--runtime node on a static site: the init question gets its default',
      site,
      { runtime: 'node' },
      { ...site, runtime: 'node', init: 'systemd' },
    ],
    [
      '--cutover switch: systemd, no monit check',
      api,
      { cutover: 'switch', monit: false },
      { ...api, monit: false, cutover: 'switch' },
    ],
    ['--alert', api, { alert: 'ops@example.com' }, { ...api, alert: 'ops@example.com' }],
  ])('%s', async (_, recorded, flags, expected) => {
    // toMatchObject: a static site made a process gets the new-project cutover, whichever it is.
    const answers = await answersWithFlags(recorded, flags, '0.0.0-test');
    expect(answers).toMatchObject(expected);
    const keys = (value: object) =>
      Object.keys(value)
        .filter((key) => key !== 'cutover')
        .sort();
    expect(keys(answers)).toEqual(keys(expected));
  });

  it.each<[string, RecordedAnswers, AnswerFlags, string]>([
    ['--port 0', api, { port: '0' }, '--port: must be an integer between 1 and 65535 (got "0")'],
    ['--port on a worker', worker, { port: '3000' }, '--port: not asked for a service- project'],
    [
      '--init on a static site',
      site,
      { init: 'systemd' },
      '--init: a static site runs no process (nginx serves it)',
    ],
    [
      '--no-monit under --init monit',
      { ...api, init: 'monit' },
      { monit: false },
      '--no-monit: with --init monit, the monit check is what starts the service',
    ],
    [
      '--no-monit with a recorded alert',
      { ...api, alert: 'ops@example.com' },
      { monit: false },
      '--no-monit: this project was made with --alert ops@example.com, and monit is what sends the alerts',
    ],
    [
      '--cutover switch on a worker',
      worker,
      { cutover: 'switch' },
      '--cutover switch: needs a process that answers HTTP (api-, or www- --runtime node)',
    ],
  ])('refuses %s', async (_, recorded, flags, message) => {
    await expect(answersWithFlags(recorded, flags, '0.0.0-test')).rejects.toThrow(message);
  });
});
