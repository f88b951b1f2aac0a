import { BridgeError } from './errors.js';
import { type Logger } from './logger.js';
import type { Publisher, Target } from './publisher.js';
import { type Rule } from './rules/parse-rules.js';
import type { BridgeEvent, Source, SourceReport } from './source.js';
import { type DeliveryOptions } from './delivery/delivery-engine.js';
import type { DeadLetter } from './delivery/target-dispatcher.js';
import { type NotifySourceOptions } from './sources/notify-source.js';
import type { PostgresInput } from './sources/postgres-connection.js';
import { type WalSourceOptions } from './sources/wal-source.js';
/** One upstream and the rules that feed it. */
export interface UpstreamBinding {
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
     * retried with backoff while that target waits. @default logs it at error level
     */
    readonly deadLetter?: (letter: DeadLetter) => Promise<void>;
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
}
/** The events a bridge emits. None is named `error`, so a missing listener never crashes. */
export interface BridgeEvents {
    published: [info: {
        event: BridgeEvent;
        upstream: string;
        target: Target;
        attempts: number;
        latencyMs: number;
    }];
    retrying: [info: {
        event: BridgeEvent;
        upstream: string;
        target: Target;
        attempt: number;
        delayMs: number;
        error: BridgeError;
    }];
    'dead-lettered': [letter: DeadLetter];
    connected: [report: Extract<SourceReport, {
        type: 'connected';
    }>];
    disconnected: [report: Extract<SourceReport, {
        type: 'disconnected';
    }>];
    gap: [report: Extract<SourceReport, {
        type: 'gap';
    }>];
    /** A source gave up and needs attention; the daemon exits non-zero on it. */
    failed: [report: Extract<SourceReport, {
        type: 'failed';
    }>];
    started: [];
    stopped: [];
}
/** Options of {@link Bridge.stop}. */
export interface StopOptions {
    /** How long to wait for in-flight messages before cancelling them. @default 10000 */
    readonly timeoutMs?: number;
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
export declare function createBridge(options: BridgeOptions): Bridge;
//# sourceMappingURL=bridge.d.ts.map