import { BridgeError, redactUri } from '@pg-event-bridge/core';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';

/** The NATS server's default `max_payload` (1 MiB). */
export const NATS_DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Options of {@link createNatsPublisher}. Give `url` or `connection`, not both. */
export interface NatsPublisherOptions {
  /**
   * `nats://[user:pass@]host:4222` (or `tls://`); several servers separated by commas. Credentials
   * in the URI are used unless `connectionOptions` sets `user`/`pass`/`token`.
   * @default 'nats://127.0.0.1:4222'
   */
  readonly url?: string;
  /** Extra options of `connect()` from `@nats-io/transport-node` (`token`, `tls`, `authenticator`, `name`...). */
  readonly connectionOptions?: Partial<NodeConnectionOptions>;
  /**
   * Reuse the application's connection. The publisher never closes it, and the connection's own
   * reconnect settings apply (see README on ordering across reconnects).
   */
  readonly connection?: NatsConnection;
  /** How long to wait for the stream's PubAck, in ms. A timeout is a retryable failure. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** How long a connection attempt may take, in ms. @default 10000 */
  readonly connectTimeoutMs?: number;
  /**
   * The largest body accepted; larger ones fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. The server's
   * `max_payload` (headers included) applies on top of it when lower.
   * @default 1048576 (the server's default max_payload)
   */
  readonly maxPayloadBytes?: number;
  /** At start(), check that a JetStream stream captures every `subject:` target (ERR_BRIDGE_TARGET_MISSING otherwise). @default true */
  readonly checkTargets?: boolean;
  /** How long {@link Publisher.stop} waits for unacknowledged publishes before closing, in ms. @default 5000 */
  readonly stopTimeoutMs?: number;
}

/** Validated options with defaults applied. */
export interface ResolvedNatsOptions {
  readonly servers: string[];
  readonly redactedUrl: string;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly tls: boolean;
  readonly connectionOptions: Partial<NodeConnectionOptions>;
  readonly connection: NatsConnection | undefined;
  readonly publishTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly checkTargets: boolean;
  readonly stopTimeoutMs: number;
}

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Checks every option and reports all problems in one ERR_BRIDGE_CONFIG error (URIs redacted). */
export function resolveNatsOptions(options: NatsPublisherOptions = {}): ResolvedNatsOptions {
  const problems: string[] = [];
  if (options.url !== undefined && options.connection !== undefined) problems.push('give url or connection, not both');
  const url = options.url ?? 'nats://127.0.0.1:4222';
  const redactedUrl = options.connection ? '<connection given>' : url.split(',').map((s) => redactUri(s.trim())).join(',');
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let tls = false;
  if (!options.connection) {
    for (const raw of url.split(',').map((s) => s.trim())) {
      const shown = redactUri(raw);
      try {
        const parsed = new URL(raw);
        if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
          problems.push(`url must use nats:// or tls:// (got "${shown}")`);
          continue;
        }
        if (!parsed.hostname) {
          problems.push(`url has no host (got "${shown}")`);
          continue;
        }
        if (parsed.protocol === 'tls:') tls = true;
        if (parsed.username) user ??= decodeURIComponent(parsed.username);
        if (parsed.password) pass ??= decodeURIComponent(parsed.password);
        servers.push(`${parsed.hostname.includes(':') ? `[${parsed.hostname}]` : parsed.hostname}:${parsed.port || '4222'}`);
      } catch {
        problems.push(`url is not a valid URI (got "${shown}")`);
      }
    }
  } else if (typeof options.connection !== 'object' || options.connection === null || typeof options.connection.request !== 'function') {
    problems.push('connection must be a NatsConnection from @nats-io/transport-node');
  }
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  if (!positiveInteger(publishTimeoutMs)) problems.push(`publishTimeoutMs must be a positive integer (got ${JSON.stringify(publishTimeoutMs)})`);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  if (!positiveInteger(connectTimeoutMs)) problems.push(`connectTimeoutMs must be a positive integer (got ${JSON.stringify(connectTimeoutMs)})`);
  const maxPayloadBytes = options.maxPayloadBytes ?? NATS_DEFAULT_MAX_PAYLOAD_BYTES;
  if (!positiveInteger(maxPayloadBytes)) problems.push(`maxPayloadBytes must be a positive integer (got ${JSON.stringify(maxPayloadBytes)})`);
  const checkTargets = options.checkTargets ?? true;
  if (typeof checkTargets !== 'boolean') problems.push(`checkTargets must be a boolean (got ${JSON.stringify(checkTargets)})`);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  if (typeof stopTimeoutMs !== 'number' || !Number.isInteger(stopTimeoutMs) || stopTimeoutMs < 0) {
    problems.push(`stopTimeoutMs must be a non-negative integer (got ${JSON.stringify(stopTimeoutMs)})`);
  }
  if (options.connectionOptions !== undefined && (typeof options.connectionOptions !== 'object' || options.connectionOptions === null)) {
    problems.push('connectionOptions must be an object of NATS connect() options');
  }
  if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `[nats] Invalid options: ${problems.join('; ')}`);
  return Object.freeze({
    servers,
    redactedUrl,
    user,
    pass,
    tls,
    connectionOptions: options.connectionOptions ?? {},
    connection: options.connection,
    publishTimeoutMs,
    connectTimeoutMs,
    maxPayloadBytes,
    checkTargets,
    stopTimeoutMs,
  });
}

/**
 * The NATS subject of a message: `<name>.<key>`, or `<name>` when the key is empty.
 *
 * @example
 * ```ts
 * natsSubject('events', 'signup'); // 'events.signup'
 * ```
 */
export function natsSubject(name: string, routingKey: string): string {
  return routingKey === '' ? name : `${name}.${routingKey}`;
}
