import { decode } from 'ini';
import type { Publisher, UpstreamDefinition } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { formatConfig } from './format-config.js';
import { loadConfig } from './load-config.js';

const definitions: UpstreamDefinition[] = [
  { kind: 'mqtt', targetKinds: ['topic'], description: 'fake', settings: [{ key: 'username', description: '' }, { key: 'password', description: '' }], create: () => ({}) as Publisher },
];

describe('formatConfig', () => {
  const config = loadConfig({
    definitions,
    env: {
      'PGPROXY_LOCAL-POSTGRESQL_URI': 'postgres://app:dbsecret@db:5432/app',
      'PGPROXY_LOCAL-UPSTREAM': 'mqtt',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'tcp://mosquitto:1883',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'mqttchannel->topic:events',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-USERNAME': 'user',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-PASSWORD': 'mqttsecret',
    },
  });
  const text = formatConfig(config);

  it('turns generation-1 variables into an equivalent ini file, with origins as comments', () => {
    const ini = decode(text);
    expect(ini['database']).toMatchObject({ uri: 'postgres://app:***@db:5432/app', replication_slot: 'pg_event_proxy' });
    expect(ini['upstream']).toEqual({
      local: { kind: 'mqtt', uri: 'tcp://mosquitto:1883', bridge_channels: 'mqttchannel->topic:events', username: 'user', password: '***' },
    });
    expect(text).toContain('uri = tcp://mosquitto:1883  ; PGPROXY_LOCAL-UPSTREAM_CONFIG-URI');
    expect(text).toContain('replication_slot = pg_event_proxy  ; default');
  });

  it('shows no secret', () => {
    expect(text).not.toContain('dbsecret');
    expect(text).not.toContain('mqttsecret');
  });
});
