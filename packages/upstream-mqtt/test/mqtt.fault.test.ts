import { TargetDispatcher, type BridgeEvent } from '@pg-event-bridge/core';
import { makeEvent, startFaultProxy, type FaultProxy } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttPublisher } from '../src/index.js';
import { subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxy(): Promise<FaultProxy> {
  const faultProxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 1883 } });
  cleanups.push(() => faultProxy.close());
  return faultProxy;
}

/** First occurrence of each body, in arrival order: at-least-once may repeat, never reorder. */
function firstOccurrences(bodies: string[]): string[] {
  const seen = new Set<string>();
  return bodies.filter((body) => (seen.has(body) ? false : (seen.add(body), true)));
}

describe('mqtt: broker connection cut mid-stream', () => {
  for (const qos of [1, 2] as const) {
    it(`delivers every accepted message, in order, when the connection is cut (QoS ${qos})`, async () => {
      const faultProxy = await proxy();
      const name = uniqueTopic('pgeb-fault');
      const subscriber = await subscribe(name);
      cleanups.push(() => subscriber.dispose());
      const publisher = createMqttPublisher({ url: `mqtt://127.0.0.1:${faultProxy.port}`, qos });
      cleanups.push(() => publisher.stop());
      await publisher.start({ logger: (await import('@pg-event-bridge/core')).silentLogger, targets: [subscriber.target], signal: new AbortController().signal });

      // The dispatcher is what the bridge uses: it re-sends failed publishes in order after a
      // backoff. The publisher's part is to fail in-flight publishes (retryable) on a cut and to
      // reconnect on the next publish.
      const retries: string[] = [];
      const dispatcher = new TargetDispatcher(publisher, subscriber.target, { maxInFlight: 100, maxInFlightBytes: 1 << 24, retry: { initialDelayMs: 20, maxDelayMs: 200 } }, {
        published() {},
        retrying(info) {
          retries.push(`${info.error.code}:${String(info.error.retryable)}`);
        },
        async deadLetter(letter) {
          throw new Error(`unexpected dead letter: ${letter.error.message}`);
        },
        capacityChanged() {},
      });
      const events: BridgeEvent[] = Array.from({ length: 600 }, (_, i) => makeEvent({ body: `m-${i}` }));
      const delivered: Promise<void>[] = [];
      let resolvedCount = 0;
      for (const [i, event] of events.entries()) {
        const done = dispatcher.enqueue(event);
        void done.then(() => (resolvedCount += 1));
        delivered.push(done);
        // Cut twice while messages are in flight: after some were acknowledged, none re-sent yet.
        if (i === 200 || i === 400) {
          await new Promise<void>((resolve) => {
            const check = () => (resolvedCount >= i - 50 ? resolve() : setImmediate(check));
            check();
          });
          faultProxy.cut();
        }
      }
      await Promise.all(delivered);
      expect(faultProxy.accepted).toBeGreaterThanOrEqual(3);
      expect(retries.length).toBeGreaterThan(0);
      expect(new Set(retries)).toEqual(new Set(['ERR_BRIDGE_UPSTREAM_UNAVAILABLE:true']));

      // Every message was accepted (all promises resolved), so every one must arrive. Wait for the
      // last body rather than a fixed time.
      const bodies: string[] = [];
      while (!bodies.includes(`m-${events.length - 1}`)) {
        const [message] = await subscriber.inbox.take(1, 10_000);
        bodies.push(message!.body.toString());
      }
      expect(firstOccurrences(bodies)).toEqual(events.map((e) => e.body.toString()));
    });
  }

  it('fails in-flight publishes with a retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE and reconnects on the next publish', async () => {
    const faultProxy = await proxy();
    const name = uniqueTopic('pgeb-fault');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const publisher = createMqttPublisher({ url: `mqtt://127.0.0.1:${faultProxy.port}` });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: (await import('@pg-event-bridge/core')).silentLogger, targets: [subscriber.target], signal: new AbortController().signal });
    await publisher.publish(subscriber.target, makeEvent({ body: 'before' }));
    faultProxy.blackhole(true);
    const inFlight = publisher.publish(subscriber.target, makeEvent({ body: 'in-flight' }));
    faultProxy.cut();
    faultProxy.blackhole(false);
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    await publisher.publish(subscriber.target, makeEvent({ body: 'after' }));
    const received = await subscriber.inbox.take(2, 10_000);
    expect(received.map((m) => m.body.toString())).toEqual(['before', 'after']);
    expect(faultProxy.accepted).toBe(2);
  });
});
