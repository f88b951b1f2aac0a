import { silentLogger } from '@pg-event-bridge/core';
import { makeEvent, startFaultProxy, type FaultProxy } from '@pg-event-bridge/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisPublisher } from '../src/index.js';
import { readStream, redisUrl, uniqueName } from './redis-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxy(): Promise<FaultProxy> {
  const faultProxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 6379 } });
  cleanups.push(() => faultProxy.close());
  return faultProxy;
}

async function admin(): Promise<Redis> {
  const client = new Redis(redisUrl);
  client.on('error', () => undefined);
  cleanups.push(async () => void client.disconnect());
  return client;
}

/** First occurrence of each value, in order: at-least-once may repeat, never reorder. */

// Redis pub/sub is at-most-once by nature (no subscriber: the message is gone), so the durable
// guarantee is tested on streams.
describe('redis streams: connection cut mid-stream', () => {
  it('fails an unanswered command with a retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE and reconnects on the next publish', async () => {
    const faultProxy = await proxy();
    const redis = await admin();
    const name = uniqueName('pgeb-fault-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = createRedisPublisher({ url: `redis://127.0.0.1:${faultProxy.port}` });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [target], signal: new AbortController().signal });
    await publisher.publish(target, makeEvent({ body: 'before' }));
    faultProxy.blackhole(true);
    const inFlight = publisher.publish(target, makeEvent({ body: 'in-flight' }));
    // Wait until the command left the client (it sits in the proxy), then cut.
    await new Promise((resolve) => setTimeout(resolve, 0));
    faultProxy.cut();
    faultProxy.blackhole(false);
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    await publisher.publish(target, makeEvent({ body: 'after' }));
    expect((await readStream(redis, name)).map((e) => e.body.toString())).toEqual(['before', 'after']);
    expect(faultProxy.accepted).toBe(2);
  });
});

describe('redis: a server that stops answering (blackholed through the fault proxy)', () => {
  it('fails a publish with a retryable error within commandTimeoutMs, reconnects once the path heals, and stop() stays bounded', async () => {
    const faultProxy = await proxy();
    const redis = await admin();
    const name = uniqueName('pgeb-blackhole-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = createRedisPublisher({ url: `redis://127.0.0.1:${faultProxy.port}`, commandTimeoutMs: 300, stopTimeoutMs: 200 });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [target], signal: new AbortController().signal });
    await publisher.publish(target, makeEvent({ body: 'before' }));
    faultProxy.blackhole(true);
    const began = Date.now();
    await expect(publisher.publish(target, makeEvent({ body: 'unanswered' }))).rejects.toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true, message: expect.stringContaining('commandTimeoutMs') });
    expect(Date.now() - began).toBeLessThan(300 + 2_000);
    faultProxy.blackhole(false);
    await publisher.publish(target, makeEvent({ body: 'after' }));
    const bodies = (await readStream(redis, name)).map((e) => e.body.toString());
    expect(bodies.filter((b) => b !== 'unanswered')).toEqual(['before', 'after']);
    faultProxy.blackhole(true);
    const hanging = publisher.publish(target, makeEvent({ body: 'at stop' })).catch((e: unknown) => e);
    const stopping = Date.now();
    await publisher.stop();
    expect(Date.now() - stopping).toBeLessThan(200 + 1_000 + 1_000);
    expect(await hanging).toMatchObject({ retryable: true });
  });
});
