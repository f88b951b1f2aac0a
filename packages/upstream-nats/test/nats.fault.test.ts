import { silentLogger, TargetDispatcher, type BridgeEvent } from '@pg-event-bridge/core';
import { makeEvent, startFaultProxy, type FaultProxy } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsPublisher } from '../src/index.js';
import { provisionStream, uniqueSubject } from './nats-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxy(): Promise<FaultProxy> {
  const faultProxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 4222 } });
  cleanups.push(() => faultProxy.close());
  return faultProxy;
}

function waitUntil(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}

describe('nats JetStream: connection cut mid-stream', () => {
  it('stores every accepted message exactly once, in order, when the connection is cut twice', async () => {
    const faultProxy = await proxy();
    const stream = await provisionStream(uniqueSubject('pgeb-fault'));
    cleanups.push(() => stream.dispose());
    const publisher = createNatsPublisher({ url: `nats://127.0.0.1:${faultProxy.port}` });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [stream.target], signal: new AbortController().signal });

    // The dispatcher is what the bridge uses: it re-sends failed publishes in order after a
    // backoff. The publisher's part: fail unacknowledged publishes (retryable) on a cut and
    // reconnect on the next publish; Nats-Msg-Id makes the stream drop what it already stored.
    const retries: string[] = [];
    const dispatcher = new TargetDispatcher(publisher, stream.target, { maxInFlight: 100, maxInFlightBytes: 1 << 24, retry: { initialDelayMs: 20, maxDelayMs: 200 } }, {
      published() {},
      retrying(info) {
        retries.push(`${info.error.code}:${String(info.error.retryable)}`);
      },
      async deadLetter(letter) {
        throw new Error(`unexpected dead letter: ${letter.error.message}`);
      },
      capacityChanged() {},
    });
    const events: BridgeEvent[] = Array.from({ length: 1500 }, (_, i) => makeEvent({ routingKey: `k${i % 3}`, body: `m-${i}` }));
    let resolvedCount = 0;
    const delivered: Promise<void>[] = [];
    for (const [i, event] of events.entries()) {
      const done = dispatcher.enqueue(event);
      void done.then(() => (resolvedCount += 1));
      delivered.push(done);
      if (i === 500 || i === 1000) {
        await waitUntil(() => resolvedCount >= i - 80);
        faultProxy.cut();
      }
    }
    await Promise.all(delivered);
    expect(faultProxy.accepted).toBeGreaterThanOrEqual(3);
    expect(retries.length).toBeGreaterThan(0);
    expect(new Set(retries)).toEqual(new Set(['ERR_BRIDGE_UPSTREAM_UNAVAILABLE:true']));

    // JetStream de-duplicates on Nats-Msg-Id, so the stream holds each event exactly once.
    const stored = await stream.inbox.take(events.length, 15_000);
    expect(stored.map((m) => m.headers['x-event-id'])).toEqual(events.map((e) => e.id));
    expect(stored.map((m) => m.routingKey)).toEqual(events.map((e) => `${stream.target.name}.${e.routingKey}`));
  });

  it('fails an unacknowledged publish with a retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE and reconnects on the next publish', async () => {
    const faultProxy = await proxy();
    const stream = await provisionStream(uniqueSubject('pgeb-fault'));
    cleanups.push(() => stream.dispose());
    const publisher = createNatsPublisher({ url: `nats://127.0.0.1:${faultProxy.port}` });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [stream.target], signal: new AbortController().signal });
    await publisher.publish(stream.target, makeEvent({ body: 'before' }));
    faultProxy.blackhole(true);
    const inFlight = publisher.publish(stream.target, makeEvent({ body: 'in-flight' }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    faultProxy.cut();
    faultProxy.blackhole(false);
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    await publisher.publish(stream.target, makeEvent({ body: 'after' }));
    const stored = await stream.inbox.take(2, 10_000);
    expect(stored.map((m) => m.body.toString())).toEqual(['before', 'after']);
    expect(faultProxy.accepted).toBe(2);
  });
});
