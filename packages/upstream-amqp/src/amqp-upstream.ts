import type { UpstreamConfig, UpstreamDefinition } from '@pg-event-bridge/core';
import { resolveAmqpOptions, type AmqpDeliveryMode, type AmqpPublisherOptions } from './amqp-options.js';
import { AmqpPublisher } from './amqp-publisher.js';

const settings = [
  { key: 'delivery_mode', description: '1 or non-persistent; 2 or persistent (written to disk on durable queues)', default: '1' },
  { key: 'mandatory', description: 'true: a message no queue receives is an error and is dead-lettered; false: the broker drops it', default: 'true' },
  { key: 'max_payload_bytes', description: 'Larger bodies are dead-lettered as too large', default: '16777216' },
  { key: 'heartbeat_seconds', description: 'AMQP heartbeat; a silent broker is detected after about two periods (0 disables)', default: '30' },
  { key: 'connect_timeout_ms', description: 'Give up a connection attempt after this long', default: '10000' },
  { key: 'stop_timeout_ms', description: 'On shutdown, how long to wait for unconfirmed messages', default: '5000' },
  { key: 'confirm_timeout_ms', description: 'Longest wait for a publisher confirm; then the connection is dropped and the messages resent', default: '30000' },
  { key: 'username', description: "Replaces the user in uri (pg-event-proxy's USERNAME)" },
  { key: 'password', description: "Replaces the password in uri (pg-event-proxy's PASSWORD)" },
] as const;

const labels = {
  url: 'uri',
  deliveryMode: 'delivery_mode',
  maxPayloadBytes: 'max_payload_bytes',
  heartbeatSeconds: 'heartbeat_seconds',
  connectTimeoutMs: 'connect_timeout_ms',
  stopTimeoutMs: 'stop_timeout_ms',
  confirmTimeoutMs: 'confirm_timeout_ms',
};

/**
 * The `amqp` kind of the pg-event-bridge daemon: turns an `[upstream.NAME]` section (or
 * pg-event-proxy's `PGPROXY_LOCAL-*` variables) into an AMQP publisher, without I/O.
 *
 * @example
 * ```ts
 * const publisher = amqpUpstream.create({
 *   name: 'local',
 *   uri: 'amqp://guest:guest@localhost//',
 *   settings: { delivery_mode: '2' },
 *   logger,
 * });
 * ```
 */
export const amqpUpstream: UpstreamDefinition = Object.freeze({
  kind: 'amqp',
  targetKinds: Object.freeze(['exchange', 'queue']),
  description: 'RabbitMQ or another AMQP 0.9.1 broker, with publisher confirms',
  settings,
  create(config: UpstreamConfig) {
    const problems: string[] = [];
    const values = config.settings;
    const text = (key: string) => values[key]?.trim();
    const known: readonly string[] = settings.map((s) => s.key);
    for (const key of Object.keys(values)) {
      if (!known.includes(key)) problems.push(`unknown key ${key}; amqp understands: ${known.join(', ')}`);
    }
    const integer = (key: string): number | undefined => {
      const value = text(key);
      if (value === undefined) return undefined;
      if (/^\d+$/.test(value)) return Number(value);
      problems.push(`${key} ${JSON.stringify(value)} is not a whole number`);
      return undefined;
    };

    let deliveryMode: AmqpDeliveryMode | undefined;
    const mode = text('delivery_mode')?.toLowerCase();
    if (mode === '1' || mode === 'non-persistent') deliveryMode = 1;
    else if (mode === '2' || mode === 'persistent') deliveryMode = 2;
    else if (mode !== undefined) problems.push(`delivery_mode ${JSON.stringify(mode)} is not 1, 2, non-persistent or persistent`);

    let mandatory: boolean | undefined;
    const flag = text('mandatory')?.toLowerCase();
    if (flag === 'true' || flag === 'yes' || flag === '1') mandatory = true;
    else if (flag === 'false' || flag === 'no' || flag === '0') mandatory = false;
    else if (flag !== undefined) problems.push(`mandatory ${JSON.stringify(flag)} is not true or false`);

    const options: AmqpPublisherOptions = {
      url: withCredentials(config.uri, values.username, values.password),
      deliveryMode,
      mandatory,
      maxPayloadBytes: integer('max_payload_bytes'),
      heartbeatSeconds: integer('heartbeat_seconds'),
      connectTimeoutMs: integer('connect_timeout_ms'),
      stopTimeoutMs: integer('stop_timeout_ms'),
      confirmTimeoutMs: integer('confirm_timeout_ms'),
    };
    const context = `[upstream.${config.name}] Invalid amqp settings`;
    return new AmqpPublisher(resolveAmqpOptions(options, { labels, context, problems }));
  },
});

/** pg-event-proxy passes USERNAME and PASSWORD apart from the URI; they win over the URI's own. */
function withCredentials(uri: string, username: string | undefined, password: string | undefined): string {
  if (username === undefined && password === undefined) return uri;
  try {
    const url = new URL(uri);
    if (username !== undefined) url.username = username;
    if (password !== undefined) url.password = password;
    return url.toString();
  } catch {
    // resolveAmqpOptions reports the unparsable uri.
    return uri;
  }
}
