// `svc new --env/--secret`: which keys are secrets (a table), where each value goes (svc.yaml env:
// for values, .svc/secrets/default for secrets, never svc.yaml), and the files that result.
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest-file.js';
import { parseSecretsFile } from '../../src/core/secrets.js';
import { looksSecret, splitSecrets, type Answers } from '../../src/scaffold/answers.js';
import {
  manifestFromAnswers,
  NEW_SECRETS_FILE,
  projectFiles,
  secretValuesOf,
} from '../../src/scaffold/project.js';
import { renderProject } from '../../src/scaffold/render.js';

describe('a key that looks secret', () => {
  it.each<[string, boolean]>([
    ['DB_PASSWORD', true],
    ['PASSWORD', true],
    ['MYSQL_PASSWD', true],
    ['SMTP_PASS', true],
    ['DB_PWD', true],
    ['APP_SECRET', true],
    ['GITHUB_TOKEN', true],
    ['STRIPE_KEY', true],
    ['STRIPE_APIKEY', true],
    ['AWS_CREDENTIALS', true],
    ['GCP_CREDENTIAL', true],
    ['PRIVATE_PEM', true],
    ['BASIC_AUTH', true],
    ['SENTRY_DSN', true],
    ['HASH_SALT', true],
    ['LOG_LEVEL', false],
    ['MONKEY', false],
    ['KEYBOARD', false],
    ['PASSAGE', false],
    ['TOKENS_PER_MINUTE', false],
    ['AUTHOR', false],
    ['QUEUE', false],
    // A part ending with a long secret word (review of issue 15).
    ['DBPASSWORD', true],
    ['APITOKEN', true],
    ['MYSECRET', true],
    ['SMTPPASSWD', true],
    ['STRIPEAPIKEY', true],
    ['GCPCREDENTIALS', true],
    ['db_password', true],
    ['TOKENIZER_MODEL', false],
    ['SECRETARY_NAME', false],
  ])('%s: %s', (key, secret) => {
    expect(looksSecret(key)).toBe(secret);
  });

  // svc.yaml is committed and ships in every release: a URL with a password is a secret whatever
  // its key is called.
  it.each<[string, string, boolean]>([
    ['DATABASE_URL', 'postgres://u:hunter2@db/x', true],
    ['REDIS_URL', 'redis://:pw@cache:6379/0', true],
    ['MONGO_URI', 'mongodb+srv://app:s3cr%40t@cluster0.example.net/db', true],
    ['AMQP', 'amqp://guest:guest@mq', true],
    ['DATABASE_URL', 'postgres://u@db/x', false],
    ['SITE_URL', 'https://example.com/a:b@c', false],
    ['SITE_URL', 'https://example.com/?q=a:b@c', false],
    ['SITE_URL', 'https://example.com#x:y@z', false],
    ['NOTE', 'user:pw@host', false],
    ['HOME_PAGE', 'https://example.com', false],
  ])('%s=%s: %s', (key, value, secret) => {
    expect(looksSecret(key, value)).toBe(secret);
  });

  it('sends a URL with a password to the secrets, whatever its key', () => {
    expect(splitSecrets({ DATABASE_URL: 'postgres://u:pw@db/x', QUEUE: 'mail' })).toEqual({
      env: { QUEUE: 'mail' },
      secrets: { DATABASE_URL: 'postgres://u:pw@db/x' },
    });
  });

  it.each<[Record<string, string>, Record<string, string>, object]>([
    [{}, {}, { env: {}, secrets: {} }],
    [{ QUEUE: 'mail' }, {}, { env: { QUEUE: 'mail' }, secrets: {} }],
    [
      { QUEUE: 'mail', DB_PASSWORD: 'pw' },
      { PLAIN: 'x' },
      { env: { QUEUE: 'mail' }, secrets: { DB_PASSWORD: 'pw', PLAIN: 'x' } },
    ],
  ])('%j with --secret %j', (env, secrets, split) => {
    expect(splitSecrets(env, secrets)).toEqual(split);
  });

  it('refuses a key given with both --env and --secret', () => {
    expect(() => splitSecrets({ A: '1' }, { A: '2' })).toThrow(
      '--secret: A is also given with --env; give it once',
    );
  });
});

describe('svc new with secrets', () => {
  const answers: Answers = {
    name: 'api-orders',
    kind: 'api',
    description: 'Orders',
    runtime: 'node',
    port: 3000,
    health: '/ok',
    init: 'systemd',
    monit: true,
    user: 'api-orders',
    env: { QUEUE: 'mail', DB_PASSWORD: 'value-of-db-password' },
  };
  const extra = { secrets: { STRIPE: 'value-of-stripe' } };

  it('names secrets in svc.yaml and writes their values only to .svc/secrets/default, 0600', () => {
    const manifest = manifestFromAnswers(answers, '0.0.0-test', extra);
    expect(manifest.env).toEqual({ QUEUE: 'mail' });
    expect(manifest.secrets).toEqual(['DB_PASSWORD', 'STRIPE']);
    const files = renderProject(manifest, projectFiles(manifest), secretValuesOf(answers, extra));
    const secretsFile = files.find((file) => file.path === NEW_SECRETS_FILE)!;
    expect(NEW_SECRETS_FILE).toBe('.svc/secrets/default');
    expect(secretsFile.mode).toBe(0o600);
    expect([...parseSecretsFile(secretsFile.content, NEW_SECRETS_FILE)]).toEqual([
      ['DB_PASSWORD', 'value-of-db-password'],
      ['STRIPE', 'value-of-stripe'],
    ]);
    const others = files.filter(
      (file) => file !== secretsFile && /value-of-(db-password|stripe)/.test(file.content),
    );
    expect(others.map((file) => file.path)).toEqual([]);
    const yaml = files.find((file) => file.path === 'svc.yaml')!.content;
    expect(parseManifest(new TextEncoder().encode(yaml))).toEqual(manifest);
    // .svc/ is ignored but for svc update's record (update.test.ts asks git itself).
    expect(files.find((file) => file.path === '.gitignore')!.content).toMatch(
      /^\.svc\/\*\n!\.svc\/scaffold\/$/m,
    );
  });

  it('writes no secrets file when there are none', () => {
    const manifest = manifestFromAnswers({ ...answers, env: { QUEUE: 'mail' } }, '0.0.0-test');
    expect(manifest.secrets).toBeUndefined();
    expect(projectFiles(manifest).map((file) => file.path)).not.toContain(NEW_SECRETS_FILE);
  });
});
