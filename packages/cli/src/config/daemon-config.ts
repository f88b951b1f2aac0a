import type { Rule } from '@pg-event-bridge/core';

/** The `[database]` section: where events come from. */
export interface DatabaseConfig {
  /** PostgreSQL connection URI, as written (redact it before showing it). */
  readonly uri: string;
  /** Logical replication slot used by `wal2json` / `pgoutput` rules. @default 'pg_event_proxy' */
  readonly replicationSlot: string;
  /** Option list of `START_REPLICATION` for wal2json. @default `"format-version" '2', "include-types" '0'` */
  readonly wal2jsonParams: string;
  /** `table[:action]` list of the WAL changes to forward, checked; all when absent. */
  readonly walFilters?: string;
  /** Publication of pgoutput rules. @default core's, 'pg_event_bridge' */
  readonly publication?: string;
  /** Install or upgrade the `events` schema at start. @default true */
  readonly installSchema: boolean;
  /** How often the managed publication is refreshed, in ms (0: only at connect). @default core's */
  readonly publicationRefreshMs?: number;
  /** Logical message prefixes to forward. @default none */
  readonly walMessagePrefixes?: readonly string[];
  /** Receive deadline of the replication stream, in ms. @default core's */
  readonly walReceiveTimeoutMs?: number;
  /** How long outbox rows wait behind an open transaction with a lower id, in ms. @default core's */
  readonly outboxOrderWaitMs?: number;
}

/** One `[upstream.NAME]` section (generation 1: the single upstream `local`). */
export interface UpstreamSection {
  /** The section name as written (`myamqp`), or `local` for generation-1 variables. */
  readonly name: string;
  /** The canonical kind (`awssns` when the user wrote `sns`). */
  readonly kind: string;
  readonly uri: string;
  /** `bridge_channels` as written. */
  readonly bridgeChannels: string;
  /** `bridge_channels`, parsed and checked against the kind's target kinds. */
  readonly rules: readonly Rule[];
  /** Every other key of the section, lower-cased, handed to the upstream definition. */
  readonly settings: Readonly<Record<string, string>>;
}

/** The `[bridge]` section: pg-event-bridge's own additions to pg-event-proxy's scheme. */
export interface BridgeSettings {
  /** How long SIGTERM waits for in-flight messages before cancelling them. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /** Messages in flight per target before Postgres reads pause. @default core's default */
  readonly maxInFlight?: number;
  /** Body bytes in flight per target before Postgres reads pause. @default core's default */
  readonly maxInFlightBytes?: number;
  /** Port of the metrics, health and status server; absent when off (`0` or unset). */
  readonly metricsPort?: number;
  /** Address the metrics server listens on. @default '127.0.0.1' */
  readonly metricsHost: string;
  /** Bearer token required by the metrics server for everything but /healthz and /readyz. */
  readonly metricsToken?: string;
  /** A file holding that token (read at start; for container secrets). */
  readonly metricsTokenFile?: string;
  /** Key names (any section) whose values are secrets besides the built-in ones, lower-case. */
  readonly secretKeys: readonly string[];
  /** Run only while holding the leader advisory lock. @default true */
  readonly leaderLock: boolean;
  /** The advisory lock key; absent means derived from the slot and the rules. */
  readonly leaderLockKey?: bigint;
  /** Standby poll and leader check interval. @default 1000 */
  readonly leaderPollIntervalMs: number;
}

/** The validated, frozen configuration of the daemon. */
export interface DaemonConfig {
  readonly database: DatabaseConfig;
  readonly upstreams: readonly UpstreamSection[];
  readonly bridge: BridgeSettings;
  /** pino level from `LOG_LEVEL` (or `RUST_LOG`). @default 'info' */
  readonly logLevel: string;
  /**
   * Where each value came from, keyed `database.uri`, `upstream.NAME.uri`, `bridge.KEY`,
   * `log_level`: the variable name or `FILE [section] key`. Absent for defaults.
   */
  readonly origins: Readonly<Record<string, string>>;
  /** Values that must never be printed (passwords, tokens), for output redaction. */
  readonly secrets: readonly string[];
}
