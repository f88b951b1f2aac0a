import { describe } from 'vitest';
import { testPublisher } from '@pg-event-bridge/testkit';
import { createMqttPublisher, mqttTopic } from '../src/index.js';
import { brokerUrl, subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const secret = 'mqtt-s3cret-pass';

for (const protocolVersion of [5, 4] as const) {
  describe(protocolVersion === 5 ? 'MQTT 5' : 'MQTT 3.1.1', () => {
  testPublisher({
    name: 'mqtt',
    // The 3.1.1 run also exercises QoS 2 (PUBREC/PUBREL/PUBCOMP), cut mid-stream included.
    create: (overrides) =>
      createMqttPublisher({
        url: overrides?.port ? `mqtt://127.0.0.1:${overrides.port}` : brokerUrl,
        protocolVersion,
        qos: protocolVersion === 5 ? 1 : 2,
        maxPayloadBytes: overrides?.maxPayloadBytes ?? 64 * 1024,
      }),
    brokerPort: 1883,
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    createUnreachable: () => createMqttPublisher({ url: `mqtt://bridge:${secret}@127.0.0.1:1`, protocolVersion, connectTimeoutMs: 2_000 }),
    secret,
    badOptions: [
      () => createMqttPublisher({ url: `http://user:${secret}@localhost` }),
      () => createMqttPublisher({ qos: 3 as 0 }),
      () => createMqttPublisher({ protocolVersion: 3 as 4 }),
      () => createMqttPublisher({ separator: '#' }),
      () => createMqttPublisher({ maxPayloadBytes: 0 }),
      () => createMqttPublisher({ url: 'not a uri' }),
    ],
    provision: async () => subscribe(uniqueTopic(`pgeb-conf-v${protocolVersion}`)),
    maxPayloadBytes: 64 * 1024,
    capabilities: { headers: protocolVersion === 5, ordered: true },
    expectedRoutingKey: (target, event) => mqttTopic(target.name, event.routingKey, '.'),
    expectedHeaders: (_target, event) => ({ 'x-event-id': event.id, 'x-routing-key': event.routingKey, 'x-pg-channel': event.source, ...event.headers }),
  });
  });
}
