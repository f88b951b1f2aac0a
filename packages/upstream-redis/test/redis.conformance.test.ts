import type { Publisher } from '@pg-event-bridge/core';
import { testPublisher, type PublisherTestSpec } from '@pg-event-bridge/testkit';
import { describe } from 'vitest';
import { createRedisPublisher, redisChannel } from '../src/index.js';
import { followStream, redisUrl, subscribeChannel, uniqueName } from './redis-test-helpers.js';

const secret = 'redis-s3cret-pass';

const spec: PublisherTestSpec = {
  name: 'redis',
  create: (overrides) => createRedisPublisher({ url: overrides?.port ? `redis://127.0.0.1:${overrides.port}` : redisUrl, maxPayloadBytes: overrides?.maxPayloadBytes ?? 64 * 1024 }),
  brokerPort: 6379,
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  createUnreachable: () => createRedisPublisher({ url: `redis://default:${secret}@127.0.0.1:1` }),
  secret,
  badOptions: [
    () => createRedisPublisher({ url: `http://default:${secret}@localhost` }),
    () => createRedisPublisher({ streamMaxLen: -1 }),
    () => createRedisPublisher({ maxPayloadBytes: 0 }),
    () => createRedisPublisher({ separator: '' }),
    () => createRedisPublisher({ url: 'redis://localhost', cluster: { nodes: [{ host: 'localhost', port: 7000 }] } }),
    () => createRedisPublisher({ cluster: { nodes: [] } }),
  ],
  provision: async (kind) => (kind === 'stream' ? followStream(uniqueName('pgeb-conf-stream')) : subscribeChannel(uniqueName('pgeb-conf'))),
  maxPayloadBytes: 64 * 1024,
  capabilities: { headers: false, ordered: true },
  expectedRoutingKey: (target, event) => (target.kind === 'stream' ? event.routingKey : redisChannel(target.name, event.routingKey)),
};

describe('pub/sub (topic) first', () => testPublisher(spec));

/**
 * The suite runs its generic tests on the first target kind; this view of the same publisher
 * lists `stream` first, so lifecycle, payload, ordering and cancellation are also proven on
 * streams, the durable kind.
 */
function streamFirst(publisher: Publisher): Publisher {
  return {
    name: publisher.name,
    targetKinds: ['stream', 'topic'],
    capabilities: publisher.capabilities,
    start: (context) => publisher.start(context),
    publish: (target, event, options) => publisher.publish(target, event, options),
    stop: () => publisher.stop(),
  };
}

describe('streams first', () =>
  testPublisher({
    ...spec,
    create: (overrides) => streamFirst(spec.create(overrides)),
    createUnreachable: () => streamFirst(spec.createUnreachable()),
  }));
