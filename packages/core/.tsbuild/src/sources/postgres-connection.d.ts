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
export declare const defaultApplicationName = "pg-event-bridge";
/**
 * Opens a connection for a source's exclusive use. A pool lends one of its clients, which is
 * destroyed rather than returned on release because LISTEN state must not leak to other users.
 */
export declare function connectDedicated(input: PostgresInput, applicationName?: string): Promise<DedicatedConnection>;
/** Quotes a channel or object name as a Postgres identifier: `My"Chan` becomes `"My""Chan"`. */
export declare function quoteIdent(name: string): string;
//# sourceMappingURL=postgres-connection.d.ts.map