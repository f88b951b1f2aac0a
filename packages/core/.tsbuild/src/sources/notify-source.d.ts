import { type RetryOptions } from '../delivery/backoff.js';
import type { Source } from '../source.js';
import { type PostgresInput } from './postgres-connection.js';
/** Options of {@link createNotifySource}. */
export interface NotifySourceOptions {
    readonly postgres: PostgresInput;
    /** Channels to LISTEN on, case-sensitive (they are quoted). */
    readonly channels: readonly string[];
    /** Backoff between reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
    readonly reconnect?: RetryOptions;
    /** How often an idle connection is checked with `SELECT 1`, in ms; 0 disables. @default 15000 */
    readonly healthCheckIntervalMs?: number;
    /** How long the check may take before the connection is considered dead, in ms. @default 10000 */
    readonly healthCheckTimeoutMs?: number;
    /** @default 'pg-event-bridge' */
    readonly applicationName?: string;
}
/**
 * LISTENs on the rule channels over one dedicated connection and turns each notification into an
 * event (`key|body` split by {@link splitRouting}). Plain NOTIFY is at-most-once: when the
 * connection drops, the source reconnects forever with capped, jittered backoff, LISTENs again and
 * reports a `gap` covering the window in which notifications were lost. While the delivery engine
 * is full it stops reading the socket, so Postgres buffers instead of the bridge.
 *
 * @example
 * ```ts
 * const source = createNotifySource({ postgres: 'postgres://localhost/app', channels: ['events'] });
 * ```
 */
export declare function createNotifySource(options: NotifySourceOptions): Source;
//# sourceMappingURL=notify-source.d.ts.map