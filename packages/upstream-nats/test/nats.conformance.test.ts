import { testPublisher } from '@pg-event-bridge/testkit';
import { createNatsPublisher, encodeNatsHeaderValue, natsSubject } from '../src/index.js';
import { natsUrl, provisionStream, uniqueSubject } from './nats-test-helpers.js';

const secret = 'nats-s3cret-pass';

testPublisher({
  name: 'nats',
  create: (overrides) => createNatsPublisher({ url: overrides?.port ? `nats://127.0.0.1:${overrides.port}` : natsUrl, maxPayloadBytes: overrides?.maxPayloadBytes ?? 64 * 1024 }),
  brokerPort: 4222,
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  createUnreachable: () => createNatsPublisher({ url: `nats://bridge:${secret}@127.0.0.1:1`, connectTimeoutMs: 2_000 }),
  secret,
  badOptions: [
    () => createNatsPublisher({ url: `http://bridge:${secret}@localhost` }),
    () => createNatsPublisher({ publishTimeoutMs: 0 }),
    () => createNatsPublisher({ maxPayloadBytes: -1 }),
    () => createNatsPublisher({ url: 'nats://a:4222, ::bad::' }),
  ],
  provision: async () => provisionStream(uniqueSubject('pgeb-conf')),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: true, ordered: true },
  expectedRoutingKey: (target, event) => natsSubject(target.name, event.routingKey),
  // Values NATS cannot carry as they are arrive percent-encoded (encodeNatsHeaderValue).
  expectedHeaders: (_target, event) => {
    const encode = (value: string) => encodeNatsHeaderValue(value, 'x', event.id);
    return {
      'x-event-id': encode(event.id),
      'Nats-Msg-Id': encode(event.id),
      'x-routing-key': encode(event.routingKey),
      'x-pg-channel': encode(event.source),
      ...Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name, encode(value)])),
    };
  },
});
