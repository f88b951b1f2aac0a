import { silentLogger, type Publisher, type Target } from '@pg-event-bridge/core';
import { makeEvent } from '@pg-event-bridge/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisPublisher, redisChannel, redisUpstream } from '../src/index.js';
import { readStream, redisUrl, subscribeChannel, uniqueName } from './redis-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function admin(): Redis {
  const client = new Redis(redisUrl);
  client.on('error', () => undefined);
  cleanups.push(async () => void client.disconnect());
  return client;
}

async function started(publisher: Publisher, targets: Target[]): Promise<Publisher> {
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: silentLogger, targets, signal: new AbortController().signal });
  return publisher;
}

describe('redisChannel', () => {
  it('joins name and key with the separator, and uses the name alone for an empty key', () => {
    expect(redisChannel('events', 'signup')).toBe('events.signup');
    expect(redisChannel('events', '')).toBe('events');
    expect(redisChannel('events', 'signup', ':')).toBe('events:signup');
  });
});

describe('redis pub/sub routing', () => {
  it('publishes key "signup" to <name>.signup and an empty key to <name>', async () => {
    const name = uniqueName('events');
    const subscriber = await subscribeChannel(name);
    cleanups.push(() => subscriber.dispose());
    const publisher = await started(createRedisPublisher(), [subscriber.target]);
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', body: 'hello' }));
    await publisher.publish(subscriber.target, makeEvent({ routingKey: '', body: 'no key' }));
    const received = await subscriber.inbox.take(2, 10_000);
    expect(received.map((m) => [m.routingKey, m.body.toString()])).toEqual([
      [`${name}.signup`, 'hello'],
      [name, 'no key'],
    ]);
  });

  it('resolves a PUBLISH nobody listens to: pub/sub is at-most-once, the message is gone', async () => {
    const name = uniqueName('events');
    const publisher = await started(createRedisPublisher(), [{ kind: 'topic', name }]);
    await expect(publisher.publish({ kind: 'topic', name }, makeEvent({ routingKey: 'nobody' }))).resolves.toBeUndefined();
  });
});

describe('redis streams', () => {
  it('XADDs body, routing_key, event_id, channel and headers (JSON) to the stream named by the target', async () => {
    const redis = admin();
    const name = uniqueName('events-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = await started(createRedisPublisher(), [target]);
    const event = makeEvent({ source: 'events', routingKey: 'signup', body: 'hello', headers: { 'x-tenant': 'acme' }, contentType: 'text/plain' });
    await publisher.publish(target, event);
    await publisher.publish(target, makeEvent({ routingKey: '', body: 'no key' }));
    const entries = await readStream(redis, name);
    expect(entries.map((e) => e.body.toString())).toEqual(['hello', 'no key']);
    expect(entries[0]!.fields).toEqual({ routing_key: 'signup', event_id: event.id, channel: 'events', headers: '{"x-tenant":"acme"}', content_type: 'text/plain' });
    expect(entries[1]!.fields.routing_key).toBe('');
    expect(entries[1]!.fields.headers).toBe('{}');
  });

  it('trims with MAXLEN ~ when streamMaxLen is set', async () => {
    const redis = admin();
    const name = uniqueName('events-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = await started(createRedisPublisher({ streamMaxLen: 10 }), [target]);
    for (let i = 0; i < 500; i += 1) await publisher.publish(target, makeEvent({ body: String(i) }));
    // Approximate trimming removes whole macro nodes (100 entries by default), so the stream
    // keeps at least 10 and far fewer than 500.
    const length = await redis.xlen(name);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(500);
  });

  it('refuses start() when the stream key holds another type', async () => {
    const redis = admin();
    const name = uniqueName('not-a-stream');
    await redis.set(name, 'x');
    cleanups.push(async () => void (await redis.del(name)));
    const publisher = createRedisPublisher();
    cleanups.push(() => publisher.stop());
    await expect(publisher.start({ logger: silentLogger, targets: [{ kind: 'stream', name }], signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ERR_BRIDGE_CONFIG',
      message: expect.stringContaining('holds a string'),
    });
  });

  it('accepts the application\'s own ioredis client and leaves it open on stop()', async () => {
    const redis = admin();
    const name = uniqueName('events-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = createRedisPublisher({ client: redis });
    await publisher.start({ logger: silentLogger, targets: [target], signal: new AbortController().signal });
    await publisher.publish(target, makeEvent({ body: 'shared client' }));
    await publisher.stop();
    expect(redis.status).toBe('ready');
    expect((await readStream(redis, name)).map((e) => e.body.toString())).toEqual(['shared client']);
  });
});

describe('redisUpstream (daemon kind)', () => {
  const config = (settings: Record<string, string>, uri = redisUrl) => ({ name: 'cache', uri, settings, logger: silentLogger });

  it('documents every setting it reads', () => {
    expect(redisUpstream.kind).toBe('redis');
    expect(redisUpstream.targetKinds).toEqual(['topic', 'stream']);
    expect(redisUpstream.settings.map((s) => s.key).sort()).toEqual(['command_timeout_ms', 'max_payload_bytes', 'password', 'separator', 'stream_max_len', 'username']);
  });

  it('builds a working publisher from settings', async () => {
    const name = uniqueName('events');
    const subscriber = await subscribeChannel(name);
    cleanups.push(() => subscriber.dispose());
    const publisher = await started(redisUpstream.create(config({ separator: ':' })), [subscriber.target]);
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'x', body: 'hi' }));
    // The subscriber listens to <name>.* and <name>: ':' is outside both, so publish to the bare name too.
    await publisher.publish(subscriber.target, makeEvent({ routingKey: '', body: 'bare' }));
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message?.body.toString()).toBe('bare');
  });

  it('names every bad setting at once, with the URI redacted', () => {
    let error: unknown;
    try {
      redisUpstream.create(config({ stream_max_len: 'lots', max_payload_bytes: '-3' }, 'redis://default:hunter2@h'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
    expect((error as Error).message).toContain('stream_max_len');
    expect((error as Error).message).toContain('max_payload_bytes');
    expect((error as Error).message).not.toContain('hunter2');
  });
});
