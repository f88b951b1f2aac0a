import { connect, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import {
  BridgeError,
  silentLogger,
  type BridgeEvent,
  type Logger,
  type Publisher,
  type PublisherCapabilities,
  type PublisherContext,
  type PublishOptions,
  type Target,
} from '@pg-event-bridge/core';
import { resolveAmqpOptions, type AmqpPublisherOptions, type ResolvedAmqpOptions } from './amqp-options.js';
import { coalesceWrites, frameMaxOf, rawPublisher, socketOf } from './amqplib-internals.js';
import { encodePublishFrames } from './publish-frames.js';

const targetKinds: readonly string[] = Object.freeze(['exchange', 'queue']);
// AMQP encodes the routing key as a short string.
const maxRoutingKeyBytes = 255;
const noop = () => {};
const appId = 'pg-event-bridge';

/**
 * Creates a RabbitMQ (AMQP 0.9.1) publisher. Targets are `exchange:NAME` (routing key = the
 * event's routing key) and `queue:NAME` (sent through the default exchange). `publish()` resolves
 * on the broker's publisher confirm; unroutable messages fail with ERR_BRIDGE_UNROUTABLE. Options
 * are checked at once, without I/O; `start()` connects and checks that every target exists.
 *
 * @example
 * ```ts
 * const publisher = createAmqpPublisher({ url: 'amqp://guest:guest@localhost//', deliveryMode: 2 });
 * await publisher.start({ logger, targets: [{ kind: 'exchange', name: 'amq.topic' }], signal });
 * await publisher.publish({ kind: 'exchange', name: 'amq.topic' }, event);
 * await publisher.stop();
 * ```
 */
export function createAmqpPublisher(options: AmqpPublisherOptions): Publisher {
  return new AmqpPublisher(resolveAmqpOptions(options));
}

/** One publish() call until it settles. */
interface Pending {
  readonly target: Target;
  readonly event: BridgeEvent;
  readonly exchange: string;
  readonly routingKey: string;
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (error: BridgeError) => void;
  settled: boolean;
  /** The broker's basic.return reply: no queue received the message. */
  returned?: string;
  /** When it was written (Date.now()), for confirmTimeoutMs. */
  writtenAt?: number;
}

/** A confirm channel and the messages it has not confirmed yet. */
interface Link {
  readonly channel: ConfirmChannel;
  /** Written, awaiting basic.ack / basic.nack, in the order they were written. */
  readonly unconfirmed: Set<Pending>;
  closed: boolean;
  /** Why the broker closed the channel, when it said. */
  error?: Error & { code?: number };
  /** channel.publish() returned false: write no more until 'drain'. */
  full: boolean;
  /** Publishes pre-encoded frames, skipping amqplib's generic encoder; absent on other amqplib versions. */
  readonly raw: ReturnType<typeof rawPublisher>;
  /** Checks the oldest unconfirmed message against confirmTimeoutMs. */
  sweeper?: NodeJS.Timeout;
}

type State = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/** The publisher behind {@link createAmqpPublisher}; also built by `amqpUpstream`. */
export class AmqpPublisher implements Publisher {
  readonly name = 'amqp';
  readonly targetKinds = targetKinds;
  readonly capabilities: PublisherCapabilities;
  readonly #options: ResolvedAmqpOptions;
  readonly #closing = new AbortController();
  #state: State = 'created';
  #logger: Logger = silentLogger;
  #contextSignal: AbortSignal | undefined;
  #connection: ChannelModel | undefined;
  #connectionError: Error | undefined;
  #link: Link | undefined;
  #opening: Promise<Link> | undefined;
  /** Accepted publishes not written yet, in call order. */
  #queue: Pending[] = [];
  /** Every publish that has not settled. */
  readonly #pendings = new Set<Pending>();
  #idleWaiters: Array<() => void> = [];
  /** One 'abort' listener per signal and how many publishes share it (the engine passes one). */
  readonly #watched = new Map<AbortSignal, { count: number; readonly onAbort: () => void }>();
  #stopped: Promise<void> | undefined;
  /** RabbitMQ blocked publishing (resource alarm): confirms are not expected meanwhile. */
  #blocked = false;

  constructor(options: ResolvedAmqpOptions) {
    this.#options = options;
    this.#connection = options.connection;
    this.capabilities = Object.freeze({ headers: true, ordered: true, maxPayloadBytes: options.maxPayloadBytes });
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'created') throw this.#stateError('start()', 'create a new publisher instead');
    const unknown = context.targets.filter((t) => !targetKinds.includes(t.kind));
    if (unknown.length > 0) {
      const list = unknown.map((t) => `"${t.kind}:${t.name}"`).join(', ');
      throw new BridgeError('ERR_BRIDGE_RULE_KIND', `[amqp] Unsupported target ${list}; amqp accepts: ${targetKinds.join(', ')}`);
    }
    this.#state = 'starting';
    this.#logger = context.logger;
    this.#contextSignal = context.signal;
    try {
      await this.#linkUp();
      await this.#checkTargets(context.targets);
      if (context.signal.aborted) throw abortedError('start() (the bridge is stopping)');
    } catch (error) {
      await this.#disconnect(Date.now() + this.#options.stopTimeoutMs);
      if (this.#state === 'starting') this.#state = 'created';
      throw error;
    }
    if (this.#state !== 'starting') throw abortedError('start()');
    this.#state = 'started';
    this.#logger.info({ upstream: 'amqp', uri: this.#options.display, targets: context.targets.length }, 'AMQP publisher connected');
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'started') {
      const hint = this.#state === 'created' || this.#state === 'starting' ? 'await start() first' : 'create a new publisher';
      return Promise.reject(this.#stateError('publish()', hint));
    }
    if (options.signal?.aborted) return Promise.reject(abortedError(`publish of event ${event.id}`));
    if (!targetKinds.includes(target.kind)) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_RULE_KIND', `[amqp] Unsupported target "${target.kind}:${target.name}"; amqp accepts: ${targetKinds.join(', ')}`));
    }
    const { maxPayloadBytes } = this.#options;
    if (event.body.length > maxPayloadBytes) {
      return Promise.reject(
        new BridgeError(
          'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
          `[amqp] Event ${event.id} has a ${event.body.length}-byte body, over maxPayloadBytes ${maxPayloadBytes}; raise the limit (and RabbitMQ's max_message_size) or send smaller messages`,
        ),
      );
    }
    const [exchange, routingKey] = target.kind === 'queue' ? ['', target.name] : [target.name, event.routingKey];
    if (Buffer.byteLength(routingKey) > maxRoutingKeyBytes) {
      return Promise.reject(
        new BridgeError('ERR_BRIDGE_ENCODE', `[amqp] Routing key of event ${event.id} is ${Buffer.byteLength(routingKey)} bytes, longer than AMQP's ${maxRoutingKeyBytes}: "${routingKey.slice(0, 40)}..."; shorten it at its source`),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { target, event, exchange, routingKey, signal: options.signal, resolve, reject, settled: false };
      this.#pendings.add(pending);
      this.#watch(pending);
      this.#queue.push(pending);
      this.#flush();
    });
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#closing.abort();
    const deadline = Date.now() + this.#options.stopTimeoutMs;
    if (!(await this.#whenIdle(deadline))) {
      this.#logger.warn({ upstream: 'amqp', unconfirmed: this.#pendings.size, stopTimeoutMs: this.#options.stopTimeoutMs }, 'AMQP publisher stopping with unconfirmed messages');
      const error = abortedError('publish (the publisher stopped before the broker confirmed it)');
      for (const pending of [...this.#pendings]) this.#settle(pending, error);
    }
    await this.#disconnect(deadline);
    this.#state = 'stopped';
  }

  /** Closes the channel (and the connection when it is ours), forcibly once `deadline` passed. */
  async #disconnect(deadline: number): Promise<void> {
    await within(this.#opening ?? Promise.resolve(), Math.max(deadline - Date.now(), 0));
    const link = this.#link;
    this.#link = undefined;
    const owned = this.#options.connect ? this.#connection : undefined;
    let closing: Promise<unknown> = Promise.resolve();
    if (owned) closing = owned.close();
    else if (link && !link.closed) closing = link.channel.close();
    // A blackholed broker never answers close; 1 s is enough for a healthy one.
    const closed = await within(closing, Math.max(deadline - Date.now(), 1000));
    if (!closed && owned) socketOf(owned)?.destroy();
    if (owned) this.#connection = undefined;
  }

  #linkUp(): Promise<Link> {
    if (this.#link) return Promise.resolve(this.#link);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<Link> {
    const connection = this.#connection ?? (await this.#connect());
    coalesceWrites(connection);
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
    } catch (error) {
      throw this.#unavailable('Cannot open a channel on', error);
    }
    const link = this.#attach(channel);
    this.#link = link;
    return link;
  }

  async #connect(): Promise<ChannelModel> {
    const { url, socket } = this.#options.connect!;
    const attempt = connect(url, socket);
    let connection: ChannelModel;
    try {
      connection = await abortable(attempt, [this.#closing.signal, this.#contextSignal]);
    } catch (error) {
      // An attempt that completes after we gave up must not leak a connection.
      attempt.then((late) => {
        late.on('error', noop);
        late.close().catch(noop);
      }, noop);
      throw BridgeError.isInstance(error) ? error : this.#unavailable('Cannot connect to', error);
    }
    const fields = { upstream: 'amqp', uri: this.#options.display };
    this.#connectionError = undefined;
    connection.on('error', (error: Error) => {
      this.#connectionError = error;
      this.#logger.warn({ ...fields, error: error.message }, 'AMQP connection error');
    });
    connection.on('close', () => {
      if (this.#connection === connection) this.#connection = undefined;
      // amqplib only half-closes the socket; a silent peer would keep it open.
      socketOf(connection)?.destroy();
      if (this.#state !== 'stopping' && this.#state !== 'stopped') this.#logger.warn(fields, 'AMQP connection closed; the next publish reconnects');
    });
    connection.on('blocked', (reason: string) => {
      this.#blocked = true;
      this.#logger.warn({ ...fields, reason }, 'RabbitMQ blocked publishing (resource alarm)');
    });
    connection.on('unblocked', () => {
      this.#blocked = false;
      // The wait for confirms starts again: a resource alarm is not a broker that stopped answering.
      const now = Date.now();
      for (const pending of this.#link?.unconfirmed ?? []) pending.writtenAt = now;
      this.#logger.info(fields, 'RabbitMQ unblocked publishing');
    });
    this.#connection = connection;
    return connection;
  }

  #attach(channel: ConfirmChannel): Link {
    const link: Link = { channel, unconfirmed: new Set(), closed: false, full: false, raw: rawPublisher(channel) };
    const { confirmTimeoutMs } = this.#options;
    link.sweeper = setInterval(() => this.#sweep(link), Math.min(1_000, Math.max(20, confirmTimeoutMs / 10)));
    link.sweeper.unref();
    channel.once('close', () => clearInterval(link.sweeper));
    // Runs before amqplib's own 'close' listener, which fails the unconfirmed callbacks: they must
    // see the link closed to tell a lost channel from a nack.
    channel.prependListener('close', () => {
      link.closed = true;
      if (this.#link === link) this.#link = undefined;
    });
    // Publishes not written yet fail too: were they sent on a new channel while earlier ones are
    // retried, they would overtake them.
    channel.on('close', () => this.#failQueued(this.#lost(link)));
    channel.on('error', (error: Error) => {
      link.error = error;
      this.#logger.warn({ upstream: 'amqp', uri: this.#options.display, error: error.message }, 'AMQP channel closed by the broker');
    });
    channel.on('return', (message: Message) => this.#onReturn(link, message));
    channel.on('drain', () => {
      link.full = false;
      this.#flush();
    });
    return link;
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const link = this.#link;
      if (!link) {
        this.#reconnect();
        return;
      }
      if (link.full) return;
      const pending = this.#queue.shift()!;
      if (!pending.settled) this.#write(link, pending);
    }
  }

  /** Opens a new channel (and connection) once for every publish waiting; fails them if it cannot. */
  #reconnect(): void {
    if (this.#opening) return;
    this.#linkUp().then(
      () => this.#flush(),
      (error: unknown) => this.#failQueued(BridgeError.isInstance(error) ? error : this.#unavailable('Cannot reach', error)),
    );
  }

  #write(link: Link, pending: Pending): void {
    const { event } = pending;
    const { mandatory, deliveryMode } = this.#options;
    pending.writtenAt = Date.now();
    link.unconfirmed.add(pending);
    const fixed = { 'x-pg-channel': event.source, 'x-routing-key': event.routingKey, 'x-event-id': event.id };
    const headers = event.headers ? { ...event.headers, ...fixed } : fixed;
    const timestamp = Math.floor(event.timestamp.getTime() / 1000);
    const confirmed = (error: unknown) => this.#confirmed(link, pending, error);
    let frames: Buffer | undefined;
    // Without the fast path the frames are still encoded once, to refuse what amqplib would send
    // as a frame the broker closes the connection over.
    const fallbackFrameMax = link.raw ? undefined : frameMaxOf(link.channel);
    if (link.raw || fallbackFrameMax !== undefined) {
      try {
        const encoded = encodePublishFrames(link.raw?.channel ?? 1, link.raw?.frameMax ?? fallbackFrameMax!, {
          exchange: pending.exchange,
          routingKey: pending.routingKey,
          mandatory,
          contentType: event.contentType,
          headers,
          deliveryMode,
          messageId: event.id,
          timestamp,
          appId,
          body: event.body,
        });
        if (link.raw) frames = encoded;
      } catch (error) {
        // A name over AMQP's limits: this message can never be sent, the next ones can.
        this.#forget(link, pending);
        this.#settle(pending, BridgeError.isInstance(error) ? error : this.#lost(link, error, pending));
        return;
      }
    }
    let written: boolean;
    try {
      written = frames
        ? link.raw!.publish(frames, confirmed)
        : link.channel.publish(
            pending.exchange,
            pending.routingKey,
            event.body,
            { messageId: event.id, timestamp, contentType: event.contentType, deliveryMode, mandatory, appId, headers },
            confirmed,
          );
    } catch (error) {
      this.#forget(link, pending);
      this.#settle(pending, this.#lost(link, error, pending));
      return;
    }
    if (!written) {
      link.full = true;
      this.#logger.debug({ upstream: 'amqp', queued: this.#queue.length }, 'AMQP write buffer full; waiting for drain');
    }
  }

  /**
   * The broker confirms in the order messages were written, so only the oldest unconfirmed one is
   * checked. Past confirmTimeoutMs the link is given up: its unconfirmed and queued messages fail
   * (retryable, resent in order by the engine) and the channel, or the connection the publisher
   * opened, is dropped without waiting for a broker that stopped answering.
   */
  #sweep(link: Link): void {
    if (link.closed || this.#blocked) return;
    let oldest: Pending | undefined;
    for (const pending of link.unconfirmed) {
      oldest = pending;
      break;
    }
    const { confirmTimeoutMs } = this.#options;
    if (!oldest || Date.now() - oldest.writtenAt! <= confirmTimeoutMs) return;
    link.closed = true;
    clearInterval(link.sweeper);
    if (this.#link === link) this.#link = undefined;
    const error = new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[amqp] No publisher confirm from ${this.#options.display} within ${confirmTimeoutMs} ms (confirmTimeoutMs) for event ${oldest.event.id}; reconnecting`, { retryable: true });
    this.#logger.warn({ upstream: 'amqp', uri: this.#options.display, confirmTimeoutMs, unconfirmed: link.unconfirmed.size }, 'AMQP broker stopped confirming; dropping the channel');
    for (const pending of [...link.unconfirmed]) {
      this.#forget(link, pending);
      this.#settle(pending, error);
    }
    this.#failQueued(error);
    const owned = this.#options.connect ? this.#connection : undefined;
    if (owned) {
      this.#connection = undefined;
      socketOf(owned)?.destroy();
    } else {
      link.channel.close().catch(noop);
    }
  }

  #confirmed(link: Link, pending: Pending, error: unknown): void {
    this.#forget(link, pending);
    const { event, target } = pending;
    if (error === null || error === undefined) {
      if (pending.returned === undefined) return this.#settle(pending);
      const fix =
        target.kind === 'queue'
          ? `declare queue "${target.name}"`
          : `bind a queue to exchange "${target.name}" for routing key "${pending.routingKey}", or set mandatory to false to let the broker drop such messages`;
      return this.#settle(pending, new BridgeError('ERR_BRIDGE_UNROUTABLE', `[amqp] No queue received event ${event.id} sent to ${target.kind} "${target.name}" (${pending.returned}); ${fix}`));
    }
    if (link.closed) return this.#settle(pending, this.#lost(link, error, pending));
    this.#settle(
      pending,
      new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[amqp] The broker refused (basic.nack) event ${event.id} sent to ${target.kind} "${target.name}"`, {
        retryable: true,
        cause: error,
      }),
    );
  }

  #onReturn(link: Link, message: Message): void {
    const fields = message.fields as unknown as { exchange: string; routingKey: string; replyCode: number; replyText: string };
    const messageId = String(message.properties.messageId);
    // The broker sends basic.return before the basic.ack of the same message, so it is among the
    // unconfirmed: the oldest one with this exchange, routing key and id not yet marked. Returns
    // are rare, so they are matched by a scan rather than an index kept for every message.
    for (const pending of link.unconfirmed) {
      if (pending.returned === undefined && pending.event.id === messageId && pending.exchange === fields.exchange && pending.routingKey === fields.routingKey) {
        pending.returned = `${fields.replyCode} ${fields.replyText}`;
        return;
      }
    }
  }

  /** The error for a publish whose channel or connection went away. */
  #lost(link: Link, cause?: unknown, pending?: Pending): BridgeError {
    const reason = link.error ?? this.#connectionError;
    if (pending?.target.kind === 'exchange' && link.error?.code === 404 && link.error.message.includes(`'${pending.exchange}'`)) {
      const name = pending.exchange;
      return new BridgeError(
        'ERR_BRIDGE_TARGET_MISSING',
        `[amqp] Exchange "${name}" does not exist on ${this.#options.display}; declare it (rabbitmqadmin declare exchange name=${name} type=topic durable=true). Delivery is retried until it exists`,
        { retryable: true, cause: link.error },
      );
    }
    const detail = reason ? `: ${reason.message}` : '';
    const subject = pending ? `before the broker confirmed event ${pending.event.id}` : 'before the message was sent';
    return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[amqp] Lost the channel to ${this.#options.display} ${subject}${detail}`, {
      retryable: true,
      cause: reason ?? cause,
    });
  }

  async #checkTargets(targets: readonly Target[]): Promise<void> {
    const connection = this.#connection!;
    const unique = new Map(targets.map((t) => [`${t.kind}:${t.name}`, t]));
    const missing: Target[] = [];
    for (const target of unique.values()) {
      // The default exchange always exists and refuses to be declared, even passively.
      if (target.kind === 'exchange' && target.name === '') continue;
      try {
        const channel = await connection.createChannel();
        // A failed check makes the broker close the channel, which amqplib reports as 'error' too.
        channel.on('error', noop);
        if (target.kind === 'exchange') await channel.checkExchange(target.name);
        else await channel.checkQueue(target.name);
        await channel.close();
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) throw this.#unavailable(`Cannot check ${target.kind} "${target.name}" on`, error);
        missing.push(target);
      }
    }
    if (missing.length === 0) return;
    const list = missing.map((t) => `${t.kind} "${t.name}"`).join(', ');
    const howTo = missing.map((t) => `rabbitmqadmin declare ${t.kind} name=${t.name}${t.kind === 'exchange' ? ' type=topic' : ''} durable=true`).join('; ');
    throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[amqp] ${list} not found on ${this.#options.display}; declare ${missing.length === 1 ? 'it' : 'them'} before starting (${howTo}) or fix the rules`);
  }

  #forget(link: Link, pending: Pending): void {
    link.unconfirmed.delete(pending);
  }

  #failQueued(error: BridgeError): void {
    for (const pending of this.#queue.splice(0)) this.#settle(pending, error);
  }

  #settle(pending: Pending, error?: BridgeError): void {
    if (pending.settled) return;
    pending.settled = true;
    this.#unwatch(pending);
    this.#pendings.delete(pending);
    if (error) pending.reject(error);
    else pending.resolve();
    if (this.#pendings.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #watch(pending: Pending): void {
    const { signal } = pending;
    if (!signal) return;
    const entry = this.#watched.get(signal);
    if (entry) {
      entry.count += 1;
      return;
    }
    const onAbort = () => {
      for (const p of [...this.#pendings]) if (p.signal === signal) this.#settle(p, abortedError(`publish of event ${p.event.id}`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#watched.set(signal, { count: 1, onAbort });
  }

  #unwatch(pending: Pending): void {
    const { signal } = pending;
    const entry = signal && this.#watched.get(signal);
    if (!signal || !entry) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    signal.removeEventListener('abort', entry.onAbort);
    this.#watched.delete(signal);
  }

  #whenIdle(deadline: number): Promise<boolean> {
    if (this.#pendings.size === 0) return Promise.resolve(true);
    return within(new Promise<void>((resolve) => this.#idleWaiters.push(resolve)), deadline - Date.now());
  }

  #unavailable(what: string, error: unknown): BridgeError {
    const detail = error instanceof Error ? error.message : String(error);
    return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[amqp] ${what} ${this.#options.display}: ${detail}`, { retryable: true, cause: error });
  }

  #stateError(method: string, hint: string): BridgeError {
    return new BridgeError('ERR_BRIDGE_STATE', `[amqp] ${method} called while the publisher is ${this.#state}; ${hint}`);
  }
}

function abortedError(what: string): BridgeError {
  return new BridgeError('ERR_BRIDGE_ABORTED', `[amqp] Cancelled ${what}`);
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, Math.max(ms, 0), false);
  });
  return Promise.race([promise.then(() => true, () => true), timeout]).finally(() => clearTimeout(timer));
}

/** `promise`, or ERR_BRIDGE_ABORTED as soon as one of `signals` aborts. */
function abortable<T>(promise: Promise<T>, signals: ReadonlyArray<AbortSignal | undefined>): Promise<T> {
  const active = signals.filter((s): s is AbortSignal => s !== undefined);
  const error = () => abortedError('connecting (the bridge is stopping)');
  if (active.some((s) => s.aborted)) return Promise.reject(error());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cleanup();
      reject(error());
    };
    const cleanup = () => active.forEach((s) => s.removeEventListener('abort', onAbort));
    active.forEach((s) => s.addEventListener('abort', onAbort, { once: true }));
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (reason: unknown) => {
        cleanup();
        reject(reason);
      },
    );
  });
}
