import { describe } from 'vitest';
import { hostileEventCases, testPublisher } from '@pg-event-bridge/testkit';
import { createMqttPublisher, encodeMqttPropertyValue, invalidTopicReason, mqttTopic } from '../src/index.js';
import { brokerUrl, subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const secret = 'mqtt-s3cret-pass';
const hostileKeys = hostileEventCases.map(([, init]) => init.routingKey).filter((key): key is string => key !== undefined && key !== '');

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
    // Also subscribed to the topics the suite's hostile routing keys make, where MQTT can carry them.
    provision: async () => {
      const name = uniqueTopic(`pgeb-conf-v${protocolVersion}`);
      return subscribe(name, { extraKeys: hostileKeys.filter((key) => invalidTopicReason(mqttTopic(name, key, '.')) === undefined) });
    },
    maxPayloadBytes: 64 * 1024,
    capabilities: { headers: protocolVersion === 5, ordered: true },
    expectedRoutingKey: (target, event) => mqttTopic(target.name, event.routingKey, '.'),
    // Values with characters brokers refuse arrive percent-encoded (encodeMqttPropertyValue).
    expectedHeaders: (_target, event) => {
      const encode = (value: string) => encodeMqttPropertyValue(value, 'x', event.id);
      return {
        'x-event-id': encode(event.id),
        'x-routing-key': encode(event.routingKey),
        'x-pg-channel': encode(event.source),
        ...Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name, encode(value)])),
      };
    },
  });
  });
}
