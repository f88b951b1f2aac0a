import { silentLogger, type Publisher, type Target } from '@pg-event-bridge/core';
import { makeEvent } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsPublisher, invalidSubjectReason, natsSubject, natsUpstream } from '../src/index.js';
import { adminConnection, natsUrl, provisionStream, startPrivateNats, uniqueSubject } from './nats-test-helpers.js';
import { jetstreamManager } from '@nats-io/jetstream';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(publisher: Publisher, targets: Target[]): Promise<Publisher> {
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: silentLogger, targets, signal: new AbortController().signal });
  return publisher;
}

describe('natsSubject', () => {
  it('appends the key as a subject token, and uses the name alone for an empty key', () => {
    expect(natsSubject('events', 'signup')).toBe('events.signup');
    expect(natsSubject('events', '')).toBe('events');
    expect(natsSubject('events', 'public.customer.insert')).toBe('events.public.customer.insert');
  });

  it('explains subjects NATS cannot publish to', () => {
    expect(invalidSubjectReason('events.signup')).toBeUndefined();
    expect(invalidSubjectReason('events.*')).toMatch(/wildcard/);
    expect(invalidSubjectReason('events.a b')).toMatch(/whitespace/);
    expect(invalidSubjectReason('events..x')).toMatch(/empty token/);
  });
});

describe('nats JetStream publishing', () => {
  it('publishes key "signup" to <name>.signup and an empty key to <name>', async () => {
    const stream = await provisionStream(uniqueSubject('events'));
    cleanups.push(() => stream.dispose());
    const publisher = await started(createNatsPublisher({ url: natsUrl }), [stream.target]);
    await publisher.publish(stream.target, makeEvent({ routingKey: 'signup', body: 'hello' }));
    await publisher.publish(stream.target, makeEvent({ routingKey: '', body: 'no key' }));
    const stored = await stream.inbox.take(2, 10_000);
    expect(stored.map((m) => [m.routingKey, m.body.toString()])).toEqual([
      [`${stream.target.name}.signup`, 'hello'],
      [stream.target.name, 'no key'],
    ]);
  });

  it('sets Nats-Msg-Id to the event id, so re-sending an event stores it once', async () => {
    const stream = await provisionStream(uniqueSubject('events'));
    cleanups.push(() => stream.dispose());
    const publisher = await started(createNatsPublisher({ url: natsUrl }), [stream.target]);
    const event = makeEvent({ routingKey: 'signup', body: 'once', contentType: 'text/plain' });
    await publisher.publish(stream.target, event);
    await publisher.publish(stream.target, event);
    await publisher.publish(stream.target, makeEvent({ body: 'next' }));
    const stored = await stream.inbox.take(2, 10_000);
    expect(stored.map((m) => m.body.toString())).toEqual(['once', 'next']);
    expect(stored[0]!.headers).toMatchObject({ 'Nats-Msg-Id': event.id, 'content-type': 'text/plain' });
  });

  it('refuses start() with ERR_BRIDGE_TARGET_MISSING when no stream captures the subject', async () => {
    const publisher = createNatsPublisher({ url: natsUrl });
    cleanups.push(() => publisher.stop());
    const name = uniqueSubject('no-stream');
    await expect(publisher.start({ logger: silentLogger, targets: [{ kind: 'subject', name }], signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ERR_BRIDGE_TARGET_MISSING',
      retryable: false,
      message: expect.stringContaining(name),
    });
  });

  it('rejects a publish to a subject no stream captures with a retryable ERR_BRIDGE_TARGET_MISSING, holding the line', async () => {
    const publisher = await started(createNatsPublisher({ url: natsUrl, checkTargets: false }), []);
    const target = { kind: 'subject', name: uniqueSubject('no-stream') };
    await expect(publisher.publish(target, makeEvent({ routingKey: 'signup' }))).rejects.toMatchObject({ code: 'ERR_BRIDGE_TARGET_MISSING', retryable: true });
  });

  it('maps the stream\'s message size limit to ERR_BRIDGE_PAYLOAD_TOO_LARGE', async () => {
    const stream = await provisionStream(uniqueSubject('events'), { max_msg_size: 1024 });
    cleanups.push(() => stream.dispose());
    const publisher = await started(createNatsPublisher({ url: natsUrl }), [stream.target]);
    await expect(publisher.publish(stream.target, makeEvent({ body: Buffer.alloc(4096) }))).rejects.toMatchObject({ code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', retryable: false });
  });
});

describe('nats PubAck handling', () => {
  /** A plain subscriber on `name.>` (no stream), answering each message with `reply` or not at all. */
  async function plainSubscriber(name: string, reply?: string): Promise<{ received: () => number }> {
    const { nc } = await adminConnection();
    cleanups.push(() => nc.close());
    let received = 0;
    nc.subscribe(`${name}.>`, {
      callback: (_error, msg) => {
        received += 1;
        if (reply !== undefined) msg.respond(reply);
      },
    });
    await nc.flush();
    return { received: () => received };
  }

  it('fails a publish nobody acknowledges with a retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE after publishTimeoutMs', async () => {
    const name = uniqueSubject('silent');
    const subscriber = await plainSubscriber(name);
    const publisher = await started(createNatsPublisher({ url: natsUrl, checkTargets: false, publishTimeoutMs: 300 }), []);
    const startedAt = Date.now();
    await expect(publisher.publish({ kind: 'subject', name }, makeEvent({ routingKey: 'signup' }))).rejects.toMatchObject({
      code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining('within 300 ms'),
    });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect(subscriber.received()).toBe(1);
  });

  it('fails a publish answered by something other than a stream with a retryable error naming the answer', async () => {
    const name = uniqueSubject('imposter');
    await plainSubscriber(name, 'not a PubAck');
    const publisher = await started(createNatsPublisher({ url: natsUrl, checkTargets: false }), []);
    await expect(publisher.publish({ kind: 'subject', name }, makeEvent({ routingKey: 'signup' }))).rejects.toMatchObject({
      code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining('not a PubAck'),
    });
  });

  it('dead-letters a message the user may not publish (ERR_BRIDGE_UPSTREAM_REJECTED, at once) and goes on with the next', async () => {
    const server = await startPrivateNats({ denyPublish: 'denied.>' });
    cleanups.push(() => server.stop());
    const admin = await server.connect();
    cleanups.push(() => admin.close());
    await (await jetstreamManager(admin)).streams.add({ name: 'ALLOWED', subjects: ['allowed.>'] });
    const publisher = await started(createNatsPublisher({ url: server.url, checkTargets: false, publishTimeoutMs: 10_000 }), []);
    const startedAt = Date.now();
    await expect(publisher.publish({ kind: 'subject', name: 'denied' }, makeEvent({ routingKey: 'signup' }))).rejects.toMatchObject({
      code: 'ERR_BRIDGE_UPSTREAM_REJECTED',
      retryable: false,
      message: expect.stringMatching(/refused a message on "denied\.signup" \(Permissions Violation for Publish to "denied\.signup"\)/),
    });
    // Well before the 10 s PubAck timeout: the server's refusal was matched to the publish.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await publisher.publish({ kind: 'subject', name: 'allowed' }, makeEvent({ routingKey: 'signup' }));
  });

  it('dead-letters a message over the server\'s max_payload, headers included, and goes on with the next', async () => {
    const server = await startPrivateNats({ maxPayload: 2_048 });
    cleanups.push(() => server.stop());
    const admin = await server.connect();
    cleanups.push(() => admin.close());
    await (await jetstreamManager(admin)).streams.add({ name: 'SIZED', subjects: ['sized.>'] });
    const publisher = await started(createNatsPublisher({ url: server.url, checkTargets: false }), []);
    const target = { kind: 'subject', name: 'sized' };
    // The body alone fits; with the bridge's header lines it does not.
    await expect(publisher.publish(target, makeEvent({ routingKey: 'k', body: Buffer.alloc(2_000) }))).rejects.toMatchObject({
      code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
      retryable: false,
      message: expect.stringContaining("the server's max_payload is 2048"),
    });
    await publisher.publish(target, makeEvent({ routingKey: 'k', body: Buffer.alloc(1_000) }));
  });

  it('matches each PubAck to its own publish when many are in flight, on a connection passed in', async () => {
    const stream = await provisionStream(uniqueSubject('events'));
    cleanups.push(() => stream.dispose());
    const { nc } = await adminConnection();
    cleanups.push(() => nc.close());
    const publisher = await started(createNatsPublisher({ connection: nc }), [stream.target]);
    const big = makeEvent({ routingKey: 'big', body: Buffer.alloc(2048, 1) });
    const results = await Promise.allSettled([
      ...Array.from({ length: 200 }, (_, i) => publisher.publish(stream.target, makeEvent({ routingKey: 'k', body: `m${i}` }))),
      publisher.publish({ kind: 'subject', name: uniqueSubject('no-stream') }, makeEvent({ routingKey: 'x' })),
      publisher.publish(stream.target, big),
    ]);
    expect(results.slice(0, 200).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(results[200]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_BRIDGE_TARGET_MISSING' } });
    expect(results[201]!.status).toBe('fulfilled');
    const stored = await stream.inbox.take(201, 10_000);
    expect(stored.slice(0, 200).map((m) => m.body.toString())).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    await publisher.stop();
    // The connection belongs to the caller: stopping the publisher leaves it open.
    expect(nc.isClosed()).toBe(false);
  });
});

describe('natsUpstream (daemon kind)', () => {
  const config = (settings: Record<string, string>, uri = natsUrl) => ({ name: 'js', uri, settings, logger: silentLogger });

  it('documents every setting it reads', () => {
    expect(natsUpstream.kind).toBe('nats');
    expect(natsUpstream.targetKinds).toEqual(['subject']);
    expect(natsUpstream.settings.map((s) => s.key).sort()).toEqual(['check_targets', 'max_payload_bytes', 'password', 'publish_timeout_ms', 'token', 'username']);
  });

  it('builds a working publisher from settings', async () => {
    const stream = await provisionStream(uniqueSubject('events'));
    cleanups.push(() => stream.dispose());
    const publisher = await started(natsUpstream.create(config({ publish_timeout_ms: '3000' })), [stream.target]);
    await publisher.publish(stream.target, makeEvent({ routingKey: 'signup', body: 'daemon' }));
    const [stored] = await stream.inbox.take(1, 10_000);
    expect(stored?.routingKey).toBe(`${stream.target.name}.signup`);
  });

  it('names every bad setting at once, with the URI redacted', () => {
    let error: unknown;
    try {
      natsUpstream.create(config({ publish_timeout_ms: 'soon', check_targets: 'perhaps' }, 'nats://u:hunter2@h:4222'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
    expect((error as Error).message).toContain('publish_timeout_ms');
    expect((error as Error).message).toContain('check_targets');
    expect((error as Error).message).not.toContain('hunter2');
  });
});
