import pg from 'pg';

/** How the bridge reaches Postgres: a connection string, node-postgres client config, or the app's pool. */
export type PostgresInput = string | pg.ClientConfig | pg.Pool;

/** A connection a source holds on to (LISTEN, replication) until it is released. */
export interface DedicatedConnection {
  readonly client: pg.ClientBase;
  /** Closes the connection (or destroys it when it came from a pool, since it may hold LISTENs). */
  release(): Promise<void>;
}

/** The `application_name` the bridge's connections carry, visible in `pg_stat_activity`. */
export const defaultApplicationName = 'pg-event-bridge';

/**
 * Opens a connection for a source's exclusive use. A pool lends one of its clients, which is
 * destroyed rather than returned on release because LISTEN state must not leak to other users.
 */
export async function connectDedicated(input: PostgresInput, applicationName = defaultApplicationName): Promise<DedicatedConnection> {
  if (input instanceof pg.Pool) {
    const client = await input.connect();
    return {
      client,
      release: async () => client.release(true),
    };
  }
  const config: pg.ClientConfig = typeof input === 'string' ? { connectionString: input } : { ...input };
  const client = new pg.Client({
    application_name: applicationName,
    // TCP keepalive finds a dead peer eventually; the sources' own health checks find it sooner.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...config,
  });
  // Attach before connecting: an 'error' without a listener would crash the process.
  const onEarlyError = () => undefined;
  client.on('error', onEarlyError);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onEarlyError);
  }
  return {
    client,
    release: async () => {
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Quotes a channel or object name as a Postgres identifier: `My"Chan` becomes `"My""Chan"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
