import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectTcp, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError, silentLogger, type BridgeErrorCode, type Logger, type Publisher, type Target } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent, startFaultProxy, waitFor, type FaultProxy, type TestTarget } from '@pg-event-bridge/testkit';
import { rawPublisher } from '../src/amqplib-internals.js';
import { amqpUpstream, createAmqpPublisher, type AmqpPublisherOptions } from '../src/index.js';
import { encodePublishFrames } from '../src/publish-frames.js';
import { Rabbit, rabbitUrl, uniqueName, type AmqpReceived } from './rabbit.js';

let rabbit: Rabbit;
beforeAll(async () => {
  rabbit = await Rabbit.open();
});
afterAll(() => rabbit.close());

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function provision(kind: 'exchange' | 'queue', options?: Parameters<Rabbit['provision']>[1]): Promise<TestTarget<AmqpReceived>> {
  const target = await rabbit.provision(kind, options);
  cleanups.push(() => target.dispose());
  return target;
}

async function proxy(): Promise<FaultProxy> {
  const started = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
  cleanups.push(() => started.close());
  return started;
}

function publisherFor(options: AmqpPublisherOptions | Publisher): Publisher {
  const publisher = 'publish' in options ? options : createAmqpPublisher(options);
  cleanups.push(() => publisher.stop());
  return publisher;
}

function context(targets: Target[], logger: Logger = silentLogger) {
  return { logger, targets, signal: new AbortController().signal };
}

async function startedPublisher(options: AmqpPublisherOptions | Publisher, targets: Target[], logger?: Logger): Promise<Publisher> {
  const publisher = publisherFor(options);
  await publisher.start(context(targets, logger));
  return publisher;
}

async function failure(promise: Promise<unknown>): Promise<BridgeError> {
  const error = await promise.then(
    () => new Error('expected a rejection, got a resolution'),
    (reason: unknown) => reason,
  );
  if (!BridgeError.isInstance(error)) throw error;
  return error;
}

function expectCode(error: unknown, code: BridgeErrorCode, retryable: boolean): void {
  expect(BridgeError.isInstance(error), String(error)).toBe(true);
  expect({ code: (error as BridgeError).code, retryable: (error as BridgeError).retryable }).toEqual({ code, retryable });
}

/** Publishes `count` events concurrently; reports which resolved and which rejected with what. */
async function publishAll(publisher: Publisher, target: Target, prefix: string, count: number) {
  const events = Array.from({ length: count }, (_, i) => makeEvent({ body: `${prefix}-${i}` }));
  const outcomes = await Promise.allSettled(events.map((event) => publisher.publish(target, event)));
  return {
    resolved: events.filter((_, i) => outcomes[i]!.status === 'fulfilled').map((e) => e.body.toString()),
    errors: outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : [])),
  };
}

async function bodiesArrived(target: TestTarget<AmqpReceived>, count: number): Promise<string[]> {
  return (await target.inbox.take(count)).map((m) => m.body.toString());
}

describe('createAmqpPublisher against RabbitMQ', () => {
  it('rejects unroutable messages with ERR_BRIDGE_UNROUTABLE when mandatory, matching each return to its own publish', async () => {
    const bound = await provision('exchange');
    const unbound: Target = { kind: 'exchange', name: uniqueName('unbound') };
    await rabbit.withChannel((channel) => channel.assertExchange(unbound.name, 'topic', { durable: false, autoDelete: false }));
    cleanups.push(() => rabbit.withChannel((channel) => channel.deleteExchange(unbound.name)));
    const publisher = await startedPublisher({ url: rabbitUrl }, [bound.target, unbound]);

    // The same event to both targets: only the copy to the unbound exchange is unroutable.
    const events = Array.from({ length: 50 }, (_, i) => makeEvent({ body: `event-${i}` }));
    const outcomes = await Promise.allSettled(events.flatMap((event) => [publisher.publish(bound.target, event), publisher.publish(unbound, event)]));
    const toBound = outcomes.filter((_, i) => i % 2 === 0);
    const toUnbound = outcomes.filter((_, i) => i % 2 === 1);
    expect(toBound.every((o) => o.status === 'fulfilled')).toBe(true);
    for (const outcome of toUnbound) {
      expect(outcome.status).toBe('rejected');
      expectCode((outcome as PromiseRejectedResult).reason, 'ERR_BRIDGE_UNROUTABLE', false);
    }
    expect(((toUnbound[0] as PromiseRejectedResult).reason as Error).message).toContain(`bind a queue to exchange "${unbound.name}"`);
    expect(await bodiesArrived(bound, 50)).toEqual(events.map((e) => e.body.toString()));

    const lenient = await startedPublisher({ url: rabbitUrl, mandatory: false }, [unbound]);
    await lenient.publish(unbound, makeEvent());
  });

  it('rejects a message to a deleted queue with ERR_BRIDGE_UNROUTABLE telling to declare it', async () => {
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: rabbitUrl }, [queue.target]);
    await rabbit.withChannel((channel) => channel.deleteQueue(queue.target.name));
    const error = await failure(publisher.publish(queue.target, makeEvent()));
    expectCode(error, 'ERR_BRIDGE_UNROUTABLE', false);
    expect(error.message).toContain(`declare queue "${queue.target.name}"`);
  });

  it('fails start() with ERR_BRIDGE_TARGET_MISSING naming every missing exchange and queue, and disconnects', async () => {
    const faults = await proxy();
    const missingExchange: Target = { kind: 'exchange', name: uniqueName('missing') };
    const missingQueue: Target = { kind: 'queue', name: uniqueName('missing') };
    const publisher = publisherFor({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//` });
    const error = await failure(publisher.start(context([{ kind: 'exchange', name: 'amq.topic' }, missingExchange, missingQueue])));
    expectCode(error, 'ERR_BRIDGE_TARGET_MISSING', false);
    expect(error.message).toContain(`exchange "${missingExchange.name}", queue "${missingQueue.name}" not found`);
    expect(error.message).toContain(`rabbitmqadmin declare exchange name=${missingExchange.name} type=topic`);
    await waitFor(() => faults.connections === 0, { what: 'the failed start to disconnect' });
  });

  it('sends deliveryMode 1 by default and 2 for "persistent", with id, timestamp and content type', async () => {
    const queue = await provision('queue');
    const transient = await startedPublisher({ url: rabbitUrl }, [queue.target]);
    const persistent = await startedPublisher({ url: rabbitUrl, deliveryMode: 'persistent' }, [queue.target]);
    const event = makeEvent({ contentType: 'application/json', body: '{}', timestamp: new Date('2024-05-01T10:00:00.900Z') });
    await transient.publish(queue.target, event);
    await persistent.publish(queue.target, makeEvent());
    const [first, second] = await queue.inbox.take(2);
    expect(first?.properties).toMatchObject({
      deliveryMode: 1,
      messageId: event.id,
      timestamp: Date.parse('2024-05-01T10:00:00Z') / 1000,
      contentType: 'application/json',
      appId: 'pg-event-bridge',
    });
    expect(second?.properties.deliveryMode).toBe(2);
  });

  it('refuses an event with a header name over 255 bytes without sending it, and the next one arrives', async () => {
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: rabbitUrl }, [queue.target]);
    const error = await failure(publisher.publish(queue.target, makeEvent({ headers: { ['h'.repeat(300)]: 'v' } })));
    expectCode(error, 'ERR_BRIDGE_ENCODE', false);
    expect(error.message).toContain('is 300 bytes; AMQP allows 255');
    await publisher.publish(queue.target, makeEvent({ body: 'next', headers: { tenant: 'ünïcode' } }));
    const [message] = await queue.inbox.take(1);
    expect(message?.body.toString()).toBe('next');
    expect(message?.properties.headers).toMatchObject({ tenant: 'ünïcode' });
  });

  it('refuses headers too large for one frame (ERR_BRIDGE_ENCODE) on the same connection, instead of a FRAME_ERROR that closes it and loops', async () => {
    const queue = await provision('queue');
    const logger = createRecordingLogger();
    const publisher = createAmqpPublisher({ url: rabbitUrl });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger, targets: [queue.target], signal: new AbortController().signal });
    const error = await failure(publisher.publish(queue.target, makeEvent({ headers: { 'x-big': 'v'.repeat(200_000) } })));
    expectCode(error, 'ERR_BRIDGE_ENCODE', false);
    expect(error.message).toMatch(/frame_max 131072/);
    await publisher.publish(queue.target, makeEvent({ body: 'next' }));
    const [message] = await queue.inbox.take(1);
    expect(message?.body.toString()).toBe('next');
    expect(logger.text()).not.toMatch(/connection closed|FRAME/i);
  });

  it('gives up a channel whose broker stops confirming after confirmTimeoutMs (retryable), and the next publish goes through on a new connection', async () => {
    const queue = await provision('queue');
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
    cleanups.push(() => proxy.close());
    const publisher = createAmqpPublisher({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}//`, confirmTimeoutMs: 300 });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [queue.target], signal: new AbortController().signal });
    await publisher.publish(queue.target, makeEvent({ body: 'before' }));
    proxy.blackhole(true);
    const began = Date.now();
    const error = await failure(publisher.publish(queue.target, makeEvent({ body: 'unconfirmed' })));
    expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    expect(error.message).toContain('confirmTimeoutMs');
    expect(Date.now() - began).toBeLessThan(300 + 1_500);
    proxy.blackhole(false);
    await publisher.publish(queue.target, makeEvent({ body: 'after' }));
    // The proxy lets through what it held once the blackhole ends: the failed message may arrive
    // too (at-least-once; the engine resends it), but nothing is lost.
    const bodies: string[] = [];
    while (!bodies.includes('after')) bodies.push((await queue.inbox.take(1))[0]!.body.toString());
    expect(bodies.filter((b) => b !== 'unconfirmed')).toEqual(['before', 'after']);
  });

  it('connects to vhost "/" written as amqp://guest:guest@127.0.0.1:5672// and as %2F', async () => {
    const queue = await provision('queue');
    for (const url of ['amqp://guest:guest@127.0.0.1:5672//', 'amqp://guest:guest@127.0.0.1:5672/%2F']) {
      const publisher = await startedPublisher({ url }, [queue.target]);
      await publisher.publish(queue.target, makeEvent({ body: url }));
      expect(await bodiesArrived(queue, 1)).toEqual([url]);
    }
    const wrongVhost = publisherFor({ url: 'amqp://guest:guest@127.0.0.1:5672/no-such-vhost' });
    expectCode(await failure(wrongVhost.start(context([queue.target]))), 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
  });

  it('rejects in-flight publishes retryably when the connection is cut, then reconnects once and loses nothing that resolved', async () => {
    const faults = await proxy();
    const queue = await provision('queue');
    const logger = createRecordingLogger();
    const publisher = await startedPublisher({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//` }, [queue.target], logger);

    const before = await publishAll(publisher, queue.target, 'before', 100);
    // Silence the link so the next batch is certainly unconfirmed when the connection is cut; it
    // is big enough to fill the socket and write buffers (amqplib's channel buffer holds 2 × 1,024
    // messages), so part of it is not even written yet.
    faults.blackhole(true);
    const inFlight = Array.from({ length: 4000 }, (_, i) => publisher.publish(queue.target, makeEvent({ body: `cut-${i}:${'x'.repeat(3000)}` })));
    await waitFor(() => logger.records.some((r) => r.message.includes('waiting for drain')), { what: 'the write buffer to fill' });
    faults.cut();
    faults.blackhole(false);
    const cut = await Promise.allSettled(inFlight);
    for (const outcome of cut) {
      expect(outcome.status).toBe('rejected');
      expectCode((outcome as PromiseRejectedResult).reason, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    }

    const after = await publishAll(publisher, queue.target, 'after', 100);
    expect(after.errors).toEqual([]);
    expect(faults.connections).toBe(1);
    expect(faults.accepted).toBe(2);
    const resolved = [...before.resolved, ...after.resolved];
    expect(resolved).toHaveLength(200);
    expect(await bodiesArrived(queue, 200)).toEqual(resolved);
  });

  it('fails publishes fast while the broker refuses connections, and recovers when it accepts again', async () => {
    const faults = await proxy();
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//` }, [queue.target]);
    faults.refuse(true);
    faults.cut();
    const refused = await publishAll(publisher, queue.target, 'refused', 10);
    expect(refused.resolved).toEqual([]);
    for (const error of refused.errors) expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    faults.refuse(false);
    await publisher.publish(queue.target, makeEvent({ body: 'back' }));
    expect(await bodiesArrived(queue, 1)).toEqual(['back']);
  });

  it('detects a silent broker by heartbeats, failing in-flight publishes, then reconnects', async () => {
    const faults = await proxy();
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//`, heartbeatSeconds: 1 }, [queue.target]);
    faults.blackhole(true);
    const error = await failure(publisher.publish(queue.target, makeEvent()));
    expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    expect(error.message).toContain('Heartbeat timeout');
    faults.blackhole(false);
    faults.cut();
    await publisher.publish(queue.target, makeEvent({ body: 'alive' }));
    expect((await queue.inbox.take(1)).map((m) => m.body.toString())).toContain('alive');
  });

  it('gives up connecting to a silent broker after connectTimeoutMs', async () => {
    const faults = await proxy();
    faults.blackhole(true);
    const publisher = publisherFor({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//`, connectTimeoutMs: 300 });
    const error = await failure(publisher.start(context([{ kind: 'exchange', name: 'amq.topic' }])));
    expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    expect(error.message).toContain('ETIMEDOUT');
  });

  it('bounds stop() by stopTimeoutMs when the broker never confirms, aborting what is left', async () => {
    const faults = await proxy();
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: `amqp://guest:guest@127.0.0.1:${faults.port}//`, stopTimeoutMs: 200 }, [queue.target]);
    faults.blackhole(true);
    const unconfirmed = failure(publisher.publish(queue.target, makeEvent()));
    // Neither the confirm nor the broker's close-ok ever comes: stop() must not wait for them.
    await publisher.stop();
    expectCode(await unconfirmed, 'ERR_BRIDGE_ABORTED', false);
  });

  it('reopens the channel after the broker closed it for a deleted exchange', async () => {
    const exchange = await provision('exchange');
    const queue = await provision('queue');
    const publisher = await startedPublisher({ url: rabbitUrl }, [exchange.target, queue.target]);
    await rabbit.withChannel((channel) => channel.deleteExchange(exchange.target.name));

    const [missing, bystander] = await Promise.allSettled([
      publisher.publish(exchange.target, makeEvent()),
      publisher.publish(queue.target, makeEvent({ body: 'bystander' })),
    ]);
    expectCode((missing as PromiseRejectedResult).reason, 'ERR_BRIDGE_TARGET_MISSING', true);
    expect(((missing as PromiseRejectedResult).reason as Error).message).toContain(`declare it (rabbitmqadmin declare exchange name=${exchange.target.name}`);
    expectCode((bystander as PromiseRejectedResult).reason, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);

    await publisher.publish(queue.target, makeEvent({ body: 'after' }));
    expect(await bodiesArrived(queue, 1)).toEqual(['after']);
  });

  it('rejects with a retryable ERR_BRIDGE_UPSTREAM_REJECTED when the broker nacks', async () => {
    // A queue without consumers that holds one message and nacks the rest.
    const full: Target = { kind: 'queue', name: uniqueName('full') };
    await rabbit.withChannel((channel) => channel.assertQueue(full.name, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } }));
    cleanups.push(() => rabbit.withChannel((channel) => channel.deleteQueue(full.name)));
    const publisher = await startedPublisher({ url: rabbitUrl }, [full]);
    await publisher.publish(full, makeEvent());
    const error = await failure(publisher.publish(full, makeEvent()));
    expectCode(error, 'ERR_BRIDGE_UPSTREAM_REJECTED', true);
    expect(error.message).toContain(`refused (basic.nack)`);
  });

  it('waits for drain when the write buffer is full, keeping call order', async () => {
    const queue = await provision('queue');
    const logger = createRecordingLogger();
    const publisher = await startedPublisher({ url: rabbitUrl }, [queue.target], logger);
    const events = Array.from({ length: 3000 }, (_, i) => makeEvent({ body: `${i}:${'x'.repeat(3000)}` }));
    await Promise.all(events.map((event) => publisher.publish(queue.target, event)));
    expect(logger.records.some((r) => r.message.includes('waiting for drain'))).toBe(true);
    const received = await queue.inbox.take(events.length);
    expect(received.map((m) => m.body.toString().split(':')[0])).toEqual(events.map((_, i) => String(i)));
  });

  it('never shows the password in errors or logs when the login is refused', async () => {
    const logger = createRecordingLogger();
    const publisher = publisherFor({ url: 'amqp://guest:not-the-s3cret@127.0.0.1:5672//' });
    const error = await failure(publisher.start(context([{ kind: 'exchange', name: 'amq.topic' }], logger)));
    expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
    expect(error.message).toContain('amqp://guest:***@127.0.0.1:5672//');
    expect(error.message).toContain('ACCESS_REFUSED');
    expect(`${error.message} ${logger.text()}`).not.toContain('not-the-s3cret');
  });

  it("publishes on the application's connection without closing it", async () => {
    const queue = await provision('queue');
    const connection = await connect(rabbitUrl);
    connection.on('error', () => {});
    cleanups.push(() => connection.close());
    const publisher = await startedPublisher({ connection }, [queue.target]);
    await publisher.publish(queue.target, makeEvent({ body: 'shared' }));
    await publisher.stop();
    expect(await bodiesArrived(queue, 1)).toEqual(['shared']);
    const channel = await connection.createChannel();
    await channel.close();
  });

  describe('over TLS (amqps://)', () => {
    let dir: string;
    let cert: Buffer;
    let terminator: Server;
    let port: number;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pgeb-amqps-'));
      const [key, crt] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      await promisify(execFile)('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-keyout', key, '-out', crt, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ]);
      cert = await readFile(crt);
      // Terminates TLS and forwards the plain AMQP stream to the shared RabbitMQ.
      terminator = createTlsServer({ key: await readFile(key), cert }, (socket) => {
        const upstream = connectTcp(5672, '127.0.0.1');
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
      });
      terminator.on('tlsClientError', () => {});
      await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
      port = (terminator.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => terminator.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });

    it('publishes through a TLS connection verified against the given CA', async () => {
      const queue = await provision('queue');
      const publisher = await startedPublisher({ url: `amqps://guest:guest@127.0.0.1:${port}//`, tls: { ca: cert, servername: 'localhost' } }, [queue.target]);
      await publisher.publish(queue.target, makeEvent({ body: 'encrypted' }));
      expect(await bodiesArrived(queue, 1)).toEqual(['encrypted']);
    });

    it('refuses a certificate it cannot verify', async () => {
      const publisher = publisherFor({ url: `amqps://guest:guest@127.0.0.1:${port}//`, tls: { servername: 'localhost' } });
      const error = await failure(publisher.start(context([{ kind: 'exchange', name: 'amq.topic' }])));
      expectCode(error, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
      expect(error.message).toMatch(/self[- ]signed certificate/);
    });
  });
});

describe('amqpUpstream against RabbitMQ', () => {
  it('uses the username and password settings over those in the uri', async () => {
    const queue = await provision('queue');
    const create = (password: string) =>
      amqpUpstream.create({ name: 'local', uri: 'amqp://nobody:nothing@127.0.0.1:5672//', settings: { username: 'guest', password }, logger: silentLogger });
    const publisher = await startedPublisher(create('guest'), [queue.target]);
    await publisher.publish(queue.target, makeEvent({ body: 'from settings' }));
    expect(await bodiesArrived(queue, 1)).toEqual(['from settings']);
    const wrong = publisherFor(create('wrong'));
    expectCode(await failure(wrong.start(context([queue.target]))), 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
  });
});

describe('rawPublisher: amqplib below its public API', () => {
  it('publishes encoded frames on a real confirm channel, confirmed as channel.publish is, and throws once the channel closed', async () => {
    const queue = await provision('queue');
    const connection = await connect(rabbitUrl);
    cleanups.push(() => connection.close());
    const channel = await connection.createConfirmChannel();
    const raw = rawPublisher(channel);
    expect(raw).toBeDefined();
    const frames = encodePublishFrames(raw!.channel, raw!.frameMax, {
      exchange: '',
      routingKey: queue.target.name,
      mandatory: true,
      headers: { 'x-event-id': 'raw-1' },
      messageId: 'raw-1',
      timestamp: 1_795_000_000,
      appId: 'pg-event-bridge',
      body: Buffer.from('raw frames'),
    });
    const acknowledged = await new Promise<unknown>((resolve) => raw!.publish(frames, resolve));
    expect(acknowledged).toBeNull(); // amqplib's callback argument for basic.ack
    const [message] = await queue.inbox.take(1);
    expect(message?.body.toString()).toBe('raw frames');
    expect(message?.properties).toMatchObject({ messageId: 'raw-1', timestamp: 1_795_000_000, headers: { 'x-event-id': 'raw-1' } });

    await channel.close();
    expect(() => raw!.publish(frames, () => undefined)).toThrow(/closed/i);
  });

  it('is undefined for a channel without amqplib 0.10 internals, so the publisher falls back to channel.publish', () => {
    expect(rawPublisher({} as never)).toBeUndefined();
    expect(rawPublisher({ ch: 1, pushConfirmCallback: () => undefined, connection: { frameMax: 4096 } } as never)).toBeUndefined();
  });
});
