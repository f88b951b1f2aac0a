/** NOTIFY → Mosquitto, MQTT 5, QoS 1 (publish resolves on PUBACK). */
import { createMqttPublisher, type MqttPublisherOptions } from '@pg-event-bridge/upstream-mqtt';
import { connectAsync } from 'mqtt';
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
    return {
      rules: `${channels.burst}->topic:${topic}, ${channels.probe}->topic:${topic}`,
      publisherOptions: { url: brokerUrl, qos: 1 } satisfies MqttPublisherOptions,
      ceiling: {
        batchSize: 1,
        inFlight: 1000,
        describe: 'mqtt.js, QoS 1 (PUBACK), 1,000 in flight',
        send: async ([body]) => void (await client.publishAsync(`${topic}.${burstKey}`, body!, { qos: 1 })),
      },
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
