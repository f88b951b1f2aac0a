import { BridgeError, redactUri } from '@pg-event-bridge/core';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** Redis's own limit on one string argument (`proto-max-bulk-len`, 512 MiB by default). */
export const REDIS_MAX_BULK_BYTES = 512 * 1024 * 1024;

/** An ioredis client the application already has: a single node (or Sentinel) client or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Options of {@link createRedisPublisher}. Give at most one of `url`, `client`, `cluster`. */
export interface RedisPublisherOptions {
  /**
   * `redis://[user:pass@]host[:port][/db]` or `rediss://` (TLS).
   * @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string;
  /**
   * ioredis options merged over the URL's: `sentinels` + `name` for Sentinel, `tls`, `password`,
   * `db`, `connectTimeout`... Reconnection options are managed by the publisher (see README).
   */
  readonly redisOptions?: RedisOptions;
  /** Connect to a Redis Cluster instead: its seed nodes and ioredis Cluster options. */
  readonly cluster?: { readonly nodes: readonly ClusterNode[]; readonly options?: ClusterOptions };
  /**
   * Reuse the application's ioredis client. The publisher neither connects (unless it was created
   * with `lazyConnect`) nor closes it, and its own reconnection settings apply.
   */
  readonly client?: RedisClient;
  /** Joins target name and routing key for `topic:` (pub/sub) channels: `events` + `signup` → `events.signup`. @default '.' */
  readonly separator?: string;
  /** Caps every `stream:` target with `XADD ... MAXLEN ~ <n>` (approximate trimming). @default no trimming */
  readonly streamMaxLen?: number;
  /** The largest body accepted; larger ones fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. @default 536870912 (512 MiB, Redis's proto-max-bulk-len) */
  readonly maxPayloadBytes?: number;
  /** Batch the commands of one event-loop tick into one round trip (ioredis auto-pipelining). @default true */
  readonly autoPipelining?: boolean;
  /** How long {@link Publisher.stop} waits for unanswered commands before closing, in ms. @default 5000 */
  readonly stopTimeoutMs?: number;
  /**
   * How long one command may wait for its reply, in ms. Past it the publish fails (retryable) and
   * the connection is dropped, so a Redis that stopped answering fails publishes instead of
   * hanging them. Overrides `redisOptions.commandTimeout`; for a cluster, applies unless
   * `cluster.options.redisOptions.commandTimeout` is set. @default 5000
   */
  readonly commandTimeoutMs?: number;
}

/** Validated options with defaults applied. */
export interface ResolvedRedisOptions {
  readonly url: string | undefined;
  readonly redactedUrl: string;
  readonly redisOptions: RedisOptions;
  readonly cluster: { readonly nodes: readonly ClusterNode[]; readonly options?: ClusterOptions } | undefined;
  readonly client: RedisClient | undefined;
  readonly separator: string;
  readonly streamMaxLen: number | undefined;
  readonly maxPayloadBytes: number;
  readonly autoPipelining: boolean;
  readonly stopTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Checks every option and reports all problems in one ERR_BRIDGE_CONFIG error (URIs redacted). */
export function resolveRedisOptions(options: RedisPublisherOptions = {}): ResolvedRedisOptions {
  const problems: string[] = [];
  const sources = [options.url !== undefined && 'url', options.client !== undefined && 'client', options.cluster !== undefined && 'cluster'].filter(Boolean);
  if (sources.length > 1) problems.push(`give only one of url, client and cluster (got ${sources.join(', ')})`);
  let url: string | undefined;
  let redactedUrl = 'redis://127.0.0.1:6379';
  if (options.client === undefined && options.cluster === undefined) {
    url = options.url ?? 'redis://127.0.0.1:6379';
    redactedUrl = redactUri(url);
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') problems.push(`url must use redis:// or rediss:// (got "${redactedUrl}")`);
      else if (!parsed.hostname) problems.push(`url has no host (got "${redactedUrl}")`);
    } catch {
      problems.push(`url is not a valid URI (got "${redactedUrl}")`);
    }
  } else if (options.client !== undefined) {
    redactedUrl = '<client given>';
    if (typeof options.client !== 'object' || options.client === null || typeof (options.client as { publish?: unknown }).publish !== 'function') {
      problems.push('client must be an ioredis Redis or Cluster instance');
    }
  } else {
    const nodes = options.cluster?.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0) problems.push('cluster.nodes must list at least one seed node');
    redactedUrl = `cluster(${Array.isArray(nodes) ? nodes.map((n) => (typeof n === 'string' ? redactUri(n.includes('://') ? n : `redis://${n}`) : typeof n === 'number' ? String(n) : `${n.host ?? ''}:${n.port ?? ''}`)).join(',') : ''})`;
  }
  const separator = options.separator ?? '.';
  if (typeof separator !== 'string' || separator.length === 0) problems.push(`separator must be a non-empty string (got ${JSON.stringify(separator)})`);
  if (options.streamMaxLen !== undefined && !positiveInteger(options.streamMaxLen)) {
    problems.push(`streamMaxLen must be a positive integer (got ${JSON.stringify(options.streamMaxLen)})`);
  }
  const maxPayloadBytes = options.maxPayloadBytes ?? REDIS_MAX_BULK_BYTES;
  if (!positiveInteger(maxPayloadBytes) || maxPayloadBytes > REDIS_MAX_BULK_BYTES) {
    problems.push(`maxPayloadBytes must be an integer from 1 to ${REDIS_MAX_BULK_BYTES} (got ${JSON.stringify(maxPayloadBytes)})`);
  }
  const autoPipelining = options.autoPipelining ?? true;
  if (typeof autoPipelining !== 'boolean') problems.push(`autoPipelining must be a boolean (got ${JSON.stringify(autoPipelining)})`);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  if (typeof stopTimeoutMs !== 'number' || !Number.isInteger(stopTimeoutMs) || stopTimeoutMs < 0) {
    problems.push(`stopTimeoutMs must be a non-negative integer (got ${JSON.stringify(stopTimeoutMs)})`);
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
  if (!positiveInteger(commandTimeoutMs)) problems.push(`commandTimeoutMs must be a positive integer (got ${JSON.stringify(commandTimeoutMs)})`);
  if (options.redisOptions !== undefined && (typeof options.redisOptions !== 'object' || options.redisOptions === null)) {
    problems.push('redisOptions must be an object of ioredis options');
  }
  if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `[redis] Invalid options: ${problems.join('; ')}`);
  return Object.freeze({
    url,
    redactedUrl,
    redisOptions: options.redisOptions ?? {},
    cluster: options.cluster,
    client: options.client,
    separator,
    streamMaxLen: options.streamMaxLen,
    maxPayloadBytes,
    autoPipelining,
    stopTimeoutMs,
    commandTimeoutMs,
  });
}

/**
 * The pub/sub channel of a message: `<name><separator><key>`, or `<name>` when the key is empty.
 *
 * @example
 * ```ts
 * redisChannel('events', 'signup'); // 'events.signup'
 * ```
 */
export function redisChannel(name: string, routingKey: string, separator = '.'): string {
  return routingKey === '' ? name : `${name}${separator}${routingKey}`;
}

/**
 * The XADD field/value pairs of a message on a `stream:` target: `body` (the bytes, unchanged),
 * `routing_key`, `event_id`, `channel` (the Postgres source) and `headers` (a JSON object of
 * `event.headers`, `{}` when none), plus `content_type` when the event has one.
 */
export function redisStreamFields(event: { id: string; source: string; routingKey: string; body: Buffer; contentType?: string; headers?: Readonly<Record<string, string>> }): Array<string | Buffer> {
  const fields: Array<string | Buffer> = [
    'body',
    event.body,
    'routing_key',
    event.routingKey,
    'event_id',
    event.id,
    'channel',
    event.source,
    'headers',
    JSON.stringify(event.headers ?? {}),
  ];
  if (event.contentType) fields.push('content_type', event.contentType);
  return fields;
}
