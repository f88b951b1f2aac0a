import { BridgeError, redactUri } from '@pg-event-bridge/core';
import type { IClientOptions } from 'mqtt';

/** The MQTT protocol level: `5` (MQTT 5.0) or `4` (MQTT 3.1.1). */
export type MqttProtocolVersion = 4 | 5;

/** The largest MQTT packet the protocol can express (the "remaining length" maximum, ~256 MiB). */
export const MQTT_PROTOCOL_MAX_BYTES = 268_435_455;

/** Options of {@link createMqttPublisher}. */
export interface MqttPublisherOptions {
  /**
   * The broker: `mqtt://`, `tcp://` (pg-event-proxy's spelling), `mqtts://`, `ws://` or `wss://`.
   * Credentials in the URI (`mqtt://user:pass@host`) are used unless `username`/`password` are set.
   * @default 'mqtt://127.0.0.1:1883'
   */
  readonly url?: string;
  /** Overrides the user name of the URI. */
  readonly username?: string;
  /** Overrides the password of the URI. Never logged. */
  readonly password?: string;
  /** `5` for MQTT 5.0 (user properties carry the headers), `4` for MQTT 3.1.1. @default 5 */
  readonly protocolVersion?: MqttProtocolVersion;
  /** The client id. Reused on every reconnection. @default `pg-event-bridge-<random>` */
  readonly clientId?: string;
  /** QoS of every publish. 0: resolves once written to the socket (no acknowledgement); 1: on PUBACK; 2: on PUBCOMP. @default 1 */
  readonly qos?: 0 | 1 | 2;
  /** Sets the MQTT retain flag on every message. @default false */
  readonly retain?: boolean;
  /** Joins the target name and the routing key: `events` + `signup` → `events.signup`. `/` suits MQTT wildcards. @default '.' */
  readonly separator?: string;
  /**
   * The largest body accepted; larger ones fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. The broker's
   * own limit (MQTT 5 CONNACK "maximum packet size") applies on top of it when it is lower.
   * @default 268435455 (the protocol maximum)
   */
  readonly maxPayloadBytes?: number;
  /** How long a connection attempt may take, in ms. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** MQTT keep-alive, in seconds: how fast a silently dead connection is noticed. @default 30 */
  readonly keepaliveSeconds?: number;
  /** How long {@link Publisher.stop} waits for unacknowledged publishes before closing, in ms. @default 5000 */
  readonly stopTimeoutMs?: number;
  /**
   * How long a QoS 1/2 publish may wait for the broker's PUBACK/PUBCOMP, in ms. Past it the
   * connection is dropped, so that publish and every later unacknowledged one fail (retryable)
   * and are resent in order on a new connection: a broker that keeps the connection alive but
   * stops acknowledging cannot hold the stream forever. @default 30000
   */
  readonly ackTimeoutMs?: number;
  /**
   * Extra mqtt.js options (TLS `ca`/`cert`/`key`, `rejectUnauthorized`, websocket options...).
   * `reconnectPeriod`, `clean` and the credentials are managed by the publisher and ignored here.
   */
  readonly clientOptions?: Partial<IClientOptions>;
}

/** Validated options with defaults applied. */
export interface ResolvedMqttOptions {
  readonly url: string;
  readonly redactedUrl: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly protocolVersion: MqttProtocolVersion;
  readonly clientId: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly separator: string;
  readonly maxPayloadBytes: number;
  readonly connectTimeoutMs: number;
  readonly keepaliveSeconds: number;
  readonly stopTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly clientOptions: Partial<IClientOptions>;
}

const schemes = new Set(['mqtt:', 'tcp:', 'mqtts:', 'ssl:', 'tls:', 'ws:', 'wss:']);

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Checks every option and reports all problems in one ERR_BRIDGE_CONFIG error. The URI is only
 * ever shown redacted.
 */
export function resolveMqttOptions(options: MqttPublisherOptions = {}): ResolvedMqttOptions {
  const problems: string[] = [];
  const rawUrl = options.url ?? 'mqtt://127.0.0.1:1883';
  const redactedUrl = redactUri(rawUrl);
  let url = rawUrl;
  let uriUser: string | undefined;
  let uriPassword: string | undefined;
  try {
    const parsed = new URL(rawUrl);
    if (!schemes.has(parsed.protocol)) {
      problems.push(`url must use mqtt://, tcp://, mqtts://, ws:// or wss:// (got "${redactedUrl}")`);
    }
    if (!parsed.hostname) problems.push(`url has no host (got "${redactedUrl}")`);
    uriUser = parsed.username ? decodeURIComponent(parsed.username) : undefined;
    uriPassword = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    // The credentials travel as options, never inside the URL mqtt.js parses and may echo.
    parsed.username = '';
    parsed.password = '';
    url = parsed.toString();
  } catch {
    problems.push(`url is not a valid URI (got "${redactedUrl}")`);
  }
  const protocolVersion = options.protocolVersion ?? 5;
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    problems.push(`protocolVersion must be 5 (MQTT 5) or 4 (MQTT 3.1.1) (got ${JSON.stringify(protocolVersion)})`);
  }
  const qos = options.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) problems.push(`qos must be 0, 1 or 2 (got ${JSON.stringify(qos)})`);
  const retain = options.retain ?? false;
  if (typeof retain !== 'boolean') problems.push(`retain must be a boolean (got ${JSON.stringify(retain)})`);
  const separator = options.separator ?? '.';
  if (typeof separator !== 'string' || separator.length === 0 || /[+#\s]/.test(separator)) {
    problems.push(`separator must be a non-empty string without "+", "#" or whitespace (got ${JSON.stringify(separator)})`);
  }
  const maxPayloadBytes = options.maxPayloadBytes ?? MQTT_PROTOCOL_MAX_BYTES;
  if (!positiveInteger(maxPayloadBytes) || maxPayloadBytes > MQTT_PROTOCOL_MAX_BYTES) {
    problems.push(`maxPayloadBytes must be an integer from 1 to ${MQTT_PROTOCOL_MAX_BYTES} (got ${JSON.stringify(maxPayloadBytes)})`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  if (!positiveInteger(connectTimeoutMs)) problems.push(`connectTimeoutMs must be a positive integer (got ${JSON.stringify(connectTimeoutMs)})`);
  const keepaliveSeconds = options.keepaliveSeconds ?? 30;
  if (!positiveInteger(keepaliveSeconds) || keepaliveSeconds > 65_535) {
    problems.push(`keepaliveSeconds must be an integer from 1 to 65535 (got ${JSON.stringify(keepaliveSeconds)})`);
  }
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  if (!positiveInteger(ackTimeoutMs)) problems.push(`ackTimeoutMs must be a positive integer (got ${JSON.stringify(ackTimeoutMs)})`);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  if (typeof stopTimeoutMs !== 'number' || !Number.isInteger(stopTimeoutMs) || stopTimeoutMs < 0) {
    problems.push(`stopTimeoutMs must be a non-negative integer (got ${JSON.stringify(stopTimeoutMs)})`);
  }
  const clientId = options.clientId ?? `pg-event-bridge-${Math.random().toString(16).slice(2, 10)}`;
  if (typeof clientId !== 'string' || clientId.length === 0 || Buffer.byteLength(clientId) > 65_535) {
    problems.push(`clientId must be a non-empty string (got ${JSON.stringify(clientId)})`);
  }
  if (options.username !== undefined && typeof options.username !== 'string') problems.push('username must be a string');
  if (options.password !== undefined && typeof options.password !== 'string') problems.push('password must be a string (value hidden)');
  if (options.clientOptions !== undefined && (typeof options.clientOptions !== 'object' || options.clientOptions === null)) {
    problems.push('clientOptions must be an object of mqtt.js options');
  }
  if (problems.length > 0) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[mqtt] Invalid options: ${problems.join('; ')}`);
  }
  return Object.freeze({
    url,
    redactedUrl,
    username: options.username ?? uriUser,
    password: options.password ?? uriPassword,
    protocolVersion,
    clientId,
    qos,
    retain,
    separator,
    maxPayloadBytes,
    connectTimeoutMs,
    keepaliveSeconds,
    stopTimeoutMs,
    ackTimeoutMs,
    clientOptions: options.clientOptions ?? {},
  });
}

/**
 * The MQTT topic of a message: `<name><separator><key>`, or `<name>` when the key is empty.
 *
 * @example
 * ```ts
 * mqttTopic('events', 'signup', '/'); // 'events/signup'
 * ```
 */
export function mqttTopic(name: string, routingKey: string, separator = '.'): string {
  return routingKey === '' ? name : `${name}${separator}${routingKey}`;
}
