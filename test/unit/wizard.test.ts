import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import type { Prompter } from '../../src/scaffold/prompter.js';
import { collectAnswers } from '../../src/scaffold/wizard.js';

/** A prompter that answers from a script and records every question it was asked. */
function scripted(answers: unknown[]): Prompter & { asked: string[] } {
  const queue = [...answers];
  const asked: string[] = [];
  const next = (message: string, validate?: (value: string) => true | string) => {
    asked.push(message);
    if (queue.length === 0) throw new Error(`unexpected question: ${message}`);
    const answer = queue.shift();
    if (validate && typeof answer === 'string') {
      const verdict = validate(answer);
      if (verdict !== true) throw new Error(`answer ${JSON.stringify(answer)} refused: ${verdict}`);
    }
    return Promise.resolve(answer);
  };
  return {
    asked,
    input: (q) => next(q.message, q.validate) as Promise<string>,
    select: (q) => next(q.message) as Promise<never>,
    confirm: (q) => next(q.message) as Promise<boolean>,
  };
}

describe('collectAnswers', () => {
  it('asks an api- project everything the prefix does not decide, in order', async () => {
    const prompter = scripted([
      'Orders API',
      '4000',
      '/health',
      'openrc',
      false,
      'orders',
      'FOO=bar',
      'X=a b',
      '',
    ]);
    const answers = await collectAnswers({
      name: 'api-orders',
      kind: 'api',
      given: {},
      yes: false,
      prompter,
    });
    expect(prompter.asked).toEqual([
      'Description',
      'Port',
      'Health check path',
      'Init system',
      'Add a monit check?',
      'Service user',
      'Environment variable KEY=VALUE (empty to finish)',
      'Environment variable KEY=VALUE (empty to finish)',
      'Environment variable KEY=VALUE (empty to finish)',
    ]);
    expect(answers).toEqual({
      name: 'api-orders',
      kind: 'api',
      description: 'Orders API',
      runtime: 'node',
      port: 4000,
      health: '/health',
      init: 'openrc',
      monit: false,
      user: 'orders',
      env: { FOO: 'bar', X: 'a b' },
    });
  });

  it('asks nothing that a flag answered', async () => {
    const prompter = scripted(['Shop', '']);
    const answers = await collectAnswers({
      name: 'www-shop',
      kind: 'www',
      given: { runtime: 'static', port: 8081, health: '/ok', monit: true, user: 'shop' },
      yes: false,
      prompter,
    });
    expect(prompter.asked).toEqual([
      'Description',
      'Environment variable KEY=VALUE (empty to finish)',
    ]);
    expect(answers.init).toBeUndefined();
    expect(answers.port).toBe(8081);
  });

  it('lets the runtime decide whether an init system is asked', async () => {
    const prompter = scripted(['Shop', 'node', '9000', '/ok', 'systemd', true, 'www-shop', '']);
    const answers = await collectAnswers({
      name: 'www-shop',
      kind: 'www',
      given: {},
      yes: false,
      prompter,
    });
    expect(prompter.asked).toContain('Init system');
    expect(answers).toMatchObject({ runtime: 'node', init: 'systemd', port: 9000 });
  });

  it('does not ask whether to add monit when monit is the init system', async () => {
    const prompter = scripted(['Mailer', 'monit', 'mailer', '']);
    const answers = await collectAnswers({
      name: 'service-mailer',
      kind: 'service',
      given: {},
      yes: false,
      prompter,
    });
    expect(prompter.asked).toEqual([
      'Description',
      'Init system',
      'Service user',
      'Environment variable KEY=VALUE (empty to finish)',
    ]);
    expect(answers).toMatchObject({ init: 'monit', monit: true });
    expect(answers.port).toBeUndefined();
  });

  it('takes the defaults with --yes, asking nothing', async () => {
    const prompter = scripted([]);
    const answers = await collectAnswers({
      name: 'api-orders',
      kind: 'api',
      given: { port: 3100 },
      yes: true,
      prompter,
    });
    expect(prompter.asked).toEqual([]);
    expect(answers).toEqual({
      name: 'api-orders',
      kind: 'api',
      description: 'api-orders: HTTP API',
      runtime: 'node',
      port: 3100,
      health: '/ok',
      init: 'systemd',
      monit: true,
      user: 'api-orders',
      env: {},
    });
  });

  it('www- defaults to a static site on 8080', async () => {
    const answers = await collectAnswers({ name: 'www-shop', kind: 'www', given: {}, yes: true });
    expect(answers).toMatchObject({ runtime: 'static', port: 8080 });
    expect(answers.init).toBeUndefined();
  });

  it('without a terminal and without --yes, refuses before asking, naming the flags', async () => {
    await expect(
      collectAnswers({ name: 'api-orders', kind: 'api', given: { port: 3000 }, yes: false }),
    ).rejects.toThrow(
      new SvcError(
        'no terminal to ask on: pass --yes to take the defaults, or answer with --description, --health, --init, --monit/--no-monit, --user, --env',
      ),
    );
  });

  it('without a terminal, runs when flags answer everything', async () => {
    const answers = await collectAnswers({
      name: 'service-mailer',
      kind: 'service',
      given: { description: 'Mail', init: 'openrc', monit: false, user: 'mail', env: {} },
      yes: false,
    });
    expect(answers).toMatchObject({ description: 'Mail', init: 'openrc', monit: false });
  });

  it('validates typed answers with the manifest rules', async () => {
    const prompter = scripted(['Orders', '70000']);
    await expect(
      collectAnswers({ name: 'api-orders', kind: 'api', given: {}, yes: false, prompter }),
    ).rejects.toThrow('answer "70000" refused: must be an integer between 1 and 65535');
  });
});
