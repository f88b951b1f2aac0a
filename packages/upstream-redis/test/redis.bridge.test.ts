import { createBridge } from '@pg-event-bridge/core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisPublisher } from '../src/index.js';
import { followStream, redisUrl, subscribeChannel, uniqueName } from './redis-test-helpers.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('NOTIFY → Redis through createBridge', () => {
  it('delivers NOTIFY "signup|hello" to channel <name>.signup and to stream <name>', async () => {
    const name = uniqueName('events');
    const channel = `pgeb_${name.replace(/-/g, '_')}`;
    const subscriber = await subscribeChannel(name);
    cleanups.push(() => subscriber.dispose());
    const stream = await followStream(`${name}-stream`);
    cleanups.push(() => stream.dispose());
    const bridge = createBridge({
      postgres: postgresUrl,
      upstreams: [{ publisher: createRedisPublisher({ url: redisUrl }), rules: `${channel}->topic:${name}, ${channel}->stream:${name}-stream` }],
    });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    const client = new pg.Client(postgresUrl);
    await client.connect();
    cleanups.push(() => client.end());
    await client.query('SELECT pg_notify($1, $2)', [channel, 'signup|hello']);
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect([message?.routingKey, message?.body.toString()]).toEqual([`${name}.signup`, 'hello']);
    const [entry] = await stream.inbox.take(1, 10_000);
    expect(entry?.body.toString()).toBe('hello');
    expect(entry?.fields).toMatchObject({ routing_key: 'signup', channel });
  });
});
