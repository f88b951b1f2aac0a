import { describe, expect, it } from 'vitest';
import { collectSecrets } from './config/collect-secrets.js';
import { readEnv } from './config/read-env.js';
import { redactSecrets } from './redact-secrets.js';

describe('redactSecrets', () => {
  it('hides URI passwords wherever they appear, keeping the user', () => {
    expect(redactSecrets('dial amqp://guest:hunter2@rabbit// and redis://default:pw@redis', [])).toBe(
      'dial amqp://guest:***@rabbit// and redis://default:***@redis',
    );
  });

  it('hides literal secrets, also in their JSON-escaped form', () => {
    expect(redactSecrets('{"msg":"bad pa\\"ss here"} pa"ss', ['pa"ss'])).toBe('{"msg":"bad *** here"} ***');
  });
});

describe('collectSecrets', () => {
  it('finds URI passwords (raw and decoded), secret-named keys, and passwords of unparsable URIs', () => {
    const { raw } = readEnv({
      'PGPROXY_LOCAL-POSTGRESQL_URI': 'postgres://app:p%40ss@db/app',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://u:br#ken@host//',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-PASSWORD': 'mqtt-secret',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'a->url:https://hook:tok3n@example.com/x',
      'PGPROXY_LOCAL-UPSTREAM': 'amqp',
    });
    expect(collectSecrets(raw).sort()).toEqual(['br#ken', 'mqtt-secret', 'p%40ss', 'p@ss', 'tok3n']);
  });

  it('skips values too short to redact without mangling the logs', () => {
    const { raw } = readEnv({ 'PGPROXY_DATABASE-URI': 'postgres://u:ab@db/app' });
    expect(collectSecrets(raw)).toEqual([]);
  });
});

describe('query strings and headers', () => {
  it('hides every query value of every URI in text, keeping parameter names', () => {
    expect(redactSecrets('POST https://hook.example/in?token=abc&v=1&flag#frag failed', [])).toBe('POST https://hook.example/in?token=***&v=***&***#*** failed');
    expect(redactSecrets('{"target":"url:https://h/x?sig=zz"}', [])).toBe('{"target":"url:https://h/x?sig=***"}');
  });

  it('collects header values, their bearer tokens, secret-named or long query values, marked keys and secret-named variables', () => {
    const { raw } = readEnv({
      'PGPROXY_UPSTREAM-H-HEADERS': '{"Authorization": "Bearer tok-abcdefgh", "X-Short": "ab"}',
      'PGPROXY_UPSTREAM-H-BRIDGE_CHANNELS': 'a->url:https://h/x?key=k1z&v=1&long=abcdefghij',
      'PGPROXY_UPSTREAM-H-USER_AGENT': 'marked-value',
    });
    const found = collectSecrets(raw, ['user_agent'], { AWS_SECRET_ACCESS_KEY: 'aws-long-secret', SOME_AUTH_ENABLED: 'true' });
    expect(found.sort()).toEqual(['Bearer tok-abcdefgh', 'abcdefghij', 'aws-long-secret', 'k1z', 'marked-value', 'tok-abcdefgh']);
  });

  it('takes an unreadable headers value as one secret', () => {
    const { raw } = readEnv({ 'PGPROXY_UPSTREAM-H-HEADERS': '{"Authorization": Bearer oops' });
    expect(collectSecrets(raw)).toEqual(['{"Authorization": Bearer oops']);
  });
});
