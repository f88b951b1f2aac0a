import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createBridge, type Bridge, type DeadLetter, type Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookPublisher, retryAfterMsOf, webhookUpstream, type WebhookPublisherOptions } from '../src/index.js';
import { startReceiver, type Answer } from './receiver.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const receiver = await startReceiver();
let sender: pg.Client;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  sender = new pg.Client(postgresUrl);
  await sender.connect();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await sender?.end();
  await receiver.stop();
});

async function started(options: WebhookPublisherOptions = {}, urls: string[] = []): Promise<Publisher> {
  const publisher = createWebhookPublisher(options);
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: createRecordingLogger(), targets: urls.map((name) => ({ kind: 'url', name })), signal: new AbortController().signal });
  return publisher;
}

/** A bridge from a fresh NOTIFY channel to `url`, with fast retries and recorded dead letters. */
async function bridgeTo(url: string, options: WebhookPublisherOptions = {}) {
  const channel = `hook_${randomUUID().slice(0, 8)}`;
  const letters: DeadLetter[] = [];
  const bridge: Bridge = createBridge({
    postgres: postgresUrl,
    upstreams: [{ publisher: createWebhookPublisher(options), rules: `${channel}->url:${url}` }],
    delivery: { retry: { initialDelayMs: 20, maxDelayMs: 100 } },
    deadLetter: async (letter) => {
      letters.push(letter);
    },
  });
  cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
  await bridge.start();
  const notify = async (payloads: string[]) => {
    for (const payload of payloads) await sender.query('SELECT pg_notify($1, $2)', [channel, payload]);
  };
  return { bridge, channel, letters, notify };
}

describe('webhook through the bridge (real NOTIFY)', () => {
  const outages: Array<[string, (attempt: number) => Answer, WebhookPublisherOptions?]> = [
    ['fails the first 3 attempts with 503', (attempt) => (attempt <= 3 ? { status: 503 } : { status: 200 })],
    ['hangs on the first 2 attempts (timeout)', (attempt) => (attempt <= 2 ? 'hang' : { status: 204 }), { timeoutMs: 300 }],
    ['answers 500 to the first 5 attempts', (attempt) => (attempt <= 5 ? { status: 500, body: 'database is down' } : { status: 202 })],
  ];
  for (const [label, answer, options] of outages) {
    it(`delivers every message exactly once, in order, when the receiver ${label} and then recovers`, async () => {
      const route = receiver.route(({ attempt }) => answer(attempt));
      cleanups.push(async () => route.dispose());
      const { notify, bridge, letters } = await bridgeTo(route.url, options);
      const payloads = Array.from({ length: 20 }, (_, i) => `k${i % 3}|message-${i}`);
      const allPublished = new Promise<void>((resolve) => bridge.on('published', () => bridge.stats().published === payloads.length && resolve()));
      await notify(payloads);
      const accepted = await route.accepted.take(payloads.length);
      await allPublished;
      expect(accepted.map((r) => `${r.routingKey}|${r.body.toString()}`)).toEqual(payloads);
      expect(letters).toEqual([]);
      expect(bridge.stats()).toMatchObject({ published: 20, deadLettered: 0 });
      // The failed attempts were all for the first message: nothing overtook it.
      const firstBody = route.all[0]!.body.toString();
      expect(route.all.filter((r) => r.answer === 'hang' || (r.answer as { status: number }).status >= 300).every((r) => r.body.toString() === firstBody)).toBe(true);
      expect(bridge.stats().retried).toBeGreaterThan(0);
    });
  }

  const retryAfterCases: Array<[string, string, WebhookPublisherOptions, number]> = [
    ['honours Retry-After: 1 on a 429', '1', {}, 1000],
    ['waits no longer than maxRetryAfterMs for a Retry-After of an hour', '3600', { maxRetryAfterMs: 300 }, 300],
  ];
  for (const [label, retryAfter, options, expectedDelayMs] of retryAfterCases) {
    it(`${label}: the bridge waits it out before the retry, then delivers in order`, async () => {
      const route = receiver.route(({ attempt }) => (attempt === 1 ? { status: 429, headers: { 'retry-after': retryAfter } } : { status: 200 }));
      cleanups.push(async () => route.dispose());
      // The bridge's own backoff is 20 to 100 ms here: any longer wait comes from Retry-After.
      const { notify, bridge, letters } = await bridgeTo(route.url, options);
      const delays: number[] = [];
      bridge.on('retrying', ({ delayMs }) => delays.push(delayMs));
      const allPublished = new Promise<void>((resolve) => bridge.on('published', () => bridge.stats().published === 2 && resolve()));
      await notify(['a|first', 'b|second']);
      const accepted = await route.accepted.take(2);
      await allPublished;
      expect(accepted.map((r) => r.body.toString())).toEqual(['first', 'second']);
      expect(delays).toEqual([expectedDelayMs]);
      const [refused, retried] = route.all;
      expect([refused!.body.toString(), retried!.body.toString()]).toEqual(['first', 'first']);
      expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(expectedDelayMs - 50);
      expect(letters).toEqual([]);
    });
  }

  it('dead-letters a message the receiver refuses with 400 and goes on with the next ones', async () => {
    const route = receiver.route(({ body }) => (body.toString() === 'bad' ? { status: 400, body: '{"error":"unknown field"}' } : { status: 200 }));
    cleanups.push(async () => route.dispose());
    const { notify, letters, bridge } = await bridgeTo(route.url);
    const lastPublished = new Promise<void>((resolve) => bridge.on('published', ({ event }) => event.routingKey === 'c' && resolve()));
    await notify(['a|first', 'b|bad', 'c|last']);
    const accepted = await route.accepted.take(2);
    await lastPublished;
    expect(accepted.map((r) => r.body.toString())).toEqual(['first', 'last']);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ upstream: 'webhook', attempts: 1, event: { routingKey: 'b' }, error: { code: 'ERR_BRIDGE_UPSTREAM_REJECTED', retryable: false } });
    expect(letters[0]!.error.message).toMatch(/answered 400: \{"error":"unknown field"\}/);
    expect(route.all.filter((r) => r.body.toString() === 'bad')).toHaveLength(1);
    expect(bridge.stats().deadLettered).toBe(1);
  });
});

describe('webhook publisher', () => {
  it('POSTs the body byte-exact with the X-Event-* headers and a content type', async () => {
    const route = receiver.route();
    cleanups.push(async () => route.dispose());
    const publisher = await started({}, [route.url]);
    const binary = randomBytes(64);
    const at = new Date('2024-05-01T12:00:00.000Z');
    await publisher.publish({ kind: 'url', name: route.url }, makeEvent({ id: 'evt-1', source: 'orders', routingKey: 'order.created', body: '{"id":1}', contentType: 'application/json', timestamp: at }));
    await publisher.publish({ kind: 'url', name: route.url }, makeEvent({ body: binary }));
    await publisher.publish({ kind: 'url', name: route.url }, makeEvent({ body: 'plain text', routingKey: 'clé' }));
    const [json, bin, text] = await route.accepted.take(3);
    expect(json).toMatchObject({ method: 'POST', body: Buffer.from('{"id":1}') });
    expect(json!.headers).toMatchObject({ 'content-type': 'application/json', 'x-event-id': 'evt-1', 'x-event-channel': 'orders', 'x-event-routing-key': 'order.created', 'x-event-timestamp': '2024-05-01T12:00:00.000Z' });
    expect(json!.headers['webhook-signature']).toBeUndefined();
    expect(bin!.body.equals(binary)).toBe(true);
    expect(bin!.headers['content-type']).toBe('application/octet-stream');
    expect(text!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(decodeURIComponent(text!.headers['x-event-routing-key']!)).toBe('clé');
  });

  it('signs requests per Standard Webhooks when a whsec_ secret is set', async () => {
    const key = randomBytes(24);
    const route = receiver.route();
    cleanups.push(async () => route.dispose());
    const publisher = await started({ secret: `whsec_${key.toString('base64')}`, headers: { Authorization: 'Bearer t0ken' } }, [route.url]);
    const body = Buffer.from('{"signed":true}');
    await publisher.publish({ kind: 'url', name: route.url }, makeEvent({ id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', body }));
    const [request] = await route.accepted.take(1);
    const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature, authorization } = request!.headers;
    expect(id).toBe('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body.toString()}`).digest('base64');
    expect(signature).toBe(`v1,${expected}`);
    expect(authorization).toBe('Bearer t0ken');
  });

  it('maps statuses: 408, 429 and 5xx retryable; 413 too large; other 4xx and 3xx permanent', async () => {
    const statuses = [408, 429, 500, 502, 503, 400, 401, 404, 410, 422, 413, 302];
    const route = receiver.route(({ headers }) => ({ status: Number(headers['x-event-routing-key']), headers: { location: 'http://127.0.0.1/elsewhere' } }));
    cleanups.push(async () => route.dispose());
    const publisher = await started({ honorRetryAfter: false }, [route.url]);
    const outcomes: Record<number, string> = {};
    for (const status of statuses) {
      const error = await publisher.publish({ kind: 'url', name: route.url }, makeEvent({ routingKey: String(status) })).catch((e: { code: string; retryable: boolean }) => e);
      outcomes[status] = `${(error as { code: string }).code}/${(error as { retryable: boolean }).retryable}`;
    }
    expect(outcomes).toEqual({
      408: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE/true',
      429: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE/true',
      500: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE/true',
      502: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE/true',
      503: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE/true',
      400: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
      401: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
      404: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
      410: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
      422: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
      413: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE/false',
      302: 'ERR_BRIDGE_UPSTREAM_REJECTED/false',
    });
  });

  it('reports a 429 at once, carrying Retry-After as retryAfterMs for the bridge to wait out', async () => {
    const route = receiver.route(({ attempt }) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    cleanups.push(async () => route.dispose());
    const publisher = await started({}, [route.url]);
    const target = { kind: 'url', name: route.url };
    const error = await publisher.publish(target, makeEvent()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true, status: 429, retryAfterMs: 1000 });
    expect(retryAfterMsOf(error)).toBe(1000);
    await publisher.publish(target, makeEvent());
  });

  it('caps Retry-After at maxRetryAfterMs without waiting it out, and drops it when honorRetryAfter is false', async () => {
    // An hour: were the publisher still sleeping it out, these calls would hit the test timeout.
    const route = receiver.route(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
    cleanups.push(async () => route.dispose());
    const target = { kind: 'url', name: route.url };
    const delays: Array<number | undefined> = [];
    for (const options of [{}, { maxRetryAfterMs: 500 }, { honorRetryAfter: false }] satisfies WebhookPublisherOptions[]) {
      const publisher = await started(options, [route.url]);
      const error = await publisher.publish(target, makeEvent()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true, status: 503 });
      delays.push(retryAfterMsOf(error));
    }
    expect(delays).toEqual([60_000, 500, undefined]);
  });

  it('times out a hanging receiver with a retryable error', async () => {
    const route = receiver.route(() => 'hang');
    cleanups.push(async () => route.dispose());
    const publisher = await started({ timeoutMs: 200 }, [route.url]);
    const error = await publisher.publish({ kind: 'url', name: route.url }, makeEvent()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true });
    expect((error as Error).message).toMatch(/timed out after 200 ms/);
  });

  it('keeps at most maxConcurrency requests in flight over all URLs', async () => {
    let active = 0;
    let peak = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const route = receiver.route(() => ({ status: 200 }));
    cleanups.push(async () => route.dispose());
    const publisher = createWebhookPublisher({
      maxConcurrency: 2,
      // Counts the requests really handed to fetch and holds them until the gate opens.
      fetch: async (input, init) => {
        active += 1;
        peak = Math.max(peak, active);
        await gate;
        try {
          return await fetch(input, init);
        } finally {
          active -= 1;
        }
      },
    });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: createRecordingLogger(), targets: [], signal: new AbortController().signal });
    const calls = Array.from({ length: 6 }, (_, i) => publisher.publish({ kind: 'url', name: `${route.url}?n=${i}` }, makeEvent()));
    for (let tick = 0; tick < 20; tick++) await new Promise((resolve) => setImmediate(resolve));
    expect(active).toBe(2);
    open();
    await Promise.all(calls);
    expect(peak).toBe(2);
    expect(route.all).toHaveLength(6);
  });

  it('refuses relative or non-http targets at start with ERR_BRIDGE_CONFIG', async () => {
    const publisher = createWebhookPublisher();
    const error = await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'url', name: 'orders' }], signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
    expect((error as Error).message).toContain('"orders"');
  });

  it('never shows a secret in option errors', () => {
    expect(() => createWebhookPublisher({ secret: 'whsec_s3cret!!', timeoutMs: -5 })).toThrow(
      expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG', message: expect.stringMatching(/secret: .*timeoutMs/) }),
    );
    expect(() => createWebhookPublisher({ secret: 'whsec_s3cret!!' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }));
  });
});

describe('webhookUpstream (daemon kind webhook)', () => {
  const create = (uri: string, settings: Record<string, string> = {}) => webhookUpstream.create({ name: 'hooks', uri, settings, logger: createRecordingLogger() });

  it('documents every setting it reads', () => {
    expect([webhookUpstream.kind, webhookUpstream.targetKinds]).toEqual(['webhook', ['url']]);
    expect(webhookUpstream.settings.map((s) => s.key).sort()).toEqual(
      ['content_type', 'headers', 'honor_retry_after', 'max_concurrency', 'max_payload_bytes', 'max_retry_after_ms', 'secret', 'timeout_ms', 'user_agent'].sort(),
    );
  });

  it('resolves relative targets against the uri and sends the settings headers', async () => {
    const route = receiver.route();
    cleanups.push(async () => route.dispose());
    const publisher = create(`${receiver.base}/`, { headers: '{"X-Api-Key": "k1"}', timeout_ms: '5000' });
    cleanups.push(() => publisher.stop());
    const relative = route.path.slice(1);
    await publisher.start({ logger: createRecordingLogger(), targets: [{ kind: 'url', name: relative }], signal: new AbortController().signal });
    await publisher.publish({ kind: 'url', name: relative }, makeEvent({ body: 'relative' }));
    const [request] = await route.accepted.take(1);
    expect(request!.headers['x-api-key']).toBe('k1');
  });

  it('rejects bad settings naming the key, without echoing secrets', () => {
    expect(() => create('', { timeout_ms: 'soon' })).toThrow(/timeout_ms/);
    expect(() => create('', { headers: '{"Authorization": "Bearer s3cret"' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }));
    expect(() => create('', { secret: 'whsec_%%s3cret' })).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG', message: expect.not.stringContaining('s3cret') }));
  });
});
