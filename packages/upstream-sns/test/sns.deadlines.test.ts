import type { Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent, startFaultProxy, type FaultProxy } from '@pg-event-bridge/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSnsPublisher, type SnsPublisherOptions } from '../src/index.js';
import { credentials, provisionTopic, region, startEmulator } from './fauxqs-harness.js';

// fauxqs behind the testkit fault proxy: with the proxy blackholed, nothing answers and no
// connection breaks, as with a dead NAT or a firewall dropping packets.
const emulator = await startEmulator();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await emulator.stop();
});

async function setup(options: SnsPublisherOptions = {}): Promise<{ publisher: Publisher; proxy: FaultProxy; target: { kind: string; name: string } }> {
  const topic = await provisionTopic(emulator);
  cleanups.push(() => topic.dispose());
  const port = Number(new URL(emulator.endpoint).port);
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
  cleanups.push(() => proxy.close());
  const publisher = createSnsPublisher({ endpoint: `http://127.0.0.1:${proxy.port}`, region, credentials, ...options });
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: [topic.target], signal: new AbortController().signal });
  await publisher.publish(topic.target, makeEvent({ body: 'before' }));
  return { publisher, proxy, target: topic.target };
}

describe('sns publisher against a blackholed endpoint', () => {
  it('fails a publish with a retryable error within requestTimeoutMs × attempts, not never', async () => {
    const { publisher, proxy, target } = await setup({ requestTimeoutMs: 400, connectTimeoutMs: 400 });
    proxy.blackhole(true);
    const began = Date.now();
    const error = await publisher.publish(target, makeEvent({ body: 'lost in the hole' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    // Three attempts (the SDK's default) of 400 ms, with its backoff between them.
    expect(Date.now() - began).toBeLessThan(3 * 400 + 3_000);
    proxy.blackhole(false);
    await publisher.publish(target, makeEvent({ body: 'after' }));
  });

  it('bounds stop() by stopTimeoutMs while a request hangs, failing it as ERR_BRIDGE_ABORTED', async () => {
    const { publisher, proxy, target } = await setup({ requestTimeoutMs: 60_000, stopTimeoutMs: 300 });
    proxy.blackhole(true);
    const pending = publisher.publish(target, makeEvent({ body: 'hangs' })).catch((e: unknown) => e);
    const began = Date.now();
    await publisher.stop();
    expect(Date.now() - began).toBeLessThan(300 + 2_000);
    expect(await pending).toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
  });
});
