import { randomUUID } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { createBridge, type Bridge, type BridgeEvent, type DeadLetter, type Source, type SourceContext } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSnsPublisher, snsUpstream } from '../src/index.js';
import { credentials, provisionTopic, region, startEmulator, type Emulator } from './fauxqs-harness.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const emulator: Emulator = await startEmulator();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await emulator.stop();
});

async function topic(fifo = false) {
  const provisioned = await provisionTopic(emulator, fifo);
  cleanups.push(() => provisioned.dispose());
  return provisioned;
}

async function started(publisher = createSnsPublisher({ endpoint: emulator.endpoint, region, credentials }), targets: Array<{ target: { kind: string; name: string } }> = []) {
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: targets.map((t) => t.target), signal: new AbortController().signal });
  return publisher;
}

describe('sns publisher', () => {
  it('sets MessageGroupId from the channel and MessageDeduplicationId from the event id on FIFO topics', async () => {
    const fifo = await topic(true);
    const publisher = await started(undefined, [fifo]);
    const events = [makeEvent({ source: 'orders', routingKey: 'a', body: 'one' }), makeEvent({ source: 'orders', routingKey: 'b', body: 'two' })];
    await Promise.all(events.map((event) => publisher.publish(fifo.target, event)));
    const received = await fifo.inbox.take(2);
    expect(received.map((m) => [m.body.toString(), m.groupId, m.deduplicationId])).toEqual([
      ['one', 'orders', events[0]!.id],
      ['two', 'orders', events[1]!.id],
    ]);
  });

  it('groups FIFO messages by routing key when fifoGroupBy is routingKey, falling back to the channel', async () => {
    const fifo = await topic(true);
    const publisher = await started(createSnsPublisher({ endpoint: emulator.endpoint, region, credentials, fifoGroupBy: 'routingKey' }), [fifo]);
    await publisher.publish(fifo.target, makeEvent({ source: 'orders', routingKey: 'public.order.insert' }));
    await publisher.publish(fifo.target, makeEvent({ source: 'orders', routingKey: '' }));
    expect((await fifo.inbox.take(2)).map((m) => m.groupId)).toEqual(['public.order.insert', 'orders']);
  });

  it('fails only the refused entry of a PublishBatch, permanently, and delivers the others', async () => {
    const fifo = await topic(true);
    // A real SNS client whose requests lose the group id of "poison" messages, so the emulator
    // refuses that one entry (SenderFault) while accepting the rest of the same batch.
    const client = new SNSClient({ endpoint: emulator.endpoint, region, credentials });
    cleanups.push(async () => client.destroy());
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { PublishBatchRequestEntries?: Array<{ Message?: string; MessageGroupId?: string }> };
        for (const entry of input.PublishBatchRequestEntries ?? []) if (entry.Message === 'poison') delete entry.MessageGroupId;
        return next(args);
      },
      { step: 'initialize' },
    );
    const publisher = await started(createSnsPublisher({ client }), [fifo]);
    const outcomes = await Promise.allSettled(['first', 'poison', 'last'].map((body) => publisher.publish(fifo.target, makeEvent({ body }))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (outcomes[1] as PromiseRejectedResult).reason;
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false });
    expect(error.message).toMatch(/MessageGroupId/);
    expect((await fifo.inbox.take(2)).map((m) => m.body.toString())).toEqual(['first', 'last']);
  });

  it('refuses a message whose body plus attributes exceed 256 KiB before sending it', async () => {
    const standard = await topic();
    const publisher = await started(undefined, [standard]);
    // 262,144 bytes of body is within maxPayloadBytes, but the attributes push it over SNS's limit.
    const error = await publisher.publish(standard.target, makeEvent({ body: 'x'.repeat(262_144) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false });
    expect((error as Error).message).toMatch(/SNS accepts at most 262144/);
    await publisher.publish(standard.target, makeEvent({ body: 'after' }));
    expect((await standard.inbox.take(1))[0]?.body.toString()).toBe('after');
  });

  it('fails start() with ERR_BRIDGE_TARGET_MISSING naming a topic that does not exist', async () => {
    const publisher = createSnsPublisher({ endpoint: emulator.endpoint, region, credentials });
    cleanups.push(() => publisher.stop());
    const arn = `arn:aws:sns:${region}:000000000000:missing-${randomUUID().slice(0, 8)}`;
    const error = await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'topic', name: arn }], signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_TARGET_MISSING', retryable: false });
    expect((error as Error).message).toContain(arn);
  });

  it('dead-letters a NOTIFY-era message over 256 KiB through the bridge and keeps the stream going', async () => {
    const standard = await topic();
    const channel = `sns_${randomUUID().slice(0, 8)}`;
    // NOTIFY payloads stop at 8000 bytes, so the oversized event comes from a source of the test's
    // own (as an outbox row would); the messages around it are real NOTIFYs.
    let sourceContext: SourceContext | undefined;
    const sideSource: Source = {
      name: 'side',
      async start(context) {
        sourceContext = context;
      },
      async stop() {},
    };
    const letters: DeadLetter[] = [];
    const bridge: Bridge = createBridge({
      postgres: postgresUrl,
      upstreams: [{ publisher: createSnsPublisher({ endpoint: emulator.endpoint, region, credentials }), rules: `${channel}->topic:${standard.topicArn}` }],
      sources: [sideSource],
      deadLetter: async (letter) => {
        letters.push(letter);
      },
      delivery: { retry: { initialDelayMs: 10, maxDelayMs: 50 } },
    });
    cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
    await bridge.start();
    const sender = new pg.Client(postgresUrl);
    await sender.connect();
    cleanups.push(() => sender.end());

    await sender.query('SELECT pg_notify($1, $2)', [channel, 'before|first']);
    await standard.inbox.take(1);
    const big: BridgeEvent = makeEvent({ source: channel, routingKey: 'big', body: Buffer.alloc(300 * 1024, 'a') });
    await sourceContext!.deliver(big);
    await sender.query('SELECT pg_notify($1, $2)', [channel, 'after|second']);
    const [after] = await standard.inbox.take(1);
    expect([after?.routingKey, after?.body.toString()]).toEqual(['after', 'second']);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ event: { id: big.id }, upstream: 'sns', error: { code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE' } });
    expect(letters[0]!.error.message).toContain(big.id);
    expect(bridge.stats()).toMatchObject({ deadLettered: 1, published: 2 });
  });
});

describe('snsUpstream (daemon kind awssns)', () => {
  const create = (uri: string, settings: Record<string, string> = {}) => snsUpstream.create({ name: 'test', uri, settings, logger: createRecordingLogger() });

  it('is kind awssns with alias sns and documents every setting it reads', () => {
    expect([snsUpstream.kind, snsUpstream.aliases, snsUpstream.targetKinds]).toEqual(['awssns', ['sns'], ['topic']]);
    expect(snsUpstream.settings.map((s) => s.key).sort()).toEqual(
      ['access_key_id', 'check_targets', 'fifo_group_by', 'max_batch_size', 'max_concurrent_batches', 'profile', 'region', 'secret_access_key', 'session_token', 'connect_timeout_ms', 'request_timeout_ms', 'stop_timeout_ms'].sort(),
    );
  });

  it('publishes through an aws://host:port endpoint URI to the emulator', async () => {
    const standard = await topic();
    const publisher = await started(create(`aws://${emulator.endpoint.slice('http://'.length)}`, { access_key_id: 'test', secret_access_key: 'test' }), [standard]);
    await publisher.publish(standard.target, makeEvent({ routingKey: 'k', body: 'via-uri' }));
    expect((await standard.inbox.take(1))[0]?.body.toString()).toBe('via-uri');
  });

  it('accepts aws://region and rejects other URIs and bad settings with ERR_BRIDGE_CONFIG naming them, secrets hidden', () => {
    expect(create('aws://eu-west-2').name).toBe('sns');
    expect(() => create('amqp://user:hunter2@x//')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG', message: expect.not.stringContaining('hunter2') }));
    expect(() => create('aws://us-east-1', { max_batch_size: 'ten' })).toThrow(/max_batch_size/);
    expect(() => create('aws://us-east-1', { max_batch_size: '20' })).toThrow(/maxBatchSize/);
    expect(() => create('aws://us-east-1', { secret_access_key: 'hunter2' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });
});
