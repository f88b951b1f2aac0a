import pg from 'pg';
import { withDeadline } from '../util/with-deadline.js';

/** How the bridge reaches Postgres: a connection string, node-postgres client config, or the app's pool. */
export type PostgresInput = string | pg.ClientConfig | pg.Pool;

/** The `application_name` the bridge's connections carry, visible in `pg_stat_activity`. */
export const defaultApplicationName = 'pg-event-bridge';

/** How long opening a connection (TCP, TLS, startup, authentication) may take, in ms. */
export const defaultConnectTimeoutMs = 10_000;

/**
 * Idle time before TCP keepalive probes start, in ms. Node 20 (libuv 1.46) then probes every
 * second, 10 times, so a silent dead peer is found about 20 s after the last byte, where the
 * kernel's default would take over two hours (7200 s idle, 9 probes 75 s apart).
 */
export const defaultKeepAliveIdleMs = 10_000;

/** How long closing a connection politely may take before its socket is destroyed, in ms. */
const releaseTimeoutMs = 2000;

/** Options of {@link connectDedicated}. */
export interface ConnectOptions {
  /**
   * How long the connection may take to open, TCP to ReadyForQuery (node-postgres's
   * `connectionTimeoutMillis`); applies on every reconnect. @default the config's `connectionTimeoutMillis`, else 10000
   */
  readonly connectTimeoutMs?: number;
}

/** A connection a source holds on to (LISTEN, replication) until it is released. */
export interface DedicatedConnection {
  readonly client: pg.ClientBase;
  /**
   * Closes the connection (or destroys it when it came from a pool, since it may hold LISTENs).
   * Never hangs: a connection that does not close within 2 s is destroyed.
   */
  release(): Promise<void>;
}

/**
 * The client settings every connection of the bridge uses: `application_name`, a connect timeout
 * and TCP keepalive with a short idle time ({@link defaultConnectTimeoutMs},
 * {@link defaultKeepAliveIdleMs}), under the caller's own settings. A pool's options are reused.
 */
export function dedicatedClientConfig(input: PostgresInput, applicationName = defaultApplicationName, options: ConnectOptions = {}): pg.ClientConfig {
  const config: pg.ClientConfig = input instanceof pg.Pool ? { ...(input.options as pg.ClientConfig) } : typeof input === 'string' ? { connectionString: input } : { ...input };
  return {
    application_name: applicationName,
    keepAlive: true,
    keepAliveInitialDelayMillis: defaultKeepAliveIdleMs,
    ...config,
    connectionTimeoutMillis: options.connectTimeoutMs ?? config.connectionTimeoutMillis ?? defaultConnectTimeoutMs,
  };
}

/**
 * Opens a connection for a source's exclusive use, giving up after the connect timeout (a
 * blackholed server fails the attempt rather than hanging it). A pool lends one of its clients,
 * which is destroyed rather than returned on release because LISTEN state must not leak to other
 * users; waiting for it is bounded by the same timeout.
 */
export async function connectDedicated(input: PostgresInput, applicationName = defaultApplicationName, options: ConnectOptions = {}): Promise<DedicatedConnection> {
  if (input instanceof pg.Pool) {
    const timeoutMs = options.connectTimeoutMs ?? input.options.connectionTimeoutMillis ?? defaultConnectTimeoutMs;
    const lent = input.connect();
    let client: pg.PoolClient;
    try {
      client = timeoutMs > 0 ? await withDeadline(() => lent, timeoutMs, 'Borrowing a connection from the pool') : await lent;
    } catch (error) {
      // One that arrives after the deadline goes straight back, destroyed.
      lent.then((late) => late.release(true), () => undefined);
      throw error;
    }
    return {
      client,
      release: async () => client.release(true),
    };
  }
  const client = new pg.Client(dedicatedClientConfig(input, applicationName, options));
  // Attach before connecting: an 'error' without a listener would crash the process.
  const onEarlyError = () => undefined;
  client.on('error', onEarlyError);
  try {
    await client.connect();
  } catch (error) {
    await closeClient(client);
    throw error;
  } finally {
    client.off('error', onEarlyError);
  }
  return {
    client,
    release: async () => {
      client.on('error', () => undefined);
      await closeClient(client);
    },
  };
}

/** Ends the client, destroying its socket when a dead or blackholed peer does not let it end. */
async function closeClient(client: pg.Client): Promise<void> {
  await withDeadline(() => client.end(), releaseTimeoutMs, 'Closing the connection', {
    onExpire: () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy(),
  }).catch(() => undefined);
}

/** Quotes a channel or object name as a Postgres identifier: `My"Chan` becomes `"My""Chan"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
