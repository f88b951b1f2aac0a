import { silentLogger } from '@pg-event-bridge/core';
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

// The cut-mid-stream delivery test is the conformance suite's (brokerPort); this file keeps what
// is particular to JetStream.
describe('nats JetStream: connection cut mid-stream', () => {
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
