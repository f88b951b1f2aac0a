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
