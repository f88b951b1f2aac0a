import { silentLogger, TargetDispatcher, type BridgeEvent } from '@pg-event-bridge/core';
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
function firstOccurrences(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => (seen.has(value) ? false : (seen.add(value), true)));
}

function waitUntil(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}

// Redis pub/sub is at-most-once by nature (no subscriber: the message is gone), so the durable
// guarantee is tested on streams.
describe('redis streams: connection cut mid-stream', () => {
  it('stores every accepted message, in order, when the connection is cut twice', async () => {
    const faultProxy = await proxy();
    const redis = await admin();
    const name = uniqueName('pgeb-fault-stream');
    cleanups.push(async () => void (await redis.del(name)));
    const target = { kind: 'stream', name };
    const publisher = createRedisPublisher({ url: `redis://127.0.0.1:${faultProxy.port}` });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [target], signal: new AbortController().signal });

    // The dispatcher is what the bridge uses: it re-sends failed publishes in order after a
    // backoff. The publisher's part: fail unanswered commands (retryable) on a cut, reconnect on
    // the next publish, and never let a later message overtake an earlier one.
    const retries: string[] = [];
    const dispatcher = new TargetDispatcher(publisher, target, { maxInFlight: 100, maxInFlightBytes: 1 << 24, retry: { initialDelayMs: 20, maxDelayMs: 200 } }, {
      published() {},
      retrying(info) {
        retries.push(`${info.error.code}:${String(info.error.retryable)}`);
      },
      async deadLetter(letter) {
        throw new Error(`unexpected dead letter: ${letter.error.message}`);
      },
      capacityChanged() {},
    });
    const events: BridgeEvent[] = Array.from({ length: 3000 }, (_, i) => makeEvent({ body: `m-${i}` }));
    let resolvedCount = 0;
    const delivered: Promise<void>[] = [];
    for (const [i, event] of events.entries()) {
      const done = dispatcher.enqueue(event);
      void done.then(() => (resolvedCount += 1));
      delivered.push(done);
      if (i === 1000 || i === 2000) {
        await waitUntil(() => resolvedCount >= i - 80);
        faultProxy.cut();
      }
    }
    await Promise.all(delivered);
    expect(faultProxy.accepted).toBeGreaterThanOrEqual(3);
    expect(retries.length).toBeGreaterThan(0);
    expect(new Set(retries)).toEqual(new Set(['ERR_BRIDGE_UPSTREAM_UNAVAILABLE:true']));

    const entries = await readStream(redis, name);
    expect(firstOccurrences(entries.map((e) => e.fields.event_id!))).toEqual(events.map((e) => e.id));
    expect(firstOccurrences(entries.map((e) => e.body.toString()))).toEqual(events.map((e) => e.body.toString()));
  });

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
