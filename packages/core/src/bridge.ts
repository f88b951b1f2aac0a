import { EventEmitter } from 'node:events';
import { BridgeError, toBridgeError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { Publisher, Target } from './publisher.js';
import { parseRules, walSources, type Rule } from './rules/parse-rules.js';
import type { BridgeEvent, PoisonEvent, Source, SourceContext, SourceReport } from './source.js';
import { DeliveryEngine, type DeliveryOptions, type Route } from './delivery/delivery-engine.js';
import type { DeadLetter } from './delivery/target-dispatcher.js';
import { retryDeadLetter, type DeadLetterRetryObserver } from './delivery/retry-dead-letter.js';
import { createDeadLetterTable, type DeadLetterTable } from './delivery/dead-letter-table.js';
import { createOutboxSource, type OutboxSource, type OutboxSourceOptions, type OutboxStats } from './sources/outbox-source.js';
import { createNotifySource, type NotifySourceOptions } from './sources/notify-source.js';
import type { PostgresInput } from './sources/postgres-connection.js';
import { createWalSource, defaultSlotName, type WalSourceOptions } from './sources/wal-source.js';
import { withDeadline } from './util/with-deadline.js';

const deadLetterLogIntervalMs = 30_000;

/** One upstream and the rules that feed it. */
export interface UpstreamBinding {
  /** Names this upstream in events, logs and dead letters (`[upstream.NAME]`). @default publisher.name */
  readonly name?: string;
  readonly publisher: Publisher;
  /** `BRIDGE_CHANNELS` text (`events->exchange:amq.topic, ...`) or parsed rules. */
  readonly rules: string | readonly Rule[];
}

/** Options of {@link createBridge}. */
export interface BridgeOptions {
  /** A connection string, a node-postgres client config, or the application's `pg.Pool`. */
  readonly postgres: PostgresInput;
  readonly upstreams: readonly UpstreamBinding[];
  /** @default a logger that drops everything */
  readonly logger?: Logger;
  /** Aborting it stops the bridge, like calling `stop()`. */
  readonly signal?: AbortSignal;
  readonly delivery?: DeliveryOptions;
  /**
   * Settings of the logical replication sources that `wal2json->` and `pgoutput->` rules start.
   * When both plugins are used, pgoutput's slot is the wal2json slot's name plus `_pgoutput`.
   */
  readonly wal?: Omit<WalSourceOptions, 'postgres' | 'plugin'>;
  /** Reconnection and health-check settings of the NOTIFY connection. */
  readonly notify?: Omit<NotifySourceOptions, 'postgres' | 'channels'>;
  /**
   * Stores a message that failed permanently (payload too large, unroutable...). A rejection is
   * retried with backoff while that target waits. `'table'` stores it in `events.dead_letter`
   * (see createDeadLetterTable; the schema comes from `outbox.schema`). @default logs it at error level
   */
  readonly deadLetter?: ((letter: DeadLetter) => Promise<void>) | 'table';
  /**
   * The durable outbox (`events.outbox`): drained for every rule source, in id order per channel.
   * Without the table installed it waits for it, warning once. `false` turns it off. @default {}
   */
  readonly outbox?: false | Omit<OutboxSourceOptions, 'postgres' | 'channels'>;
  /** Additional sources (WAL, outbox) beside the NOTIFY channels the rules name. */
  readonly sources?: readonly Source[];
}

/** Counters since start. */
export interface BridgeStats {
  readonly received: number;
  readonly published: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly gaps: number;
  readonly inFlight: number;
  /** Failed attempts to store a dead letter (each is retried; none is dropped). */
  readonly deadLetterFailures: number;
  /**
   * True while some dead letter could not be stored yet: its target waits, and so (for WAL) does
   * the slot. A daemon reports itself not ready while it holds.
   */
  readonly deadLetterStoreFailing: boolean;
  /** The outbox source's counters (rows read, order waits, poison rows), when it runs. */
  readonly outbox?: OutboxStats;
}

/** The events a bridge emits. None is named `error`, so a missing listener never crashes. */
export interface BridgeEvents {
  /** A source handed over an event, before delivery (for per-source counters). */
  received: [event: BridgeEvent];
  published: [info: { event: BridgeEvent; upstream: string; target: Target; attempts: number; latencyMs: number }];
  retrying: [info: { event: BridgeEvent; upstream: string; target: Target; attempt: number; delayMs: number; error: BridgeError }];
  'dead-lettered': [letter: DeadLetter];
  /**
   * Storing a dead letter failed (the table is missing, Postgres is down). It is retried with
   * backoff and the target waits meanwhile; the daemon reports itself not ready until a store
   * succeeds again.
   */
  'dead-letter-failed': [info: { letter: DeadLetter; error: BridgeError; attempt: number }];
  /** Dead letters are stored again after `failures` failed attempts over `failingForMs`. */
  'dead-letter-recovered': [info: { failures: number; failingForMs: number }];
  connected: [report: Extract<SourceReport, { type: 'connected' }>];
  disconnected: [report: Extract<SourceReport, { type: 'disconnected' }>];
  gap: [report: Extract<SourceReport, { type: 'gap' }>];
  /** A source gave up and needs attention; the daemon exits non-zero on it. */
  failed: [report: Extract<SourceReport, { type: 'failed' }>];
  started: [];
  stopped: [];
}

/** Options of {@link Bridge.stop}. */
export interface StopOptions {
  /** How long to wait for in-flight messages before cancelling them. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * How long each source's `stop()` and `afterDrain()`, each publisher's `stop()` and the
   * dead-letter table's close may take; one that has not settled by then is logged and left
   * behind, so stopping never hangs on a dead broker or database. @default 5000
   */
  readonly closeTimeoutMs?: number;
}

/** A running (or ready to run) bridge from Postgres to the upstreams. */
export interface Bridge extends AsyncDisposable {
  /** Starts publishers, then sources. Rejects with a BridgeError if any cannot start. */
  start(): Promise<void>;
  /** Stops sources, drains in-flight messages (up to `timeoutMs`), stops publishers. Idempotent. */
  stop(options?: StopOptions): Promise<void>;
  stats(): BridgeStats;
  on<E extends keyof BridgeEvents>(event: E, listener: (...args: BridgeEvents[E]) => void): this;
  off<E extends keyof BridgeEvents>(event: E, listener: (...args: BridgeEvents[E]) => void): this;
  once<E extends keyof BridgeEvents>(event: E, listener: (...args: BridgeEvents[E]) => void): this;
}

/**
 * Builds a bridge from Postgres to one or more upstreams. Validates everything synchronously and
 * does no I/O until `start()`.
 *
 * @example
 * ```ts
 * const bridge = createBridge({
 *   postgres: process.env.DATABASE_URL!,
 *   upstreams: [{ publisher: createAmqpPublisher({ url: 'amqp://localhost' }), rules: 'events->exchange:amq.topic' }],
 * });
 * await bridge.start();
 * ```
 */
export function createBridge(options: BridgeOptions): Bridge {
  const logger = options.logger ?? silentLogger;
  const routes: Route[] = [];
  const targetsByPublisher = new Map<Publisher, Target[]>();
  const channels = new Set<string>();
  const walPlugins = new Set<'wal2json' | 'pgoutput'>();

  if (options.upstreams.length === 0) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', '[core] No upstreams given: pass at least one { publisher, rules }');
  }
  for (const { publisher, rules, name } of options.upstreams) {
    const upstream = name ?? publisher.name;
    const parsed = typeof rules === 'string' ? parseRules(rules, { upstream, targetKinds: publisher.targetKinds }) : rules;
    const targets = targetsByPublisher.get(publisher) ?? [];
    for (const rule of parsed) {
      if (!publisher.targetKinds.includes(rule.target.kind)) {
        throw new BridgeError('ERR_BRIDGE_RULE_KIND', `[${upstream}] Rule "${rule.text}" names kind "${rule.target.kind}" (${publisher.name} accepts: ${publisher.targetKinds.join(', ')})`);
      }
      routes.push({ source: rule.source, upstream, publisher, target: rule.target });
      if (!targets.some((t) => t.kind === rule.target.kind && t.name === rule.target.name)) targets.push(rule.target);
      if (rule.sourceType === 'channel') channels.add(rule.source);
      else walPlugins.add(rule.sourceType);
    }
    targetsByPublisher.set(publisher, targets);
  }

  const emitter = new EventEmitter();
  // Each listener is called on its own: one that throws is logged and must not skip the others,
  // nor escape into the delivery engine's promise chains (an unhandled rejection ends the process).
  const emit = <E extends keyof BridgeEvents>(event: E, ...args: BridgeEvents[E]): void => {
    for (const listener of emitter.rawListeners(event)) {
      try {
        (listener as (...values: unknown[]) => void)(...args);
      } catch (error) {
        logger.error({ err: toBridgeError(error, 'ERR_BRIDGE_STATE', `[core] A listener of "${event}" threw`), event }, '[core] A bridge event listener threw; ignored');
      }
    }
  };
  const counters = { received: 0, published: 0, retried: 0, deadLettered: 0, gaps: 0, deadLetterFailures: 0 };
  const logDeadLetter = (letter: DeadLetter, where: string) =>
    logger.error({ err: letter.error, upstream: letter.upstream, target: letter.target, eventId: letter.event.id }, `[core] Message dead-lettered${where}`);
  const deadLetterTable: DeadLetterTable | undefined =
    options.deadLetter === 'table' ? createDeadLetterTable({ postgres: options.postgres, ...(options.outbox && options.outbox.schema && { schema: options.outbox.schema }) }) : undefined;
  const storeDeadLetter =
    typeof options.deadLetter === 'function'
      ? options.deadLetter
      : deadLetterTable
        ? async (letter: DeadLetter) => {
            await deadLetterTable.store(letter);
            logDeadLetter(letter, ` into ${options.outbox && options.outbox.schema ? options.outbox.schema : 'events'}.dead_letter`);
          }
        : async (letter: DeadLetter) => logDeadLetter(letter, '');

  // Dead letters that failed to store at least once and are not stored yet. While any is, the
  // store is failing: the error is logged at the first failure and then at most every 30 s.
  const failingLetters = new Set<DeadLetter>();
  const outage = { since: 0, failures: 0, lastLoggedAt: 0, unlogged: 0 };
  const deadLetterRetry: DeadLetterRetryObserver = {
    failed({ letter, error, attempt }) {
      counters.deadLetterFailures += 1;
      const now = Date.now();
      if (failingLetters.size === 0) Object.assign(outage, { since: now, failures: 0, lastLoggedAt: 0, unlogged: 0 });
      failingLetters.add(letter);
      outage.failures += 1;
      outage.unlogged += 1;
      if (outage.lastLoggedAt === 0 || now - outage.lastLoggedAt >= deadLetterLogIntervalMs) {
        logger.error(
          { err: error, eventId: letter.event.id, upstream: letter.upstream, target: letter.target, attempt, failures: outage.unlogged, failingForMs: now - outage.since },
          `[core] Could not store a dead letter; its target waits while it is retried with backoff (repeated at most every ${deadLetterLogIntervalMs / 1000} s while storing fails)`,
        );
        outage.lastLoggedAt = now;
        outage.unlogged = 0;
      }
      emit('dead-letter-failed', { letter, error, attempt });
    },
    settled({ letter, stored }) {
      if (!failingLetters.delete(letter) || failingLetters.size > 0 || !stored) return;
      const info = { failures: outage.failures, failingForMs: Date.now() - outage.since };
      logger.info(info, '[core] Dead letters are stored again; the targets that waited go on');
      emit('dead-letter-recovered', info);
    },
  };

  const engine = new DeliveryEngine(routes, options.delivery ?? {}, {
    published(info) {
      counters.published += 1;
      emit('published', info);
    },
    retrying(info) {
      counters.retried += 1;
      logger.warn({ err: info.error, upstream: info.upstream, target: info.target, attempt: info.attempt, delayMs: Math.round(info.delayMs) }, '[core] Publish failed; retrying');
      emit('retrying', info);
    },
    async deadLetter(letter) {
      await storeDeadLetter(letter);
      counters.deadLettered += 1;
      emit('dead-lettered', letter);
    },
    deadLetterRetry,
  });

  const sources: Source[] = [...(options.sources ?? [])];
  for (const plugin of walPlugins) {
    const slot = options.wal?.slot ?? defaultSlotName;
    const suffix = plugin === 'pgoutput' && walPlugins.size > 1 ? '_pgoutput' : '';
    // The bridge's own tables stay out of the publication it manages, whatever schema they are in.
    const excludeSchemas = options.wal?.excludeSchemas ?? [...new Set(['events', ...(options.outbox && options.outbox.schema ? [options.outbox.schema] : [])])];
    sources.push(createWalSource({ ...options.wal, excludeSchemas, postgres: options.postgres, plugin, slot: `${slot}${suffix}` }));
  }
  const notifySource = channels.size > 0 ? createNotifySource({ ...options.notify, postgres: options.postgres, channels: [...channels] }) : undefined;
  if (notifySource) sources.unshift(notifySource);
  // Durable messages of every rule source; replayed WAL dead letters come back as `wal2json`/`pgoutput` rows.
  let outboxSource: OutboxSource | undefined;
  if (options.outbox !== false && channels.size + walPlugins.size > 0) {
    outboxSource = createOutboxSource({ ...options.outbox, postgres: options.postgres, channels: [...channels, ...walPlugins] });
    sources.push(outboxSource);
  }

  const lifetime = new AbortController();
  let state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  let stopped: Promise<void> | undefined;
  const publishers = [...targetsByPublisher.keys()];
  const startedPublishers: Publisher[] = [];
  const startedSources: Source[] = [];

  const context: SourceContext = {
    deliver(event) {
      counters.received += 1;
      emit('received', event);
      return engine.deliver(event);
    },
    get hasCapacity() {
      return engine.hasCapacity;
    },
    waitForCapacity: () => engine.waitForCapacity(),
    async deadLetter(poison: PoisonEvent) {
      counters.received += 1;
      const letter: DeadLetter = {
        event: { id: poison.id, source: poison.source, routingKey: poison.routingKey ?? '', body: poison.raw, timestamp: poison.timestamp ?? new Date() },
        upstream: 'bridge',
        target: { kind: 'decode', name: poison.source },
        error: poison.error,
        attempts: 1,
        position: poison.position,
      };
      await retryDeadLetter(letter, storeDeadLetter, { signal: lifetime.signal, ...(options.delivery?.retry && { retry: options.delivery.retry }), observer: deadLetterRetry });
      counters.deadLettered += 1;
      emit('dead-lettered', letter);
    },
    report(report) {
      if (report.type === 'gap') {
        counters.gaps += 1;
        logger.warn({ channels: report.channels, from: report.from, to: report.to }, '[core] Reconnected; notifications sent in this window were not received');
      } else if (report.type === 'failed') {
        logger.error({ err: report.error, source: report.source }, '[core] Source failed and stopped');
      } else if (report.type === 'connected') {
        logger.info({ source: report.source }, '[core] Source connected');
      }
      emit(report.type, report as never);
    },
    logger,
    signal: lifetime.signal,
  };

  // A WAL target carries only the database's row changes: whatever a NOTIFY channel is called,
  // its events never reach a WAL route (the source refuses those names; this holds regardless).
  const notifyContext: SourceContext = Object.create(context, {
    deliver: {
      value: (event: BridgeEvent) => {
        if (!(walSources as readonly string[]).includes(event.source)) return context.deliver(event);
        logger.error({ source: event.source }, '[core] A NOTIFY event named a WAL source; not delivered');
        return Promise.resolve();
      },
    },
  });

  const stop = (stopOptions: StopOptions = {}): Promise<void> => {
    stopped ??= (async () => {
      state = 'stopping';
      const timeoutMs = stopOptions.timeoutMs ?? 10_000;
      const closeTimeoutMs = stopOptions.closeTimeoutMs ?? 5000;
      const bounded = (what: string, call: () => Promise<void> | undefined) =>
        withDeadline(call, closeTimeoutMs, what).catch((error: unknown) =>
          logger.warn({ err: toBridgeError(error, 'ERR_BRIDGE_STATE', `[core] ${what} failed`), closeTimeoutMs }, `[core] ${what} failed or did not settle in time; stopping without it`),
        );
      await Promise.all(startedSources.map((source) => bounded(`Stopping source ${source.name}`, () => source.stop())));
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        engine.idle().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) logger.warn({ inFlight: engine.inFlight, timeoutMs }, '[core] Stop timed out; cancelling messages still in flight');
      lifetime.abort();
      engine.abort();
      // Every delivery has settled now: sources acknowledge what was delivered while draining.
      await Promise.all(startedSources.map((source) => bounded(`Acknowledging for source ${source.name}`, () => source.afterDrain?.())));
      await Promise.all([
        ...startedPublishers.map((publisher) => bounded(`Stopping publisher ${publisher.name}`, () => publisher.stop())),
        ...(deadLetterTable ? [bounded('Closing the dead-letter table', () => deadLetterTable.close())] : []),
      ]);
      state = 'stopped';
      emit('stopped');
    })();
    return stopped;
  };

  const onExternalAbort = () => void stop();
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });

  const bridge: Bridge = {
    async start() {
      if (state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[core] start() called while the bridge is ${state}`);
      if (options.signal?.aborted) throw new BridgeError('ERR_BRIDGE_ABORTED', '[core] The signal was aborted before start()');
      state = 'starting';
      try {
        // Every publisher whose start() was called is stopped on failure, even one still starting.
        const starts = await Promise.allSettled(
          publishers.map((publisher) => {
            startedPublishers.push(publisher);
            return publisher.start({ logger, targets: targetsByPublisher.get(publisher) ?? [], signal: lifetime.signal });
          }),
        );
        const failure = starts.find((result) => result.status === 'rejected');
        if (failure) throw failure.reason;
        for (const source of sources) {
          await source.start(source === notifySource ? notifyContext : context);
          startedSources.push(source);
        }
      } catch (error) {
        await stop({ timeoutMs: 0 });
        throw error;
      }
      if (state !== 'starting') throw new BridgeError('ERR_BRIDGE_ABORTED', '[core] The bridge was stopped while starting');
      state = 'running';
      logger.info({ upstreams: publishers.map((p) => p.name), channels: [...channels], sources: sources.map((s) => s.name) }, '[core] Bridge running');
      emit('started');
    },
    stop,
    stats: () => ({ ...counters, inFlight: engine.inFlight, deadLetterStoreFailing: failingLetters.size > 0, ...(outboxSource && { outbox: outboxSource.stats() }) }),
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return this;
    },
    off(event, listener) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return this;
    },
    once(event, listener) {
      emitter.once(event, listener as (...args: unknown[]) => void);
      return this;
    },
    [Symbol.asyncDispose]: () => stop(),
  };
  return bridge;
}
