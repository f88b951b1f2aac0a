import {
  BridgeError,
  abortError,
  abortable,
  silentLogger,
  type BridgeEvent,
  type Logger,
  type Publisher,
  type PublisherCapabilities,
  type PublisherContext,
  type PublishOptions,
  type Target,
  InFlight,
  whenOpen,
} from '@pg-event-bridge/core';
import { Cluster, Redis } from 'ioredis';

import { redisChannel, redisStreamFields, resolveRedisOptions, type RedisClient, type RedisPublisherOptions, type ResolvedRedisOptions } from './redis-options.js';

interface Connection {
  readonly client: RedisClient;
  readonly owned: boolean;
  ready: Promise<void>;
  /** `ready` resolved (set by whenOpen). */
  open?: boolean;
  closed: boolean;
}

// Server replies worth retrying: the server is busy, loading, out of memory, or a cluster or
// replica is changing roles. Anything else (WRONGTYPE, NOPERM...) will fail the same way again.
const RETRYABLE_REPLY = /^(OOM|BUSY|LOADING|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MOVED|ASK)\b/;

function unavailable(message: string, cause?: unknown): BridgeError {
  const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[redis] ${message}${detail}`, { retryable: true, cause });
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

class RedisPublisher implements Publisher {
  readonly name = 'redis';
  readonly targetKinds = ['topic', 'stream'] as const;
  readonly capabilities: PublisherCapabilities;
  readonly #options: ResolvedRedisOptions;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #connection: Connection | undefined;
  readonly #inFlight = new InFlight();
  #stopped: Promise<void> | undefined;

  constructor(options: ResolvedRedisOptions) {
    this.#options = options;
    this.capabilities = Object.freeze({
      // Pub/sub messages have no headers; stream entries carry them as fields, but a capability
      // is all-or-nothing per publisher.
      headers: false,
      // One connection; Redis executes a connection's commands in the order sent.
      ordered: true,
      maxPayloadBytes: options.maxPayloadBytes,
    });
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[redis] start() called while ${this.#state}; create a new publisher instead`);
    }
    const problems: string[] = [];
    for (const target of context.targets) {
      if (target.kind !== 'topic' && target.kind !== 'stream') problems.push(`kind "${target.kind}" of "${target.kind}:${target.name}" (redis accepts: topic, stream)`);
      else if (target.name === '') problems.push(`${target.kind} target with an empty name`);
    }
    if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `[redis] Invalid targets: ${problems.join('; ')}`);
    this.#logger = context.logger;
    this.#state = 'starting';
    try {
      const connection = await this.#connect(context.signal);
      for (const target of context.targets) {
        if (target.kind !== 'stream') continue;
        const type = await connection.client.type(target.name);
        if (type !== 'none' && type !== 'stream') {
          throw new BridgeError('ERR_BRIDGE_CONFIG', `[redis] Key "${target.name}" of stream:${target.name} holds a ${type}, not a stream; choose another stream name or delete the key`);
        }
      }
      this.#state = 'running';
      this.#logger.info({ url: this.#options.redactedUrl }, '[redis] Connected');
    } catch (error) {
      this.#state = 'new';
      await this.#close(true);
      if (BridgeError.isInstance(error)) throw error;
      throw unavailable(`Could not start on ${this.#options.redactedUrl}`, error);
    }
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    return this.#inFlight.track(this.#publish(target, event, options.signal));
  }

  async #publish(target: Target, event: BridgeEvent, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw abortError();
    if (this.#state !== 'running') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[redis] publish() called while ${this.#state}; call start() first`);
    }
    if (target.kind !== 'topic' && target.kind !== 'stream') {
      throw new BridgeError('ERR_BRIDGE_RULE_KIND', `[redis] Target kind "${target.kind}" is not supported (redis accepts: topic, stream)`);
    }
    if (event.body.length > this.#options.maxPayloadBytes) {
      throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[redis] Message ${event.id} of ${event.body.length} bytes exceeds maxPayloadBytes ${this.#options.maxPayloadBytes}`);
    }
    const connection = await this.#connect(signal);
    if (signal?.aborted) throw abortError();
    const { client } = connection;
    let command: Promise<unknown>;
    if (target.kind === 'topic') {
      command = client.publish(redisChannel(target.name, event.routingKey, this.#options.separator), event.body);
    } else {
      const trim = this.#options.streamMaxLen === undefined ? [] : ['MAXLEN', '~', String(this.#options.streamMaxLen)];
      const xadd = client.xadd as unknown as (key: string, ...args: Array<string | Buffer>) => Promise<string | null>;
      command = xadd.call(client, target.name, ...trim, '*', ...redisStreamFields(event));
    }
    await abortable(
      command.catch((error: unknown) => Promise.reject(this.#commandError(error, target, connection))),
      signal,
    );
  }

  #commandError(error: unknown, target: Target, connection: Connection): BridgeError {
    if (BridgeError.isInstance(error)) return error;
    if (error instanceof Error && /command timed out/i.test(error.message)) {
      // The server may still run it later, after commands sent behind it were retried: drop the
      // connection so every unanswered command fails now and the engine resends them in order.
      if (connection.owned && !connection.closed) {
        connection.closed = true;
        if (this.#connection === connection) this.#connection = undefined;
        connection.client.disconnect();
      }
      return unavailable(`No reply from ${this.#options.redactedUrl} within ${this.#options.commandTimeoutMs} ms (commandTimeoutMs) for ${target.kind}:${target.name}`, error);
    }
    if (isReplyError(error)) {
      const retryable = RETRYABLE_REPLY.test(error.message);
      return new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[redis] Redis refused the message for ${target.kind}:${target.name}: ${error.message}`, { retryable, cause: error });
    }
    return unavailable(`Publish to ${target.kind}:${target.name} on ${this.#options.redactedUrl} failed`, error);
  }

  /** The live connection, opening a new one when there is none (first use, or after a loss). */
  #connect(signal: AbortSignal | undefined): Connection | Promise<Connection> {
    const connection = this.#connection;
    return whenOpen(connection && !connection.closed ? connection : this.#open(), signal);
  }

  #open(): Connection {
    const o = this.#options;
    if (o.client) {
      const client = o.client;
      const connection: Connection = { client, owned: false, ready: Promise.resolve(), closed: false };
      // A lazy client the application has not connected yet is connected here; otherwise the
      // application's client manages its own connection.
      connection.ready = (client.status === 'wait' ? client.connect() : Promise.resolve()).then(
        () => undefined,
        (error: unknown) => Promise.reject(unavailable(`Could not connect the given client`, error)),
      );
      connection.ready.catch(() => undefined);
      this.#connection = connection;
      return connection;
    }
    let client: RedisClient;
    if (o.cluster) {
      // A cluster reconnects and follows failovers on its own (ioredis's cluster logic).
      client = new Cluster([...o.cluster.nodes], {
        ...o.cluster.options,
        redisOptions: { commandTimeout: o.commandTimeoutMs, ...o.cluster.options?.redisOptions },
        lazyConnect: true,
        enableAutoPipelining: o.autoPipelining,
      });
    } else {
      // The publisher owns reconnection: ioredis would otherwise re-send unanswered commands on
      // the new connection, and abort incomplete auto-pipelines, so a later message could be
      // stored before an earlier one the delivery engine re-sends. Instead a lost connection
      // fails every unanswered command (retryable) and the engine re-sends them in order on a
      // fresh connection.
      client = new Redis(o.url!, {
        ...o.redisOptions,
        lazyConnect: true,
        enableAutoPipelining: o.autoPipelining,
        retryStrategy: () => null,
        reconnectOnError: null,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: true,
        maxRetriesPerRequest: 0,
        commandTimeout: o.commandTimeoutMs,
      });
    }
    const connection: Connection = { client, owned: true, ready: Promise.resolve(), closed: false };
    let lastError: Error | undefined;
    // Without an 'error' listener ioredis prints every connection error to the console.
    client.on('error', (error: Error) => {
      lastError = error;
      this.#logger.debug({ err: error, url: o.redactedUrl }, '[redis] Client error');
    });
    client.on('end', () => {
      const wasCurrent = this.#connection === connection;
      connection.closed = true;
      if (wasCurrent) this.#connection = undefined;
      if (wasCurrent && this.#state === 'running') {
        this.#logger.warn({ err: lastError, url: o.redactedUrl }, '[redis] Connection lost; reconnecting on the next publish');
      }
    });
    connection.ready = client.connect().then(
      () => undefined,
      (error: unknown) => {
        connection.closed = true;
        client.disconnect();
        return Promise.reject(unavailable(`Could not connect to ${o.redactedUrl}`, lastError ?? error));
      },
    );
    connection.ready.catch(() => undefined);
    this.#connection = connection;
    return connection;
  }

  async #close(force: boolean): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection || !connection.owned || connection.closed) return;
    connection.closed = true;
    const { client } = connection;
    if (force || client.status !== 'ready') {
      client.disconnect();
      return;
    }
    // QUIT waits for the replies of everything sent before it; a server that stopped answering
    // gets a second, then the socket is dropped.
    let timer: NodeJS.Timeout | undefined;
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    const quitted = await Promise.race([quit, new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 1_000, false)))]);
    clearTimeout(timer);
    if (!quitted) client.disconnect();
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    await this.#inFlight.settle(this.#options.stopTimeoutMs);
    await this.#close(false);
    this.#state = 'stopped';
    if (wasRunning) this.#logger.info({ url: this.#options.redactedUrl }, '[redis] Stopped');
  }
}

/**
 * Creates a publisher to Redis: `topic:<name>` PUBLISHes on channel `<name>.<key>` (at-most-once:
 * only current subscribers get it), `stream:<name>` XADDs an entry to stream `<name>` (durable).
 * Validates the options synchronously and does no I/O until `start()`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createRedisPublisher } from '@pg-event-bridge/upstream-redis';
 *
 * const publisher = createRedisPublisher({ url: 'redis://default:pass@localhost:6379', streamMaxLen: 100_000 });
 * const bridge = createBridge({ postgres: process.env.DATABASE_URL!, upstreams: [{ publisher, rules: 'events->stream:events, events->topic:events' }] });
 * await bridge.start(); // NOTIFY events, 'signup|hello' → XADD events and PUBLISH events.signup
 * ```
 */
export function createRedisPublisher(options: RedisPublisherOptions = {}): Publisher {
  return new RedisPublisher(resolveRedisOptions(options));
}
