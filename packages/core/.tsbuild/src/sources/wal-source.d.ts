import { type RetryOptions } from '../delivery/backoff.js';
import { type WalFilter } from '../rules/parse-wal-filters.js';
import type { Source } from '../source.js';
import { type PostgresInput } from './postgres-connection.js';
/** pg-event-proxy's default slot name, kept for drop-in compatibility. */
export declare const defaultSlotName = "pg_event_proxy";
/** pg-event-proxy's default wal2json parameters. */
export declare const defaultWal2jsonParams = "\"format-version\" '2', \"include-types\" '0'";
/** The prefix of the bridge's own heartbeat messages, never forwarded. */
export declare const heartbeatPrefix = "pg_event_bridge.heartbeat";
/** Options of {@link createWalSource}. */
export interface WalSourceOptions {
    /** A connection string or client config (the role needs REPLICATION), or a pool whose options are reused. */
    readonly postgres: PostgresInput;
    readonly plugin: 'wal2json' | 'pgoutput';
    /** @default 'pg_event_proxy' */
    readonly slot?: string;
    /** Create the slot when it does not exist (never a temporary one). @default true */
    readonly createSlot?: boolean;
    /** The wal2json option list of START_REPLICATION, as pg-event-proxy's WAL2JSON_PARAMS. @default `"format-version" '2', "include-types" '0'` */
    readonly wal2jsonParams?: string;
    /** pgoutput's publication. @default 'pg_event_bridge' */
    readonly publication?: string;
    /** Create the publication `FOR ALL TABLES` when missing. @default true */
    readonly createPublication?: boolean;
    /** Only forward these changes: `customer:insert,billing.invoice`. @default everything */
    readonly filters?: string | readonly WalFilter[];
    /** How often to send the server a status update, in ms. @default 10000 */
    readonly statusIntervalMs?: number;
    /** How often to write a heartbeat into the WAL so an idle database's slot can advance, in ms; 0 disables. @default 30000 */
    readonly heartbeatIntervalMs?: number;
    /** Backoff of reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
    readonly reconnect?: RetryOptions;
    /** @default 'pg-event-bridge' */
    readonly applicationName?: string;
}
/**
 * Streams logical replication from a slot (wal2json or pgoutput) and forwards one event per row
 * change, routing key `<schema>.<table>.<action>`. At-least-once: the slot's flush position moves
 * only to the end of transactions whose every event was accepted or dead-lettered, so after a crash
 * the unconfirmed tail is sent again. Event ids are `<transaction LSN>/<index>`, stable across
 * replays: the commit LSN for pgoutput, the transaction's first LSN for wal2json (whose commit LSN
 * is only known at its end).
 *
 * @example
 * ```ts
 * const source = createWalSource({ postgres: 'postgres://replicator@db/app', plugin: 'pgoutput', filters: 'customer:insert' });
 * ```
 */
export declare function createWalSource(options: WalSourceOptions): Source;
//# sourceMappingURL=wal-source.d.ts.map