import { defaultSlotName, defaultWal2jsonParams } from '@pg-event-bridge/core';

/** One key of the configuration scheme, documented once for `--help`, README and errors. */
export interface KeySpec {
  /** The ini key, lower-case (`replication_slot`). */
  readonly key: string;
  readonly description: string;
  /** Shown in `--help`. */
  readonly default?: string;
  readonly required?: boolean;
  /** The pg-event-proxy generation-1 variable for the same value, if there is one. */
  readonly gen1?: string;
}

/** Prefix of every variable the daemon reads besides `LOG_LEVEL` and `RUST_LOG`. */
export const envPrefix = 'PGPROXY_';

/** Generation 1 names every upstream key `PGPROXY_LOCAL-UPSTREAM_CONFIG-<KEY>`. */
export const gen1UpstreamPrefix = 'PGPROXY_LOCAL-UPSTREAM_CONFIG-';

/** The upstream name generation-1 variables configure. */
export const gen1UpstreamName = 'local';


/** `[database]`: the source database. */
export const databaseKeys: readonly KeySpec[] = [
  {
    key: 'uri',
    required: true,
    gen1: 'PGPROXY_LOCAL-POSTGRESQL_URI',
    description: 'PostgreSQL connection URI: postgres://user:pass@host:5432/db',
  },
  {
    key: 'replication_slot',
    default: defaultSlotName,
    gen1: 'PGPROXY_LOCAL-REPLICATION_SLOT',
    description: 'Logical replication slot of wal2json/pgoutput rules (lower-case letters, digits, _; created when missing)',
  },
  {
    key: 'wal2json_params',
    default: defaultWal2jsonParams,
    gen1: 'PGPROXY_LOCAL-WAL2JSON_PARAMS',
    description: 'wal2json options of START_REPLICATION, as pg-event-proxy takes them (\\" is read as ")',
  },
  {
    key: 'wal_filters',
    description: 'Only forward these WAL changes: table[:action], comma-separated (customer:insert, billing.invoice); all when unset',
  },
  {
    key: 'publication',
    default: 'pg_event_bridge',
    description: 'Publication of pgoutput rules; when missing the bridge creates it listing the tables that have a replica identity (outside the events schema) and keeps the list current. One you created is used as it is',
  },
  {
    key: 'publication_refresh_interval',
    default: '30s',
    description: 'How often the bridge brings the publication it manages up to date with new tables (0 for only at connect)',
  },
  {
    key: 'wal_message_prefixes',
    description: 'Forward logical messages (pg_logical_emit_message, which any role may call) with these prefixes, comma-separated, as message.<prefix>; none when unset',
  },
  {
    key: 'wal_receive_timeout',
    default: '20s',
    description: 'How long the replication stream may stay silent before the connection counts as dead and is reopened (a keepalive is asked for at half of it)',
  },
  {
    key: 'outbox_order_wait',
    default: '10s',
    description: 'How long outbox rows wait behind a transaction that took a lower id and is still open, to leave in id order; after it they go, and the late row follows (logged)',
  },
  {
    key: 'install_schema',
    default: 'on',
    description: 'At start, install or upgrade the events schema (outbox, dead letters, send_message, on_row_change); off when an owner applies pg-event-bridge install-sql --print',
  },
];

/** `[upstream.NAME]`: keys every kind has. Kind-specific keys come from its definition. */
export const upstreamKeys: readonly KeySpec[] = [
  { key: 'kind', required: true, gen1: 'PGPROXY_LOCAL-UPSTREAM', description: 'Which broker: see "Upstream kinds"' },
  {
    key: 'uri',
    required: true,
    gen1: `${gen1UpstreamPrefix}URI`,
    description: 'Broker URI: amqp://user:pass@host//, mqtt://host:1883, redis://host, aws://us-east-1...',
  },
  {
    key: 'bridge_channels',
    required: true,
    gen1: `${gen1UpstreamPrefix}BRIDGE_CHANNELS`,
    description: 'Rules "source->kind:target, ...", e.g. events->exchange:amq.topic, wal2json->queue:changes',
  },
];

/** `[bridge]`: pg-event-bridge's own keys, absent from pg-event-proxy. */
export const bridgeKeys: readonly KeySpec[] = [
  {
    key: 'shutdown_timeout',
    default: '10s',
    description: 'On SIGTERM/SIGINT, how long to wait for in-flight messages (500ms, 10s, 1m; a bare number is seconds)',
  },
  { key: 'max_in_flight', default: '1000', description: 'Messages queued or awaiting the broker per target before reading pauses' },
  { key: 'max_in_flight_bytes', default: '16777216', description: 'Body bytes queued or awaiting the broker per target before reading pauses' },
  {
    key: 'metrics_port',
    default: '0 (off)',
    description: 'Port of the HTTP server for /metrics (Prometheus), /healthz, /readyz, /status.json and the status page at /',
  },
  { key: 'metrics_host', default: '127.0.0.1', description: 'Address that server listens on (0.0.0.0 for every interface, e.g. in a container)' },
  {
    key: 'metrics_token',
    description: 'Bearer token the metrics server requires for /metrics, /status.json and the status page (/healthz, /readyz stay open and show no detail); at least 16 characters',
  },
  { key: 'metrics_token_file', description: 'A file holding metrics_token (a container secret); read at start, trailing newline ignored' },
  {
    key: 'secret_keys',
    description: 'More key names whose values are secrets, never printed (comma-separated); keys named like pass, secret, token, auth, credential, private, api_key are secrets already',
  },
  {
    key: 'leader_lock',
    default: 'on',
    description: 'High availability: only the daemon holding a Postgres advisory lock runs the bridge; others with the same configuration wait as standbys (on/off)',
  },
  {
    key: 'leader_lock_key',
    default: 'derived from the slot and the rules',
    description: 'The advisory lock key, a signed 64-bit integer; daemons with the same key form one leader group',
  },
  { key: 'leader_poll_interval', default: '1s', description: 'How often a standby tries to take the lock, and the leader checks its lock connection' },
];

/** Variables outside the `PGPROXY_` scheme. */
export const loggingKeys: readonly KeySpec[] = [
  { key: 'LOG_LEVEL', default: 'info', description: 'trace, debug (logs every forwarded message), info, warn, error, fatal or silent' },
  { key: 'RUST_LOG', description: 'Read when LOG_LEVEL is unset, for pg-event-proxy setups: pg_event_proxy=debug means debug' },
];

/** Section names of the scheme. */
export type SectionKind = 'database' | 'bridge';

/** `PGPROXY_DATABASE-URI` for (`database`, `uri`). */
export function sectionEnvName(section: SectionKind, key: string): string {
  return `${envPrefix}${section.toUpperCase()}-${key.toUpperCase()}`;
}

/** `PGPROXY_UPSTREAM-MYAMQP-URI` for (`myamqp`, `uri`). */
export function upstreamEnvName(name: string, key: string): string {
  return `${envPrefix}UPSTREAM-${name.toUpperCase()}-${key.toUpperCase()}`;
}
