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

describe('mqtt: broker connection cut mid-stream', () => {
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
