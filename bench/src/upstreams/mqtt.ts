/** NOTIFY → Mosquitto, MQTT 5, QoS 1 (publish resolves on PUBACK). */
import { createMqttPublisher, type MqttPublisherOptions } from '@pg-event-bridge/upstream-mqtt';
import { connectAsync } from 'mqtt';
import { bridgeHeaders, bridgeMetadata } from '../bridge-metadata.js';
import { latencyRecorder } from '../latency.js';
import { burstKey, probeKey } from '../payload.js';
import type { UpstreamScenario } from './upstream-scenario.js';

const brokerUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

export const mqtt: UpstreamScenario = {
  name: 'mqtt',
  label: 'Mosquitto topic, MQTT 5 QoS 1',
  services: [],
  events: 20_000,
  async setup({ channels, id }) {
    const topic = `bench-${id}`;
    const client = await connectAsync(brokerUrl, { protocolVersion: 5, clientId: `bench-pub-${id}`, reconnectPeriod: 0 });
    // Without Nagle's algorithm, as the publisher connects (mqtt.js leaves it on; 4 KiB messages
    // then wait on delayed ACKs).
    (client as unknown as { stream: { setNoDelay(noDelay: boolean): void } }).stream.setNoDelay(true);
    // mqtt.js keeps the CONNACK it connected with (typed private).
    const { connackPacket } = client as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } };
    const receiveMaximum = connackPacket?.properties?.receiveMaximum ?? 65_535;
    return {
      rules: `${channels.burst}->topic:${topic}, ${channels.probe}->topic:${topic}`,
      publisherOptions: { url: brokerUrl, qos: 1 } satisfies MqttPublisherOptions,
      // MQTT 5 lets a client have at most the broker's "receive maximum" QoS 1/2 publishes
      // unacknowledged (Mosquitto announces 20). The publisher keeps to it; mqtt.js alone does not,
      // so its ceiling is measured with the same window.
      client: (to) => ({
        batchSize: 1,
        inFlight: receiveMaximum,
        describe: `mqtt.js, QoS 1 (PUBACK), ${receiveMaximum} in flight (the broker's receive maximum, which the publisher keeps), TCP_NODELAY, the bridge’s user properties`,
        send: async ([body]) => {
          const routingKey = to === 'burst' ? burstKey : probeKey;
          const userProperties = bridgeHeaders(bridgeMetadata(channels[to], routingKey));
          await client.publishAsync(`${topic}.${routingKey}`, body!, { qos: 1, properties: { userProperties } });
        },
      }),
      async consume() {
        const subscriber = await connectAsync(brokerUrl, { protocolVersion: 5, clientId: `bench-sub-${id}`, reconnectPeriod: 0 });
        const recorder = latencyRecorder();
        subscriber.on('message', (_topic, payload) => recorder.record(payload));
        await subscriber.subscribeAsync(`${topic}.${probeKey}`, { qos: 1 });
        return { latencies: recorder.latencies, stop: () => subscriber.endAsync(true) };
      },
      dispose: () => client.endAsync(true),
    };
  },
  createPublisher: (options) => createMqttPublisher(options as MqttPublisherOptions),
};
