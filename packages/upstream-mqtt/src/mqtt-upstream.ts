import { SettingsReader, type Publisher, type UpstreamConfig, type UpstreamDefinition } from '@pg-event-bridge/core';
import { MQTT_PROTOCOL_MAX_BYTES, type MqttPublisherOptions } from './mqtt-options.js';
import { createMqttPublisher } from './mqtt-publisher.js';

function parseSettings(config: UpstreamConfig): MqttPublisherOptions {
  const read = new SettingsReader(config);
  const version = read.oneOf('protocol_version', ['5', '5.0', '4', '3.1.1']);
  const qos = read.integer('qos', { max: 2 }) as 0 | 1 | 2 | undefined;
  const options: MqttPublisherOptions = {
    url: config.uri,
    username: read.string('username'),
    password: read.string('password'),
    protocolVersion: version === undefined ? undefined : version.startsWith('5') ? 5 : 4,
    clientId: read.string('client_id'),
    qos,
    retain: read.boolean('retain'),
    separator: read.string('separator'),
    maxPayloadBytes: read.integer('max_payload_bytes', { min: 1 }),
    keepaliveSeconds: read.integer('keepalive'),
    ackTimeoutMs: read.integer('ack_timeout_ms', { min: 1 }),
  };
  read.throwIfAny();
  return options;
}

/**
 * The daemon's `kind=mqtt` upstream. Reads `username`/`password` (pg-event-proxy generation 1's
 * `USERNAME`/`PASSWORD`), `protocol_version`, `qos`, `retain`, `separator`, `client_id`,
 * `max_payload_bytes`, `keepalive` and `ack_timeout_ms`.
 */
export const mqttUpstream: UpstreamDefinition = Object.freeze({
  kind: 'mqtt',
  targetKinds: ['topic'],
  description: 'MQTT 3.1.1/5 broker (Mosquitto, EMQX, HiveMQ...): topic:<name> publishes to <name>.<routing key>',
  settings: [
    { key: 'username', description: 'User name (overrides the one in the URI); pg-event-proxy\'s USERNAME' },
    { key: 'password', description: 'Password (overrides the one in the URI); pg-event-proxy\'s PASSWORD. Never logged' },
    { key: 'protocol_version', description: 'MQTT protocol: 5 or 3.1.1', default: '5' },
    { key: 'qos', description: 'QoS of every message: 0, 1 (confirmed by PUBACK) or 2 (PUBCOMP)', default: '1' },
    { key: 'retain', description: 'Set the retain flag on every message (true/false)', default: 'false' },
    { key: 'separator', description: 'Between topic name and routing key; "/" suits MQTT wildcards', default: '.' },
    { key: 'client_id', description: 'MQTT client id', default: 'pg-event-bridge-<random>' },
    { key: 'max_payload_bytes', description: 'Largest body forwarded; larger ones are dead-lettered', default: String(MQTT_PROTOCOL_MAX_BYTES) },
    { key: 'keepalive', description: 'Keep-alive interval in seconds', default: '30' },
    { key: 'ack_timeout_ms', description: 'Longest wait for a PUBACK/PUBCOMP, in ms; then the connection is dropped and the publishes resent', default: '30000' },
  ],
  create(config: UpstreamConfig): Publisher {
    return createMqttPublisher(parseSettings(config));
  },
});
