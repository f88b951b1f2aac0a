import { randomBytes, randomUUID } from 'node:crypto';
import { createBridge, type Bridge, type DeadLetter, type Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent, startFaultProxy } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLambdaPublisher, lambdaUpstream, type LambdaEnvelope, type LambdaPublisherOptions } from '../src/index.js';
import { functionPrefix, startServerlessOffline } from './serverless-offline.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const offline = await startServerlessOffline();
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await offline.stop();
});

async function started(options: LambdaPublisherOptions, names: string[]): Promise<Publisher> {
  const publisher = createLambdaPublisher({ endpoint: offline.endpoint, region, credentials, ...options });
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: names.map((name) => ({ kind: 'function', name })), signal: new AbortController().signal });
  return publisher;
}

describe('lambda publisher', () => {
  it('invokes asynchronously (Event) with the documented envelope', async () => {
    const { target, inbox } = offline.provision();
    const publisher = await started({}, [target.name]);
    const binary = randomBytes(32);
    const timestamp = new Date('2024-05-01T12:00:00.000Z');
    const text = makeEvent({ source: 'orders', routingKey: 'order.created', body: '{"id":42}', contentType: 'application/json', headers: { tenant: 'acme' }, timestamp });
    await publisher.publish(target, text);
    await publisher.publish(target, makeEvent({ body: binary }));
    // Asynchronous invocations may run in any order, as on AWS.
    const received = await inbox.take(2, 20_000);
    const first = received.find((m) => m.envelope.id === text.id);
    const second = received.find((m) => m.envelope.id !== text.id);
    expect(first!.envelope).toEqual({
      id: text.id,
      channel: 'orders',
      routingKey: 'order.created',
      body: '{"id":42}',
      bodyEncoding: 'utf8',
      contentType: 'application/json',
      headers: { tenant: 'acme' },
      timestamp: '2024-05-01T12:00:00.000Z',
    } satisfies LambdaEnvelope);
    expect(second!.envelope.bodyEncoding).toBe('base64');
    expect(second!.body.equals(binary)).toBe(true);
  });

  it('sends several events per invocation as an array with batchSize', async () => {
    const { target, inbox } = offline.provision();
    const publisher = await started({ invocationType: 'RequestResponse', batchSize: 5 }, [target.name]);
    const events = Array.from({ length: 12 }, (_, i) => makeEvent({ body: `batched-${i}` }));
    await Promise.all(events.map((event) => publisher.publish(target, event)));
    expect((await inbox.take(12)).map((m) => m.body.toString())).toEqual(events.map((e) => e.body.toString()));
    const invocations = offline.calls.filter((c) => c.functionName === target.name);
    expect(invocations.every((c) => Array.isArray(c.payload))).toBe(true);
    expect(invocations.map((c) => (c.payload as LambdaEnvelope[]).length)).toEqual([5, 5, 2]);
  });

  it('fails with the function error message, permanently by default and retryably with functionErrors: retry', async () => {
    const name = `${functionPrefix}fail`;
    const deadLettering = await started({ invocationType: 'RequestResponse' }, [name]);
    const event = makeEvent();
    const permanent = await deadLettering.publish({ kind: 'function', name }, event).catch((e: unknown) => e);
    expect(permanent).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false });
    expect((permanent as Error).message).toContain(`Error: handler refused event ${event.id}`);
    const retrying = await started({ invocationType: 'RequestResponse', functionErrors: 'retry' }, [name]);
    expect(await retrying.publish({ kind: 'function', name }, makeEvent()).catch((e: unknown) => e)).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: true });
  });

  it('refuses an Event payload over 256 KiB before invoking', async () => {
    const { target, inbox } = offline.provision();
    const publisher = await started({}, [target.name]);
    // 200 KiB of binary is 273 KiB as base64 in the envelope.
    const error = await publisher.publish(target, makeEvent({ body: randomBytes(200 * 1024) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false });
    expect((error as Error).message).toMatch(/Event invocations take at most 262144/);
    await publisher.publish(target, makeEvent({ body: 'small' }));
    expect((await inbox.take(1, 20_000))[0]?.body.toString()).toBe('small');
  });

  it('fails start() with ERR_BRIDGE_TARGET_MISSING for a function that does not exist', async () => {
    const publisher = createLambdaPublisher({ endpoint: offline.endpoint, region, credentials });
    cleanups.push(() => publisher.stop());
    const name = `missing-${randomUUID().slice(0, 8)}`;
    const error = await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'function', name }], signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_TARGET_MISSING', retryable: false });
    expect((error as Error).message).toContain(name);
  });

  it('accepts names, name:alias and ARNs as targets and refuses malformed ones at start', async () => {
    const publisher = createLambdaPublisher({ endpoint: offline.endpoint, region, credentials, checkTargets: false });
    cleanups.push(() => publisher.stop());
    const good = ['process-order', 'process-order:live', 'process-order:$LATEST', 'arn:aws:lambda:eu-west-2:123456789012:function:process-order:7', '123456789012:function:process-order'];
    const error = await publisher
      .start({ logger: createRecordingLogger(), targets: [...good, 'has space', 'a:b:c'].map((name) => ({ kind: 'function', name })), signal: new AbortController().signal })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
    expect((error as Error).message).toContain('"has space", "a:b:c"');
    expect((error as Error).message).not.toContain('process-order');
  });

  it('dead-letters the event a function throws on through the bridge (real NOTIFY) and goes on with the next', async () => {
    const name = `${functionPrefix}failSome`;
    const channel = `lambda_${randomUUID().slice(0, 8)}`;
    const letters: DeadLetter[] = [];
    const bridge: Bridge = createBridge({
      postgres: postgresUrl,
      upstreams: [{ publisher: createLambdaPublisher({ endpoint: offline.endpoint, region, credentials, invocationType: 'RequestResponse' }), rules: `${channel}->function:${name}` }],
      delivery: { retry: { initialDelayMs: 20, maxDelayMs: 100 } },
      deadLetter: async (letter) => {
        letters.push(letter);
      },
    });
    cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
    const lastPublished = new Promise<void>((resolve) => bridge.on('published', ({ event }) => event.routingKey === 'c' && resolve()));
    await bridge.start();
    const sender = new pg.Client(postgresUrl);
    await sender.connect();
    cleanups.push(() => sender.end());
    for (const payload of ['a|one', 'poison|two', 'c|three']) await sender.query('SELECT pg_notify($1, $2)', [channel, payload]);
    const inbox = offline.inboxOf(name);
    expect((await inbox.take(2, 20_000)).map((m) => [m.routingKey, m.body.toString()])).toEqual([
      ['a', 'one'],
      ['c', 'three'],
    ]);
    await lastPublished;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ upstream: 'lambda', attempts: 1, event: { routingKey: 'poison' }, error: { code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false } });
    expect(letters[0]!.error.message).toContain(`poison event ${letters[0]!.event.id}`);
    expect(bridge.stats()).toMatchObject({ published: 2, deadLettered: 1 });
  });
});

describe('lambdaUpstream (daemon kind awslambda)', () => {
  const create = (uri: string, settings: Record<string, string> = {}) => lambdaUpstream.create({ name: 'fn', uri, settings, logger: createRecordingLogger() });

  it('is kind awslambda with alias lambda and documents every setting it reads', () => {
    expect([lambdaUpstream.kind, lambdaUpstream.aliases, lambdaUpstream.targetKinds]).toEqual(['awslambda', ['lambda'], ['function']]);
    expect(lambdaUpstream.settings.map((s) => s.key).sort()).toEqual(
      ['access_key_id', 'batch_size', 'check_targets', 'function_errors', 'invocation_type', 'max_invoke_payload_bytes', 'profile', 'region', 'secret_access_key', 'session_token', 'connect_timeout_ms', 'request_timeout_ms', 'stop_timeout_ms'].sort(),
    );
  });

  it('invokes through an aws://host:port endpoint URI', async () => {
    const { target, inbox } = offline.provision();
    const publisher = create(`aws://${offline.endpoint.slice('http://'.length)}`, { access_key_id: 'test', secret_access_key: 'test', invocation_type: 'RequestResponse' });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: createRecordingLogger(), targets: [target], signal: new AbortController().signal });
    await publisher.publish(target, makeEvent({ body: 'via-uri' }));
    expect((await inbox.take(1))[0]?.body.toString()).toBe('via-uri');
  });

  it('rejects bad settings naming the key', () => {
    expect(() => create('aws://us-east-1', { invocation_type: 'Sync' })).toThrow(/invocation_type/);
    expect(() => create('aws://us-east-1', { batch_size: '1000' })).toThrow(/batchSize/);
    expect(() => create('lambda://x')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG' }));
  });
});

describe('lambda publisher against a blackholed endpoint (testkit fault proxy)', () => {
  it('fails an invocation with a retryable error within requestTimeoutMs × attempts, and stop() within stopTimeoutMs', async () => {
    const { target, inbox } = offline.provision();
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: Number(new URL(offline.endpoint).port) } });
    cleanups.push(() => proxy.close());
    const publisher = createLambdaPublisher({ endpoint: `http://127.0.0.1:${proxy.port}`, region, credentials, invocationType: 'RequestResponse', requestTimeoutMs: 500, stopTimeoutMs: 300, clientConfig: { maxAttempts: 2 } });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: createRecordingLogger(), targets: [target], signal: new AbortController().signal });
    await publisher.publish(target, makeEvent({ body: 'before' }));
    proxy.blackhole(true);
    const began = Date.now();
    const error = await publisher.publish(target, makeEvent({ body: 'lost' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(Date.now() - began).toBeLessThan(2 * 500 + 3_000);
    const hanging = publisher.publish(target, makeEvent({ body: 'hangs' })).catch((e: unknown) => e);
    const stopping = Date.now();
    await publisher.stop();
    expect(Date.now() - stopping).toBeLessThan(300 + 2_000);
    expect(await hanging).toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
    proxy.blackhole(false);
    expect((await inbox.take(1, 20_000)).map((m) => m.body.toString())).toEqual(['before']);
  });
});
