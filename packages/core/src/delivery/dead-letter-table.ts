import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import pg from 'pg';
import { BridgeError, describeThrown } from '../errors.js';
import { walSources } from '../rules/parse-rules.js';
import { checkSchemaName } from '../sql/install-schema.js';
import { defaultSchema } from '../sql/migrations.js';
import { defaultApplicationName, defaultConnectTimeoutMs, defaultKeepAliveIdleMs, quoteIdent, type PostgresInput } from '../sources/postgres-connection.js';
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
 * `SELECT events.replay_dead_letters()`.
 *
 * Whatever the letter holds, it can be stored: a body that is valid UTF-8 without NUL goes to
 * `payload` as text; any other body, and every event a source could not decode, also goes to `raw`
 * byte-exact (then `payload` is a lossy, readable copy with NUL and invalid bytes as U+FFFD).
 * NUL and unpaired surrogates in the routing key, headers and error are replaced by U+FFFD (text
 * and jsonb cannot hold them), error messages are cut at 16 KiB, ids and target names over 512
 * bytes are shortened with their SHA-256 so the unique key still identifies them, and an event
 * time that is not a valid date is stored as NULL.
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
      // A dead or blackholed database fails an attempt (which is retried) rather than hanging it;
      // a query that times out takes its connection with it.
      pool = new pg.Pool({
        application_name: options.applicationName ?? defaultApplicationName,
        connectionTimeoutMillis: defaultConnectTimeoutMs,
        query_timeout: 20_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: defaultKeepAliveIdleMs,
        ...config,
        max: 1,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      });
      pool.on('error', () => undefined);
    }
    return pool;
  };
  const table = `${quoteIdent(schema)}.dead_letter`;
  const upsert = `ON CONFLICT (event_id, upstream, target) DO UPDATE SET
      attempts = LEAST(d.attempts::bigint + EXCLUDED.attempts, ${maxAttempts}), error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, last_failed_at = clock_timestamp()`;
  const sql = `INSERT INTO ${table} AS d
      (event_id, source, channel, upstream, target, routing_key, payload, headers, content_type, error_code, error_message, attempts, event_time, position, raw)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
    ${upsert}`;
  // A table from before the position and raw columns (schema version 1, not yet upgraded).
  const legacySql = `INSERT INTO ${table} AS d
      (event_id, source, channel, upstream, target, routing_key, payload, headers, content_type, error_code, error_message, attempts, event_time)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ${upsert}`;
  let legacy = false;

  return {
    async store(letter) {
      const values = deadLetterRow(letter);
      try {
        try {
          await getPool().query(legacy ? legacySql : sql, legacy ? values.slice(0, 13) : values);
        } catch (error) {
          if (legacy || (error as { code?: unknown }).code !== undefinedColumn) throw error;
          legacy = true;
          await getPool().query(legacySql, values.slice(0, 13));
        }
      } catch (cause) {
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[dead-letter] Could not store event ${values[0]} in ${schema}.dead_letter: ${describeThrown(cause)}`, { retryable: true, cause });
      }
    },
    async close() {
      if (own && pool) await pool.end().catch(() => undefined);
    },
  };
}

const undefinedColumn = '42703';
const maxAttempts = 2_147_483_647;
const maxErrorChars = 16 * 1024;
const maxKeyBytes = 512;
// timestamptz covers 4713 BC to 294276 AD; JavaScript dates reach further back.
const earliestTimestamp = Date.UTC(-4712, 0, 1);

/** The insert's parameters for `letter`; never throws, whatever the letter holds. */
export function deadLetterRow(letter: DeadLetter): unknown[] {
  const { event, error } = letter;
  const id = boundedKey(text(event.id));
  const channel = text(event.source);
  const source = id.startsWith('outbox:') ? 'outbox' : (walSources as readonly string[]).includes(channel) ? 'wal' : 'notify';
  const body = Buffer.isBuffer(event.body) ? event.body : Buffer.from(text(event.body));
  const faithful = isUtf8(body) && !body.includes(0);
  const poison = letter.position !== undefined;
  const payload = faithful ? body.toString('utf8') : text(body.toString('utf8'));
  let message = text(describeThrown(error));
  if (message.length > maxErrorChars) message = `${message.slice(0, maxErrorChars)}... (cut from ${message.length} characters)`;
  let code = 'ERR_BRIDGE_UNKNOWN';
  try {
    code = text(error.code);
  } catch {
    // A hostile error object: the message says what is known.
  }
  return [
    id,
    source,
    channel,
    boundedKey(text(letter.upstream)),
    boundedKey(text(`${letter.target.kind}:${letter.target.name}`)),
    text(event.routingKey),
    payload,
    headersJson(event.headers),
    event.contentType === undefined || event.contentType === null ? null : text(event.contentType),
    code,
    message,
    Number.isInteger(letter.attempts) && letter.attempts > 0 ? Math.min(letter.attempts, maxAttempts) : 1,
    validTime(event.timestamp),
    poison ? text(letter.position) : null,
    faithful && !poison ? null : body,
  ];
}

// NUL, which text and jsonb cannot hold, and unpaired UTF-16 surrogates, which jsonb refuses.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(value: unknown): string {
  const string = typeof value === 'string' ? value : value === undefined || value === null ? '' : describeThrown(value);
  return string.replace(unstorable, '\uFFFD');
}

/** Ids and target names are part of the unique key, whose btree entries are limited to about 2.7 kB. */
function boundedKey(value: string): string {
  if (Buffer.byteLength(value) <= maxKeyBytes) return value;
  const digest = createHash('sha256').update(value).digest('hex');
  return `${value.slice(0, 200)}...sha256:${digest}`;
}

function headersJson(headers: unknown): string | null {
  if (headers === undefined || headers === null || typeof headers !== 'object') return null;
  try {
    const clean: Record<string, string> = {};
    for (const [key, value] of Object.entries(headers)) clean[text(key)] = text(value);
    return JSON.stringify(clean);
  } catch {
    return null;
  }
}

function validTime(value: unknown): Date | null {
  if (!(value instanceof Date)) return null;
  const time = value.getTime();
  return Number.isFinite(time) && time >= earliestTimestamp ? value : null;
}
