import { SettingsReader, type Publisher, type UpstreamConfig, type UpstreamDefinition } from '@pg-event-bridge/core';
import { REDIS_MAX_BULK_BYTES, type RedisPublisherOptions } from './redis-options.js';
import { createRedisPublisher } from './redis-publisher.js';

function parseSettings(config: UpstreamConfig): RedisPublisherOptions {
  const read = new SettingsReader(config);
  const username = read.string('username');
  const password = read.string('password');
  const options: RedisPublisherOptions = {
    url: config.uri,
    separator: read.string('separator'),
    streamMaxLen: read.integer('stream_max_len', { min: 1 }),
    maxPayloadBytes: read.integer('max_payload_bytes', { min: 1 }),
    commandTimeoutMs: read.integer('command_timeout_ms', { min: 1 }),
    redisOptions: { ...(username ? { username } : {}), ...(password ? { password } : {}) },
  };
  read.throwIfAny();
  return options;
}

/**
 * The daemon's `kind=redis` upstream: `topic:<name>` (pub/sub, at-most-once) and
 * `stream:<name>` (XADD, durable). Reads `separator`, `stream_max_len`, `max_payload_bytes`, `command_timeout_ms` and
 * `username`/`password` (which override the URI's).
 */
export const redisUpstream: UpstreamDefinition = Object.freeze({
  kind: 'redis',
  targetKinds: ['topic', 'stream'],
  description: 'Redis: topic:<name> PUBLISHes on <name>.<routing key> (at-most-once), stream:<name> XADDs to stream <name> (durable)',
  settings: [
    { key: 'separator', description: 'Between pub/sub channel name and routing key', default: '.' },
    { key: 'stream_max_len', description: 'Trim streams with XADD MAXLEN ~ <n>', default: 'no trimming' },
    { key: 'max_payload_bytes', description: 'Largest body forwarded; larger ones are dead-lettered', default: String(REDIS_MAX_BULK_BYTES) },
    { key: 'command_timeout_ms', description: 'Longest wait for one command\'s reply, in ms; then the publish is retried on a new connection', default: '5000' },
    { key: 'username', description: 'ACL user (overrides the one in the URI)' },
    { key: 'password', description: 'Password (overrides the one in the URI). Never logged' },
  ],
  create(config: UpstreamConfig): Publisher {
    return createRedisPublisher(parseSettings(config));
  },
});
