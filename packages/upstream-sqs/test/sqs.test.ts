import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSqsPublisher, sqsUpstream } from '../src/index.js';
import { credentials, provisionQueue, region, startEmulator, type Emulator } from './fauxqs-harness.js';

const emulator: Emulator = await startEmulator();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await emulator.stop();
});

async function queue(options: { fifo?: boolean; byUrl?: boolean } = {}) {
  const provisioned = await provisionQueue(emulator, options);
  cleanups.push(() => provisioned.dispose());
  return provisioned;
}

async function started(publisher: Publisher, targets: Array<{ target: { kind: string; name: string } }>) {
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: targets.map((t) => t.target), signal: new AbortController().signal });
  return publisher;
}
const local = (extra: Parameters<typeof createSqsPublisher>[0] = {}) => createSqsPublisher({ endpoint: emulator.endpoint, region, credentials, ...extra });

describe('sqs publisher', () => {
  it('sends to a queue named by URL', async () => {
    const byUrl = await queue({ byUrl: true });
    const publisher = await started(local(), [byUrl]);
    await publisher.publish(byUrl.target, makeEvent({ routingKey: 'signup', body: 'by-url' }));
    const [message] = await byUrl.inbox.take(1);
    expect([message?.routingKey, message?.body.toString()]).toEqual(['signup', 'by-url']);
  });

  it('sets MessageGroupId from the channel and MessageDeduplicationId from the event id on FIFO queues', async () => {
    const fifo = await queue({ fifo: true });
    const publisher = await started(local(), [fifo]);
    const events = [1, 2, 3].map((i) => makeEvent({ source: 'orders', routingKey: `k${i}`, body: `fifo-${i}` }));
    await Promise.all(events.map((event) => publisher.publish(fifo.target, event)));
    const received = await fifo.inbox.take(3);
    expect(received.map((m) => [m.body.toString(), m.groupId, m.deduplicationId])).toEqual(events.map((e) => [e.body.toString(), 'orders', e.id]));
  });

  it('groups by routing key when fifoGroupBy is routingKey', async () => {
    const fifo = await queue({ fifo: true });
    const publisher = await started(local({ fifoGroupBy: 'routingKey' }), [fifo]);
    await publisher.publish(fifo.target, makeEvent({ source: 'orders', routingKey: 'public.order.insert' }));
    expect((await fifo.inbox.take(1))[0]?.groupId).toBe('public.order.insert');
  });

  it('fails start() with ERR_BRIDGE_TARGET_MISSING for a queue that does not exist', async () => {
    const publisher = local();
    cleanups.push(() => publisher.stop());
    const name = `missing-${randomUUID().slice(0, 8)}`;
    const error = await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'queue', name }], signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_TARGET_MISSING', retryable: false });
    expect((error as Error).message).toContain(name);
  });

  it('fails only the refused entry of a SendMessageBatch, permanently, and delivers the others', async () => {
    const fifo = await queue({ fifo: true });
    // A real client whose requests lose the group id of "poison" messages: the emulator refuses
    // that entry alone (SenderFault) and accepts the rest of the same batch.
    const client = new SQSClient({ endpoint: emulator.endpoint, region, credentials });
    cleanups.push(async () => client.destroy());
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries?: Array<{ MessageBody?: string; MessageGroupId?: string }> };
        for (const entry of input.Entries ?? []) if (entry.MessageBody === 'poison') delete entry.MessageGroupId;
        return next(args);
      },
      { step: 'initialize' },
    );
    const publisher = await started(createSqsPublisher({ client }), [fifo]);
    const outcomes = await Promise.allSettled(['first', 'poison', 'last'].map((body) => publisher.publish(fifo.target, makeEvent({ body }))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false });
    expect((await fifo.inbox.take(2)).map((m) => m.body.toString())).toEqual(['first', 'last']);
  });

  it('refuses a message over maxMessageBytes (body plus attributes) before sending it', async () => {
    const standard = await queue();
    const publisher = await started(local(), [standard]);
    const error = await publisher.publish(standard.target, makeEvent({ body: 'x'.repeat(262_144) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false });
    await publisher.publish(standard.target, makeEvent({ body: 'after' }));
    expect((await standard.inbox.take(1))[0]?.body.toString()).toBe('after');
  });

  it('sends up to 1 MiB when maxMessageBytes allows it', async () => {
    const standard = await queue();
    const publisher = await started(local({ maxMessageBytes: 1_048_576 }), [standard]);
    const body = Buffer.alloc(600_000, 'b');
    await publisher.publish(standard.target, makeEvent({ body }));
    expect((await standard.inbox.take(1))[0]?.body.equals(body)).toBe(true);
  });
});

describe('sqsUpstream (daemon kind awssqs)', () => {
  const create = (uri: string, settings: Record<string, string> = {}) => sqsUpstream.create({ name: 'test', uri, settings, logger: createRecordingLogger() });

  it('is kind awssqs with alias sqs and documents every setting it reads', () => {
    expect([sqsUpstream.kind, sqsUpstream.aliases, sqsUpstream.targetKinds]).toEqual(['awssqs', ['sqs'], ['queue']]);
    expect(sqsUpstream.settings.map((s) => s.key).sort()).toEqual(
      ['access_key_id', 'check_targets', 'fifo_group_by', 'max_batch_size', 'max_concurrent_batches', 'max_message_bytes', 'profile', 'region', 'secret_access_key', 'session_token', 'connect_timeout_ms', 'request_timeout_ms', 'stop_timeout_ms'].sort(),
    );
  });

  it('publishes through an aws://host:port endpoint URI', async () => {
    const standard = await queue();
    const publisher = await started(create(`aws://${emulator.endpoint.slice('http://'.length)}`, { access_key_id: 'test', secret_access_key: 'test' }), [standard]);
    await publisher.publish(standard.target, makeEvent({ body: 'via-uri' }));
    expect((await standard.inbox.take(1))[0]?.body.toString()).toBe('via-uri');
  });

  it('rejects bad URIs and settings with ERR_BRIDGE_CONFIG naming them', () => {
    expect(create('aws://eu-west-2').name).toBe('sqs');
    expect(() => create('aws://not a host')).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG' }));
    expect(() => create('aws://us-east-1', { check_targets: 'maybe' })).toThrow(/check_targets/);
    expect(() => create('aws://us-east-1', { fifo_group_by: 'table' })).toThrow(/fifo_group_by/);
  });
});
