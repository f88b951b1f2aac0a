import { randomBytes } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError, silentLogger, TargetDispatcher, type BridgeErrorCode, type BridgeEvent, type Logger, type Publisher, type Target } from '@pg-event-bridge/core';
import { startFaultProxy } from './fault-proxy.js';
import { makeEvent, type TestEventInit } from './make-event.js';
import type { ReceivedMessage, TestTarget } from './message-inbox.js';
import { createRecordingLogger } from './recording-logger.js';

/** What the suite may ask {@link PublisherTestSpec.create} to configure. */
export interface PublisherOverrides {
  /** Set the publisher's body limit to this (the suite passes {@link PublisherTestSpec.maxPayloadBytes}). */
  readonly maxPayloadBytes?: number;
  /** Connect to this port on 127.0.0.1 instead of the broker's own: the suite's fault proxy. */
  readonly port?: number;
}

/** Describes one upstream to {@link testPublisher}. */
export interface PublisherTestSpec<M extends ReceivedMessage = ReceivedMessage> {
  /** Must equal the publisher's `name` (`amqp`, `mqtt`...). */
  readonly name: string;
  /** A new publisher for the real broker. No I/O until `start()`. */
  create(overrides?: PublisherOverrides): Publisher;
  /** A new publisher pointed at an address where nothing listens (a closed port). */
  createUnreachable(): Publisher;
  /** A password inside `createUnreachable`'s connection string: errors and logs must not show it. */
  readonly secret?: string;
  /** Each must throw a BridgeError ERR_BRIDGE_CONFIG synchronously (e.g. calls the factory with a bad option). */
  readonly badOptions: ReadonlyArray<() => unknown>;
  /**
   * Creates a fresh, uniquely named target of `kind` on the broker, with a consumer already
   * receiving. Called for every kind in the publisher's `targetKinds`; the first kind is used for
   * the generic tests.
   */
  provision(kind: string): Promise<TestTarget<M>>;
  /** The body limit the suite configures through `create({ maxPayloadBytes })`; keep it small (64 KiB). */
  readonly maxPayloadBytes: number;
  /** Must equal the publisher's capability flags; they choose which tests run. */
  readonly capabilities: { readonly headers: boolean; readonly ordered: boolean };
  /** Where the consumer sees `event` arrive: `ReceivedMessage.routingKey`. */
  expectedRoutingKey(target: Target, event: BridgeEvent): string;
  /**
   * The headers `event` must arrive with (a subset of `ReceivedMessage.headers`). Required when
   * `capabilities.headers`; must carry the event id, routing key, source and `event.headers` values.
   */
  expectedHeaders?(target: Target, event: BridgeEvent): Record<string, string>;
  /** How long to wait for a message to arrive. @default 10000 */
  readonly timeoutMs?: number;
  /** How long the unreachable publisher may take to fail. @default 15000 */
  readonly unreachableTimeoutMs?: number;
  /**
   * The broker's port on 127.0.0.1. When set, the suite also cuts the connection twice mid-stream
   * through a fault proxy (connecting with `create({ port })`) and checks that every accepted
   * message arrives, first copies in order.
   */
  readonly brokerPort?: number;
}

const sizeCodes: readonly BridgeErrorCode[] = ['ERR_BRIDGE_ENCODE', 'ERR_BRIDGE_PAYLOAD_TOO_LARGE'];

/**
 * The hostile events the conformance suite publishes, each with the refusals it accepts: what a
 * table named with a newline, an outbox row with odd headers or a channel created as a quoted
 * identifier hands a publisher. Exported so a spec's consumer can subscribe to the topics they
 * make.
 */
export const hostileEventCases: ReadonlyArray<readonly [label: string, init: TestEventInit, refusals: readonly BridgeErrorCode[]]> = [
  ['a routing key with CR/LF and a forged header line', { routingKey: 'evil\r\nX-Forged: 1\r\n\r\nPUB x 1' }, ['ERR_BRIDGE_ENCODE']],
  ['a routing key with NUL, tab and space', { routingKey: 'a\0b\tc d' }, ['ERR_BRIDGE_ENCODE']],
  ['a routing key with wildcards', { routingKey: 'a.*.>.+.#' }, ['ERR_BRIDGE_ENCODE']],
  ['a routing key with empty tokens', { routingKey: '..a..' }, ['ERR_BRIDGE_ENCODE']],
  ['a routing key with non-ASCII text', { routingKey: 'clé.日本.🎉' }, ['ERR_BRIDGE_ENCODE']],
  ['a routing key of 300 bytes', { routingKey: 'k'.repeat(300) }, sizeCodes],
  ['a routing key of 70,000 bytes', { routingKey: 'k'.repeat(70_000) }, sizeCodes],
  ['a header value with CR/LF', { headers: { 'x-hostile': 'v\r\nX-Forged: 1' } }, ['ERR_BRIDGE_ENCODE']],
  ['a header value with NUL and surrounding spaces', { headers: { 'x-hostile': ' a\0b ' } }, ['ERR_BRIDGE_ENCODE']],
  ['a header name with a space and a colon', { headers: { 'x bad:name': 'v' } }, ['ERR_BRIDGE_ENCODE']],
  ['a header name of 300 bytes', { headers: { ['h'.repeat(300)]: 'v' } }, sizeCodes],
  ['a header value of 70,000 bytes', { headers: { 'x-big': 'v'.repeat(70_000) } }, sizeCodes],
  ['a header value of 200,000 bytes', { headers: { 'x-big': 'v'.repeat(200_000) } }, sizeCodes],
  ['41 headers', { headers: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`x-h${i}`, String(i)])) }, sizeCodes],
  ['a content type with CR/LF', { contentType: 'text/plain\r\nX-Forged: 1' }, ['ERR_BRIDGE_ENCODE']],
  ['a source channel with CR/LF', { source: 'chan\r\nnel' }, ['ERR_BRIDGE_ENCODE']],
  ['an event id with CR/LF', { id: 'id\r\n1' }, ['ERR_BRIDGE_ENCODE']],
];

/**
 * Registers the publisher conformance suite (vitest `describe`/`it`) for one upstream. Every
 * upstream package runs it against its real broker, so the delivery engine can rely on the same
 * behaviour from all of them: lifecycle, byte-exact bodies, size limit, routing-key mapping,
 * headers, ordering, cancellation, unreachable broker and option validation.
 *
 * @example
 * ```ts
 * testPublisher({
 *   name: 'amqp',
 *   create: (o) => createAmqpPublisher({ url, maxPayloadBytes: o?.maxPayloadBytes }),
 *   createUnreachable: () => createAmqpPublisher({ url: closedUrl }),
 *   badOptions: [() => createAmqpPublisher({ url: 'http://x' })],
 *   provision: (kind) => provisionRabbitTarget(kind),
 *   maxPayloadBytes: 64 * 1024,
 *   capabilities: { headers: true, ordered: true },
 *   expectedRoutingKey: (target, event) => (target.kind === 'queue' ? target.name : event.routingKey),
 *   expectedHeaders: (_t, e) => ({ 'x-event-id': e.id, 'x-routing-key': e.routingKey, 'x-pg-channel': e.source, ...e.headers }),
 * });
 * ```
 */
export function testPublisher<M extends ReceivedMessage>(spec: PublisherTestSpec<M>): void {
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const reference = spec.create({ maxPayloadBytes: spec.maxPayloadBytes });
  const primaryKind = reference.targetKinds[0] ?? '';

  describe(`${spec.name} publisher conformance`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => errors.push(error));
      if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cleanup step(s) failed`);
    });

    const provision = async (kind = primaryKind) => {
      const target = await spec.provision(kind);
      cleanups.push(() => target.dispose());
      return target;
    };
    const create = (overrides?: PublisherOverrides) => {
      const publisher = spec.create(overrides);
      cleanups.push(() => publisher.stop());
      return publisher;
    };
    const started = async (targets: TestTarget<M>[], overrides?: PublisherOverrides) => {
      const publisher = create(overrides);
      await publisher.start(context(targets.map((t) => t.target)));
      return publisher;
    };
    /** Publishes a sentinel and checks it is the next message: nothing else was sent before it. */
    const expectNothingSentBefore = async (publisher: Publisher, target: TestTarget<M>) => {
      const sentinel = makeEvent({ body: 'sentinel' });
      await publisher.publish(target.target, sentinel);
      const [next] = await target.inbox.take(1, timeoutMs);
      expect(next?.body.toString()).toBe('sentinel');
    };

    if (spec.brokerPort !== undefined) {
      const brokerPort = spec.brokerPort;
      it('delivers every accepted message, first copies in order, when the connection is cut twice mid-stream', async () => {
        const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: brokerPort } });
        cleanups.push(() => proxy.close());
        const target = await provision();
        const publisher = await started([target], { port: proxy.port });
        // The dispatcher is what the bridge uses: it re-sends failed publishes in order after a
        // backoff. The publisher's part: fail in-flight publishes (retryable) on a cut and
        // reconnect on the next publish.
        const retries = new Set<string>();
        const dispatcher = new TargetDispatcher(publisher, target.target, { maxInFlight: 100, maxInFlightBytes: 1 << 24, retry: { initialDelayMs: 20, maxDelayMs: 200 } }, {
          published() {},
          retrying: (info) => void retries.add(`${info.error.code}:${String(info.error.retryable)}`),
          deadLetter: async (letter) => {
            throw new Error(`unexpected dead letter: ${letter.error.message}`);
          },
          capacityChanged() {},
        });
        const events = Array.from({ length: 600 }, (_, i) => makeEvent({ body: `m-${i}` }));
        let resolved = 0;
        const delivered = events.map((event) => dispatcher.enqueue(event).then(() => void (resolved += 1)));
        for (const cutAfter of [200, 400]) {
          // Cut while messages are in flight: some acknowledged, the rest not yet.
          while (resolved < cutAfter - 50) await nextMacrotask();
          proxy.cut();
        }
        await Promise.all(delivered);
        expect(proxy.accepted).toBeGreaterThanOrEqual(3);
        expect([...retries]).toEqual(['ERR_BRIDGE_UPSTREAM_UNAVAILABLE:true']);

        // Every message was accepted, so every one must arrive; duplicates are allowed.
        const firstCopies: string[] = [];
        const seen = new Set<string>();
        while (firstCopies.length < events.length) {
          const [message] = await target.inbox.take(1, timeoutMs);
          const body = message!.body.toString();
          if (!seen.has(body)) {
            seen.add(body);
            firstCopies.push(body);
          }
        }
        expect(firstCopies).toEqual(events.map((event) => event.body.toString()));
      });
    }

    if (spec.brokerPort !== undefined) {
      const brokerPort = spec.brokerPort;
      it('fails start() or the first publish in bounded time when the broker accepts connections but never answers', async () => {
        const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: brokerPort } });
        cleanups.push(() => proxy.close());
        proxy.blackhole(true);
        const target = await provision();
        const publisher = create({ port: proxy.port });
        const attempt = (async () => {
          await publisher.start(context([target.target]));
          await publisher.publish(target.target, makeEvent({ body: 'never answered' }));
        })();
        // Connect timeouts default to 10 s.
        const error = await rejection(attempt, 10_000 + 5_000);
        expectBridgeError(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
      }, 20_000);

      it('bounds stop() when the broker stops answering (blackholed), settling the publish in flight', async () => {
        const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: brokerPort } });
        cleanups.push(() => proxy.close());
        const target = await provision();
        const publisher = await started([target], { port: proxy.port });
        await publisher.publish(target.target, makeEvent({ body: 'before' }));
        proxy.blackhole(true);
        const inFlight = publisher.publish(target.target, makeEvent({ body: 'unanswered' })).then(
          () => 'resolved',
          (error: unknown) => (BridgeError.isInstance(error) ? error.code : String(error)),
        );
        const began = Date.now();
        await publisher.stop();
        // Every publisher's stop timeout defaults to 5 s, plus a second to close.
        expect(Date.now() - began).toBeLessThan(5_000 + 1_000 + 2_000);
        expect(['ERR_BRIDGE_ABORTED', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE']).toContain(await inFlight);
      }, 20_000);
    }

    describe('options', () => {
      it('declares the name, target kinds and capabilities the spec expects', () => {
        expect(reference.name).toBe(spec.name);
        expect(reference.targetKinds.length).toBeGreaterThan(0);
        expect(reference.capabilities).toEqual({ ...spec.capabilities, maxPayloadBytes: spec.maxPayloadBytes });
      });

      it('rejects every bad option synchronously with ERR_BRIDGE_CONFIG', () => {
        expect(spec.badOptions.length).toBeGreaterThan(0);
        spec.badOptions.forEach((bad, index) => {
          let thrown: unknown;
          try {
            bad();
          } catch (error) {
            thrown = error;
          }
          expect(thrown, `badOptions[${index}] did not throw`).toBeDefined();
          expectBridgeError(thrown, 'ERR_BRIDGE_CONFIG', false);
        });
      });
    });

    describe('lifecycle', () => {
      it('rejects publish() before start() with ERR_BRIDGE_STATE', async () => {
        const publisher = create();
        expectBridgeError(await rejection(publisher.publish({ kind: primaryKind, name: 'never' }, makeEvent())), 'ERR_BRIDGE_STATE', false);
      });

      it('resolves stop() before start()', async () => {
        await create().stop();
      });

      it('starts, publishes, and stops idempotently', async () => {
        const target = await provision();
        const publisher = await started([target]);
        await publisher.publish(target.target, makeEvent({ body: 'one' }));
        expect((await target.inbox.take(1, timeoutMs))[0]?.body.toString()).toBe('one');
        await Promise.all([publisher.stop(), publisher.stop()]);
        await publisher.stop();
      });

      it('rejects start() twice and publish() after stop() with ERR_BRIDGE_STATE', async () => {
        const target = await provision();
        const publisher = await started([target]);
        expectBridgeError(await rejection(publisher.start(context([target.target]))), 'ERR_BRIDGE_STATE', false);
        await publisher.stop();
        expectBridgeError(await rejection(publisher.publish(target.target, makeEvent())), 'ERR_BRIDGE_STATE', false);
      });

      it('settles every in-flight publish before stop() resolves, each resolved one delivered', async () => {
        const target = await provision();
        const publisher = await started([target]);
        const events = Array.from({ length: 200 }, (_, i) => makeEvent({ body: `inflight-${i}` }));
        const outcomes = events.map((event) => publisher.publish(target.target, event).then(() => 'resolved', () => 'rejected'));
        let settled = 0;
        for (const outcome of outcomes) void outcome.then(() => (settled += 1));
        await publisher.stop();
        await nextMacrotask();
        expect(settled).toBe(events.length);
        expect(new Set(await Promise.all(outcomes))).toEqual(new Set(['resolved']));
        await expectArrivals(target, events.map((e) => e.body), timeoutMs);
      });
    });

    describe('payloads', () => {
      const bodies: Array<[string, () => Buffer]> = [
        ['an empty body', () => Buffer.alloc(0)],
        ['UTF-8 multi-byte text', () => Buffer.from('héllo wörld — 你好 🎉 | {"a":"b"}\n', 'utf8')],
        ['every byte value 0..255', () => Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256))],
        ['a body of exactly maxPayloadBytes', () => randomBytes(spec.maxPayloadBytes)],
      ];
      for (const [label, makeBody] of bodies) {
        it(`delivers ${label} byte-exact`, async () => {
          const target = await provision();
          const publisher = await started([target], { maxPayloadBytes: spec.maxPayloadBytes });
          const body = makeBody();
          await publisher.publish(target.target, makeEvent({ body }));
          const [message] = await target.inbox.take(1, timeoutMs);
          expect(message?.body.length).toBe(body.length);
          expect(message?.body.equals(body)).toBe(true);
        });
      }

      it('rejects a body one byte over maxPayloadBytes with ERR_BRIDGE_PAYLOAD_TOO_LARGE, without sending it', async () => {
        const target = await provision();
        const publisher = await started([target], { maxPayloadBytes: spec.maxPayloadBytes });
        const error = await rejection(publisher.publish(target.target, makeEvent({ body: randomBytes(spec.maxPayloadBytes + 1) })));
        expectBridgeError(error, 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', false);
        await expectNothingSentBefore(publisher, target);
      });
    });

    describe('routing', () => {
      for (const kind of reference.targetKinds) {
        it(`maps routing keys as the spec says for ${kind} targets`, async () => {
          const target = await provision(kind);
          const publisher = await started([target]);
          const events = ['', 'signup', 'public.customer.insert'].map((routingKey, i) => makeEvent({ routingKey, body: `routing-${i}` }));
          for (const event of events) await publisher.publish(target.target, event);
          const received = await expectArrivals(target, events.map((e) => e.body), timeoutMs);
          events.forEach((event, i) => expect(received[i]?.routingKey).toBe(spec.expectedRoutingKey(target.target, event)));
        });
      }
    });

    if (spec.capabilities.headers) {
      describe('headers', () => {
        it('forwards the event id, routing key, source channel and extra headers', async () => {
          expect(spec.expectedHeaders, 'capabilities.headers needs expectedHeaders').toBeTypeOf('function');
          const target = await provision();
          const publisher = await started([target]);
          const event = makeEvent({ source: 'orders', routingKey: 'order.created', headers: { 'x-tenant': 'acme' } });
          const expected = spec.expectedHeaders!(target.target, event);
          expect(Object.values(expected)).toEqual(expect.arrayContaining([event.id, event.routingKey, event.source, 'acme']));
          await publisher.publish(target.target, event);
          const [message] = await target.inbox.take(1, timeoutMs);
          expect(message?.headers).toMatchObject(expected);
        });
      });
    }

    if (spec.capabilities.ordered) {
      describe('ordering', () => {
        it('delivers 1,000 concurrent publishes in call order', async () => {
          const target = await provision();
          const publisher = await started([target]);
          const events = Array.from({ length: 1000 }, (_, i) => makeEvent({ body: String(i) }));
          await Promise.all(events.map((event) => publisher.publish(target.target, event)));
          const received = await target.inbox.take(events.length, timeoutMs);
          expect(received.map((m) => m.body.toString())).toEqual(events.map((e) => e.body.toString()));
        });
      });
    }

    describe('hostile event fields', () => {
      // What a table named with a newline, an outbox row with odd headers or a channel created
      // with a quoted identifier hands the publisher. Each must arrive faithfully (as the spec's
      // expectedRoutingKey / expectedHeaders say, which may be an encoding the consumer decodes)
      // or be refused before anything is written, non-retryable, so the dispatcher dead-letters it;
      // the next message must still arrive.
      hostileEventCases.forEach(([label, init, codes], index) => {
        it(`delivers or refuses (${codes.join('/')}) ${label}, and the next message arrives`, async () => {
          const target = await provision();
          const publisher = await started([target]);
          const event = makeEvent({ ...init, body: `hostile-${index}` });
          const outcome = await publisher.publish(target.target, event).then(
            () => undefined,
            (error: unknown) => error,
          );
          if (outcome !== undefined) {
            expect(BridgeError.isInstance(outcome), `expected a BridgeError, got ${String(outcome)}`).toBe(true);
            const error = outcome as BridgeError;
            expect({ code: codes.includes(error.code) ? 'allowed' : error.code, retryable: error.retryable, message: error.message }).toEqual({ code: 'allowed', retryable: false, message: expect.any(String) });
            expect(error.message.length).toBeLessThan(2_000);
          }
          const sentinel = makeEvent({ body: `after-hostile-${index}` });
          await publisher.publish(target.target, sentinel);
          const before: M[] = [];
          for (;;) {
            const [message] = await target.inbox.take(1, timeoutMs);
            if (message!.body.equals(sentinel.body)) break;
            before.push(message!);
          }
          if (outcome !== undefined) {
            expect(before.map((m) => m.body.toString())).toEqual([]);
            return;
          }
          expect(before.map((m) => m.body.toString())).toEqual([event.body.toString()]);
          expect(before[0]!.routingKey).toBe(spec.expectedRoutingKey(target.target, event));
          if (spec.capabilities.headers) expect(before[0]!.headers).toMatchObject(spec.expectedHeaders!(target.target, event));
        });
      });
    });

    describe('cancellation', () => {
      it('rejects a publish whose signal is already aborted with ERR_BRIDGE_ABORTED, without sending it', async () => {
        const target = await provision();
        const publisher = await started([target]);
        const error = await rejection(publisher.publish(target.target, makeEvent({ body: 'aborted' }), { signal: AbortSignal.abort() }));
        expectBridgeError(error, 'ERR_BRIDGE_ABORTED', false);
        await expectNothingSentBefore(publisher, target);
      });

      it('shares one AbortSignal across 50 concurrent publishes without piling up listeners', async () => {
        const target = await provision();
        const publisher = await started([target]);
        const warnings: Error[] = [];
        const onWarning = (warning: Error) => warnings.push(warning);
        process.on('warning', onWarning);
        try {
          const { signal } = new AbortController();
          await Promise.all(Array.from({ length: 50 }, () => publisher.publish(target.target, makeEvent(), { signal })));
          await nextMacrotask();
        } finally {
          process.off('warning', onWarning);
        }
        expect(warnings.map((w) => w.message)).toEqual([]);
        await target.inbox.take(50, timeoutMs);
      });
    });

    describe('unreachable broker', () => {
      it('fails start() or publish() with a retryable ERR_BRIDGE_UPSTREAM_UNAVAILABLE in bounded time, secrets hidden', async () => {
        const limit = spec.unreachableTimeoutMs ?? 15_000;
        const publisher = spec.createUnreachable();
        cleanups.push(() => publisher.stop());
        const logger = createRecordingLogger();
        const target: Target = { kind: primaryKind, name: 'pg-event-bridge-unreachable' };
        const attempt = (async () => {
          await publisher.start(context([target], logger));
          await publisher.publish(target, makeEvent());
        })();
        const error = await rejection(attempt, limit);
        expectBridgeError(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
        if (spec.secret !== undefined) {
          expect((error as Error).message).not.toContain(spec.secret);
          expect(logger.text()).not.toContain(spec.secret);
        }
        await publisher.stop();
      });
    });
  });
}

function context(targets: Target[], logger: Logger = silentLogger) {
  return { logger, targets, signal: new AbortController().signal };
}

/** Resolves with what `promise` rejects with; fails the test if it resolves or takes over `timeoutMs`. */
async function rejection(promise: Promise<unknown>, timeoutMs = 10_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([
    promise.then(
      () => 'resolved' as const,
      (error: unknown) => ({ error }),
    ),
    timedOut,
  ]).finally(() => clearTimeout(timer));
  if (outcome === 'timeout') throw new Error(`Expected a rejection within ${timeoutMs} ms; still pending`);
  if (outcome === 'resolved') throw new Error('Expected a rejection; the promise resolved');
  return outcome.error;
}

function expectBridgeError(error: unknown, code: BridgeErrorCode, retryable: boolean): void {
  expect(BridgeError.isInstance(error), `expected a BridgeError ${code}, got ${String(error)}`).toBe(true);
  const bridgeError = error as BridgeError;
  expect({ code: bridgeError.code, retryable: bridgeError.retryable }).toEqual({ code, retryable });
  expect(bridgeError.message.length).toBeGreaterThan(0);
}

/** Takes messages until each expected body was seen; returns them in `bodies` order. Extras are ignored. */
async function expectArrivals<M extends ReceivedMessage>(target: TestTarget<M>, bodies: Buffer[], timeoutMs: number): Promise<M[]> {
  const wanted = new Map(bodies.map((body, index) => [body.toString('base64'), index]));
  const found: M[] = [];
  let missing = bodies.length;
  const deadline = Date.now() + timeoutMs;
  while (missing > 0) {
    const [message] = await target.inbox.take(1, Math.max(1, deadline - Date.now())).catch((error: Error) => {
      throw new Error(`${missing} of ${bodies.length} expected messages never arrived (${error.message})`);
    });
    const index = wanted.get(message!.body.toString('base64'));
    if (index !== undefined && found[index] === undefined) {
      found[index] = message!;
      missing -= 1;
    }
  }
  return found;
}
