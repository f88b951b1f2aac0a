import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

export const brokerUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A unique topic name per test, so parallel tests never see each other's messages. */
export function uniqueTopic(prefix = 'pgeb-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A message as the test subscriber saw it, with the MQTT-specific parts kept. */
export interface MqttReceived extends ReceivedMessage {
  readonly qos: number;
  readonly retain: boolean;
  readonly contentType: string | undefined;
}

/**
 * Subscribes (MQTT 5, QoS 2) to `filters` and collects every message whose topic is `name` or
 * starts with `name` + separator. With the `.` separator there is no wildcard for "name.*", so the
 * default filters are the exact topics the tests use (never `#`: Mosquitto drops messages past
 * 1000 queued per subscriber, and `#` would queue every parallel test's traffic).
 */
export async function subscribe(name: string, options: { filters?: string[]; separator?: string; url?: string } = {}): Promise<TestTarget<MqttReceived> & { client: MqttClient }> {
  const separator = options.separator ?? '.';
  const client = await connectAsync(options.url ?? brokerUrl, { protocolVersion: 5, clientId: `pgeb-sub-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const inbox = new MessageInbox<MqttReceived>();
  client.on('message', (topic, payload, packet) => {
    if (topic !== name && !topic.startsWith(`${name}${separator}`)) return;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(packet.properties?.userProperties ?? {})) {
      headers[key] = Array.isArray(value) ? value.join(',') : String(value);
    }
    inbox.push({ body: Buffer.from(payload), routingKey: topic, headers, qos: packet.qos, retain: packet.retain, contentType: packet.properties?.contentType });
  });
  const keys = ['', 'signup', 'public.customer.insert', 'order.created', 'r'];
  await client.subscribeAsync(options.filters ?? keys.map((key) => (key === '' ? name : `${name}${separator}${key}`)), { qos: 2 });
  return {
    client,
    target: { kind: 'topic', name },
    inbox,
    async dispose() {
      await client.endAsync(true);
    },
  };
}
