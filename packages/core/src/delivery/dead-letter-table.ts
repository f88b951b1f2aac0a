import pg from 'pg';
import { BridgeError } from '../errors.js';
import { walSources } from '../rules/parse-rules.js';
import { checkSchemaName } from '../sql/install-schema.js';
import { defaultSchema } from '../sql/migrations.js';
import { defaultApplicationName, quoteIdent, type PostgresInput } from '../sources/postgres-connection.js';
import type { DeadLetter } from './target-dispatcher.js';

/** Options of {@link createDeadLetterTable}. */
export interface DeadLetterTableOptions {
  /** A connection string, a node-postgres client config, or the application's `pg.Pool`. */
  readonly postgres: PostgresInput;
  /** The schema of the `dead_letter` table. @default 'events' */
  readonly schema?: string;
  /** @default 'pg-event-bridge' */
  readonly applicationName?: string;
}

/** Stores dead letters in `events.dead_letter`; pass `store` as createBridge's `deadLetter`. */
export interface DeadLetterTable {
  /** Inserts the letter, or counts one more failure of an event already there for that target. */
  store(letter: DeadLetter): Promise<void>;
  /** Closes its connections (not those of a pool that was passed in). */
  close(): Promise<void>;
}

/**
 * A dead-letter sink writing to `events.dead_letter` (installed by `installSchema()`): one row per
 * event and target, with the error code and message, attempts, and first and last failure time.
 * The same event failing again (a re-sent WAL change, an outbox row after a crash) updates its row
 * rather than adding one. A failed insert rejects, and the delivery engine retries it with backoff
 * while that target waits, so no dead letter is lost. Rows go back to the outbox with
 * `SELECT events.replay_dead_letters()`. Bodies are stored as UTF-8 text.
 *
 * @example
 * ```ts
 * const deadLetters = createDeadLetterTable({ postgres: pool });
 * const bridge = createBridge({ postgres: pool, upstreams, deadLetter: deadLetters.store });
 * ```
 */
export function createDeadLetterTable(options: DeadLetterTableOptions): DeadLetterTable {
  const schema = checkSchemaName(options.schema ?? defaultSchema);
  const own = !(options.postgres instanceof pg.Pool);
  let pool: pg.Pool | undefined = own ? undefined : (options.postgres as pg.Pool);
  const getPool = (): pg.Pool => {
    if (!pool) {
      const config: pg.PoolConfig = typeof options.postgres === 'string' ? { connectionString: options.postgres } : { ...(options.postgres as pg.ClientConfig) };
      // Dead letters are rare: one connection, closed when idle, never keeping the process alive.
      pool = new pg.Pool({ application_name: options.applicationName ?? defaultApplicationName, ...config, max: 1, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      pool.on('error', () => undefined);
    }
    return pool;
  };
  const sql = `INSERT INTO ${quoteIdent(schema)}.dead_letter AS d
      (event_id, source, channel, upstream, target, routing_key, payload, headers, content_type, error_code, error_message, attempts, event_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (event_id, upstream, target) DO UPDATE SET
      attempts = d.attempts + EXCLUDED.attempts, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, last_failed_at = clock_timestamp()`;

  return {
    async store(letter) {
      const { event, error } = letter;
      const source = event.id.startsWith('outbox:') ? 'outbox' : (walSources as readonly string[]).includes(event.source) ? 'wal' : 'notify';
      try {
        await getPool().query(sql, [
          event.id,
          source,
          event.source,
          letter.upstream,
          `${letter.target.kind}:${letter.target.name}`,
          event.routingKey,
          event.body.toString('utf8'),
          event.headers ? JSON.stringify(event.headers) : null,
          event.contentType ?? null,
          error.code,
          error.message,
          letter.attempts,
          event.timestamp,
        ]);
      } catch (cause) {
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[dead-letter] Could not store event ${event.id} in ${schema}.dead_letter: ${(cause as Error).message}`, { retryable: true, cause });
      }
    },
    async close() {
      if (own && pool) await pool.end().catch(() => undefined);
    },
  };
}
