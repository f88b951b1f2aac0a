import { SettingsReader, type Publisher, type UpstreamConfig, type UpstreamDefinition } from '@pg-event-bridge/core';
import { NATS_DEFAULT_MAX_PAYLOAD_BYTES, type NatsPublisherOptions } from './nats-options.js';
import { createNatsPublisher } from './nats-publisher.js';

function parseSettings(config: UpstreamConfig): NatsPublisherOptions {
  const read = new SettingsReader(config);
  const user = read.string('username');
  const pass = read.string('password');
  const token = read.string('token');
  const options: NatsPublisherOptions = {
    url: config.uri,
    connectionOptions: { ...(user ? { user } : {}), ...(pass ? { pass } : {}), ...(token ? { token } : {}) },
    publishTimeoutMs: read.integer('publish_timeout_ms', { min: 1 }),
    maxPayloadBytes: read.integer('max_payload_bytes', { min: 1 }),
    checkTargets: read.boolean('check_targets'),
  };
  read.throwIfAny();
  return options;
}

/**
 * The daemon's `kind=nats` upstream (JetStream): `subject:<name>` publishes to `<name>.<key>`.
 * Reads `username`, `password`, `token`, `publish_timeout_ms`, `max_payload_bytes` and
 * `check_targets`.
 */
export const natsUpstream: UpstreamDefinition = Object.freeze({
  kind: 'nats',
  targetKinds: ['subject'],
  description: 'NATS JetStream: subject:<name> publishes to <name>.<routing key>, confirmed by the stream (Nats-Msg-Id = event id)',
  settings: [
    { key: 'username', description: 'User (overrides the one in the URI)' },
    { key: 'password', description: 'Password (overrides the one in the URI). Never logged' },
    { key: 'token', description: 'Authentication token. Never logged' },
    { key: 'publish_timeout_ms', description: 'How long to wait for the stream acknowledgement before retrying', default: '5000' },
    { key: 'max_payload_bytes', description: 'Largest body forwarded; larger ones are dead-lettered', default: String(NATS_DEFAULT_MAX_PAYLOAD_BYTES) },
    { key: 'check_targets', description: 'At start, fail unless a JetStream stream captures every subject target', default: 'true' },
  ],
  create(config: UpstreamConfig): Publisher {
    return createNatsPublisher(parseSettings(config));
  },
});
