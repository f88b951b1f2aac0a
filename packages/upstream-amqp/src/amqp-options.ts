import type { ChannelModel, Options } from 'amqplib';
import type { ConnectionOptions } from 'node:tls';
import { BridgeError, redactUri } from '@pg-event-bridge/core';

/** AMQP delivery mode: 1 / `non-persistent` (RAM), 2 / `persistent` (disk, on durable queues). */
export type AmqpDeliveryMode = 1 | 2 | 'non-persistent' | 'persistent';

/** Options of {@link createAmqpPublisher}. Give exactly one of `url` and `connection`. */
export interface AmqpPublisherOptions {
  /**
   * `amqp://user:password@host:5672/vhost`, or `amqps://` for TLS (port 5671 by default). The
   * vhost is the percent-encoded path after the first `/`: `amqp://host//`, `amqp://host/%2F` and
   * `amqp://host` all mean vhost `/`. Query parameters `heartbeat` (s), `connection_timeout` (ms),
   * `frame_max` and `channel_max` are understood; the options below take precedence.
   */
  readonly url?: string;
  /**
   * An open amqplib connection (`await amqplib.connect(...)`) to share with the application. The
   * publisher opens its own confirm channel on it and never closes the connection; if the
   * connection dies, publishes fail (retryably) until the application's connection works again.
   */
  readonly connection?: ChannelModel;
  /** Delivery mode of every message. @default 1 */
  readonly deliveryMode?: AmqpDeliveryMode;
  /**
   * Publish with `mandatory`, so a message no queue receives fails with ERR_BRIDGE_UNROUTABLE
   * instead of vanishing. `false` lets the broker drop it, as pg-amqp-bridge did.
   * @default true
   */
  readonly mandatory?: boolean;
  /** Larger bodies fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE (RabbitMQ 4 refuses over 16 MiB by default). @default 16777216 */
  readonly maxPayloadBytes?: number;
  /** TLS socket options for `amqps://` (`ca`, `cert`, `key`, `servername`...). */
  readonly tls?: ConnectionOptions;
  /** Heartbeat period; a silent broker is detected after about two periods. 0 disables. @default 30 */
  readonly heartbeatSeconds?: number;
  /** Gives up connecting (TCP, TLS and AMQP handshake) after this long. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** How long `stop()` waits for unconfirmed messages, then for the connection to close. @default 5000 */
  readonly stopTimeoutMs?: number;
  /**
   * How long a message may wait for its publisher confirm. Past it the channel (and a connection
   * the publisher opened) is dropped, that message and every later unconfirmed one fail
   * (retryable) and are resent in order: a broker that keeps heartbeating but stops confirming
   * cannot hold the stream forever. @default 30000
   */
  readonly confirmTimeoutMs?: number;
}

/** Validated options with defaults applied. */
export interface ResolvedAmqpOptions {
  /** What amqplib's `connect()` gets, when the publisher opens its own connection. */
  readonly connect?: { readonly url: Options.Connect & { channelMax?: number }; readonly socket: Readonly<Record<string, unknown>> };
  readonly connection?: ChannelModel;
  /** The URL with its password hidden (or a placeholder), for logs and errors. */
  readonly display: string;
  readonly deliveryMode: 1 | 2;
  readonly mandatory: boolean;
  readonly maxPayloadBytes: number;
  readonly stopTimeoutMs: number;
  readonly confirmTimeoutMs: number;
}

/** How {@link resolveAmqpOptions} words its error (the daemon names its ini keys instead of options). */
export interface AmqpOptionNaming {
  /** Name shown for each option. @default the option's own name */
  readonly labels?: Partial<Record<keyof AmqpPublisherOptions, string>>;
  /** First line of the error. @default '[amqp] Invalid options' */
  readonly context?: string;
  /** Problems found by the caller already, reported together with these. */
  readonly problems?: readonly string[];
}

const knownOptions = ['url', 'connection', 'deliveryMode', 'mandatory', 'maxPayloadBytes', 'tls', 'heartbeatSeconds', 'connectTimeoutMs', 'stopTimeoutMs', 'confirmTimeoutMs'];
const queryParameters = ['heartbeat', 'connection_timeout', 'frame_max', 'channel_max'];
// RabbitMQ's hard ceiling for max_message_size.
const brokerMaxBytes = 512 * 1024 * 1024;

/**
 * Checks every option and applies defaults. Throws one BridgeError ERR_BRIDGE_CONFIG listing every
 * problem, each naming the option, its value (URLs redacted) and what to do.
 */
export function resolveAmqpOptions(options: AmqpPublisherOptions, naming: AmqpOptionNaming = {}): ResolvedAmqpOptions {
  const { labels = {}, context = '[amqp] Invalid options' } = naming;
  const problems = [...(naming.problems ?? [])];
  const label = (key: keyof AmqpPublisherOptions) => labels[key] ?? key;
  const problem = (key: keyof AmqpPublisherOptions, value: unknown, what: string) => problems.push(`${label(key)} ${show(value)} ${what}`);
  const int = <T>(key: keyof AmqpPublisherOptions, fallback: T, min: number, max: number): number | T => {
    const value = options[key];
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    problem(key, value, `is not a whole number from ${min} to ${max}`);
    return fallback;
  };

  if (typeof options !== 'object' || options === null) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `${context}: expected an options object such as { url: 'amqp://guest:guest@localhost//' }, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.includes(key)) problems.push(`unknown option ${JSON.stringify(key)}; known options: ${knownOptions.join(', ')}`);
  }

  let deliveryMode: 1 | 2 = 1;
  const mode = options.deliveryMode;
  if (mode === 2 || mode === 'persistent') deliveryMode = 2;
  else if (mode !== undefined && mode !== 1 && mode !== 'non-persistent') {
    problem('deliveryMode', mode, 'is not a delivery mode; use 1 (or "non-persistent") or 2 (or "persistent")');
  }
  if (options.mandatory !== undefined && typeof options.mandatory !== 'boolean') problem('mandatory', options.mandatory, 'is not true or false');
  const maxPayloadBytes = int('maxPayloadBytes', 16 * 1024 * 1024, 1, brokerMaxBytes);
  const stopTimeoutMs = int('stopTimeoutMs', 5000, 0, 3_600_000);
  const confirmTimeoutMs = int('confirmTimeoutMs', 30_000, 1, 3_600_000);
  const heartbeatSeconds = int('heartbeatSeconds', undefined, 0, 65_535);
  const connectTimeoutMs = int('connectTimeoutMs', undefined, 1, 3_600_000);

  let connect: ResolvedAmqpOptions['connect'];
  let display = '<application connection>';
  const { url, connection } = options;
  if (url !== undefined && connection !== undefined) {
    problems.push(`${label('url')} and ${label('connection')} are both set; give only one`);
  } else if (connection !== undefined) {
    if (typeof (connection as Partial<ChannelModel> | null)?.createConfirmChannel !== 'function') {
      problem('connection', connection, 'is not an amqplib connection; pass what `await amqplib.connect(url)` returns');
    }
    for (const key of ['tls', 'heartbeatSeconds', 'connectTimeoutMs'] as const) {
      if (options[key] !== undefined) problems.push(`${label(key)} applies only to connections opened from ${label('url')}; configure it on the connection you pass`);
    }
  } else if (typeof url !== 'string') {
    problems.push(
      url === undefined
        ? `${label('url')} is missing; give the broker URL, e.g. amqp://user:password@rabbitmq:5672//`
        : `${label('url')} ${show(url)} is not a string; give the broker URL, e.g. amqp://user:password@rabbitmq:5672//`,
    );
  } else {
    display = redactUri(url);
    const parsed = parseUrl(url, (what) => problem('url', url, what));
    if (parsed) {
      const { connectUrl, query } = parsed;
      if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) problem('tls', options.tls, 'is not an object of TLS socket options');
      else if (options.tls !== undefined && connectUrl.protocol !== 'amqps') {
        problems.push(`${label('tls')} is set but ${label('url')} ${show(url)} does not use amqps://; use amqps:// or drop ${label('tls')}`);
      }
      const heartbeat = heartbeatSeconds ?? query.heartbeat ?? 30;
      const timeout = connectTimeoutMs ?? query.connection_timeout ?? 10_000;
      connect = {
        url: { ...connectUrl, heartbeat, frameMax: query.frame_max, channelMax: query.channel_max },
        socket: { ...options.tls, timeout, noDelay: true, clientProperties: { connection_name: 'pg-event-bridge' } },
      };
    }
  }

  if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `${context}:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze({ connect, connection, display, deliveryMode, mandatory: options.mandatory ?? true, maxPayloadBytes, stopTimeoutMs, confirmTimeoutMs });
}

/** Splits an AMQP URL into amqplib's connect fields; reports problems instead of throwing. */
function parseUrl(url: string, problem: (what: string) => void): { connectUrl: Options.Connect; query: Record<string, number> } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problem('is not a valid URL; write amqp://user:password@host:5672/vhost');
    return undefined;
  }
  const protocol = parsed.protocol.slice(0, -1);
  if (protocol !== 'amqp' && protocol !== 'amqps') {
    problem(`uses ${parsed.protocol}//; use amqp:// or amqps://`);
    return undefined;
  }
  if (parsed.hostname === '') {
    problem('has no host; write amqp://user:password@host:5672/vhost');
    return undefined;
  }
  // amqplib percent-decodes the vhost itself, so it gets the raw path; `//` is vhost `/`.
  const vhost = parsed.pathname.slice(1);
  let username: string | undefined;
  let password: string | undefined;
  try {
    decodeURIComponent(vhost);
    if (parsed.username !== '' || parsed.password !== '') {
      username = decodeURIComponent(parsed.username);
      password = decodeURIComponent(parsed.password);
    }
  } catch {
    problem('has a malformed %-escape; percent-encode special characters of the user, password and vhost');
    return undefined;
  }
  const query: Record<string, number> = {};
  for (const [key, value] of parsed.searchParams) {
    if (!queryParameters.includes(key)) problem(`has unknown query parameter "${key}"; supported: ${queryParameters.join(', ')}`);
    else if (!/^\d+$/.test(value)) problem(`has query parameter ${key}=${value}, not a whole number`);
    else query[key] = Number(value);
  }
  return {
    connectUrl: {
      protocol,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(parsed.port),
      username,
      password,
      vhost,
    },
    query,
  };
}

/** Renders a value for an error message without leaking secrets. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.includes('://') ? redactUri(value) : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return `(${typeof value})`;
}
