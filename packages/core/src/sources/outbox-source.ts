import pg from 'pg';
import { BridgeError } from '../errors.js';
import { backoffDelay, sleep, type RetryOptions } from '../delivery/backoff.js';
import type { BridgeEvent, Source, SourceContext } from '../source.js';
import { checkSchemaName } from '../sql/install-schema.js';
import { defaultSchema, outboxWakeChannel } from '../sql/migrations.js';
import { OptionProblems, isPositiveInteger } from '../util/option-problems.js';
import { connectDedicated, quoteIdent, type DedicatedConnection, type PostgresInput } from './postgres-connection.js';

/** Options of {@link createOutboxSource}. */
export interface OutboxSourceOptions {
  /** A connection string, a node-postgres client config, or the application's `pg.Pool`. */
  readonly postgres: PostgresInput;
  /** The channels (rule sources) whose messages to drain; rows of other channels stay queued. */
  readonly channels: readonly string[];
  /** The schema of the outbox table. @default 'events' */
  readonly schema?: string;
  /** Rows read per query, and the most rows of one channel handed over and not yet deleted. @default 500 */
  readonly batchSize?: number;
  /** How often to look for rows when no wake-up notification came, in ms. @default 1000 */
  readonly pollIntervalMs?: number;
  /** How long a query may take before the connection is considered dead, in ms. @default 30000 */
  readonly queryTimeoutMs?: number;
  /** Backoff of reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
  readonly reconnect?: RetryOptions;
  /** @default 'pg-event-bridge' */
  readonly applicationName?: string;
}

/** An outbox source; the bridge calls `afterDrain` once in-flight messages settled. */
export interface OutboxSource extends Source {
  /** Deletes the rows delivered while the bridge drained, then closes the connection. */
  afterDrain(): Promise<void>;
}

interface OutboxRow {
  readonly id: string;
  readonly routing_key: string;
  readonly payload: string;
  readonly headers: Record<string, unknown> | null;
  readonly content_type: string | null;
  readonly created_at: Date;
}

// The first key of the two-key advisory locks that give one bridge a channel ('peb\0').
const lockNamespace = 0x70656200;

/**
 * Drains the durable outbox (`events.outbox`, written by `events.send_message(..., durable => true)`
 * and `events.on_row_change()`): reads rows in id order per channel, hands them to the delivery
 * engine as events of that channel (so the same rules as NOTIFY apply), and deletes each row only
 * once every target accepted or dead-lettered it. At-least-once: a crash re-sends what was handed
 * over and not yet deleted. Event ids are `outbox:<id>`.
 *
 * Several bridges may drain one outbox: a bridge takes a channel with a session advisory lock
 * while it has rows and lets go once they are all delivered and deleted, so no message goes to two
 * bridges and each channel leaves in id order. It wakes on NOTIFY `<schema>_outbox` and polls as a
 * fallback; it reconnects on its own and reads no further while the engine is full.
 *
 * @example
 * ```ts
 * const source = createOutboxSource({ postgres: 'postgres://bridge@db/app', channels: ['orders'] });
 * ```
 */
export function createOutboxSource(options: OutboxSourceOptions): OutboxSource {
  const problems = new OptionProblems('outbox');
  const schema = checkSchemaName(options.schema ?? defaultSchema);
  const batchSize = options.batchSize ?? 500;
  const pollInterval = options.pollIntervalMs ?? 1000;
  const queryTimeout = options.queryTimeoutMs ?? 30_000;
  if (!isPositiveInteger(batchSize)) problems.add('batchSize', batchSize, 'a whole number greater than 0');
  if (!isPositiveInteger(pollInterval)) problems.add('pollIntervalMs', pollInterval, 'a whole number of milliseconds greater than 0');
  if (!isPositiveInteger(queryTimeout)) problems.add('queryTimeoutMs', queryTimeout, 'a whole number of milliseconds greater than 0');
  problems.throwIfAny();

  const table = `${quoteIdent(schema)}.outbox`;
  const wakeChannel = outboxWakeChannel(schema);
  const channels = [...new Set(options.channels)];
  const reconnect = { initialDelayMs: 100, maxDelayMs: 10_000, ...options.reconnect };
  const input: PostgresInput =
    options.postgres instanceof pg.Pool
      ? options.postgres
      : typeof options.postgres === 'string'
        ? { connectionString: options.postgres, query_timeout: queryTimeout }
        : { query_timeout: queryTimeout, ...options.postgres };

  let context: SourceContext | undefined;
  let connection: DedicatedConnection | undefined;
  let broken = false;
  let stopping = false;
  const stopController = new AbortController();
  let loop: Promise<void> | undefined;
  // Channels this bridge holds the advisory lock of, and the last id read in each.
  const owned = new Set<string>();
  const cursors = new Map<string, string>();
  const headReadAt = new Map<string, number>();
  // Rows handed to the engine and not yet deleted, per channel; a channel is let go only at zero.
  const unfinished = new Map<string, number>();
  let settled: Array<{ id: string; channel: string }> = [];
  let outstanding = 0;
  let allSettled: (() => void) | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let capacity: Promise<void> | undefined;
  let missingWarned = false;

  const wake = (): void => {
    woken = true;
    wakeUp?.();
  };

  const connect = async (ctx: SourceContext): Promise<void> => {
    const conn = await connectDedicated(input, options.applicationName);
    const { client } = conn;
    const onLost = () => {
      if (connection !== conn) return;
      broken = true;
      wake();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel === wakeChannel) wake();
    });
    try {
      await client.query(`LISTEN ${quoteIdent(wakeChannel)}`);
    } catch (error) {
      await conn.release();
      throw error;
    }
    connection = conn;
    broken = false;
    owned.clear();
    ctx.report({ type: 'connected', source: 'outbox' });
  };

  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> => {
    const conn = connection;
    if (!conn || broken) throw new Error('the outbox connection was lost');
    return (await conn.client.query<R>(text, values)).rows;
  };

  const deleteSettled = async (): Promise<void> => {
    if (settled.length === 0) return;
    const batch = settled;
    settled = [];
    try {
      await query(`DELETE FROM ${table} WHERE id = ANY ($1::bigint[])`, [batch.map((row) => row.id)]);
    } catch (error) {
      settled = batch.concat(settled);
      throw error;
    }
    for (const { channel } of batch) {
      const left = (unfinished.get(channel) ?? 1) - 1;
      if (left > 0) unfinished.set(channel, left);
      else unfinished.delete(channel);
    }
  };

  // Takes the lock of one channel that has rows, no other bridge holds, and has nothing of ours
  // still in flight (after a reconnect those must settle before the channel is read again). One
  // per pass, tried in random order, so that bridges woken by the same commit share the channels.
  const claim = async (): Promise<void> => {
    const free = channels.filter((channel) => !owned.has(channel) && !unfinished.has(channel));
    if (free.length === 0) return;
    for (let i = free.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    // LIMIT 1 stops at the first lock taken; CASE checks for rows before trying the lock.
    const rows = await query<{ channel: string }>(
      `SELECT c AS channel FROM unnest($1::text[]) AS c
        WHERE CASE WHEN EXISTS (SELECT 1 FROM ${table} AS o WHERE o.channel = c) THEN pg_try_advisory_lock(${lockNamespace}, hashtext($2 || c)) ELSE false END
        LIMIT 1`,
      [free, `${schema}.`],
    );
    for (const { channel } of rows) {
      owned.add(channel);
      cursors.set(channel, '0');
    }
  };

  const read = async (ctx: SourceContext, channel: string): Promise<boolean> => {
    const pending = unfinished.get(channel) ?? 0;
    if (pending >= batchSize) return false;
    // A row may commit after rows with higher ids were read; reading from the head again now and
    // then, once everything handed over was deleted, picks it up. Until then, read past the cursor.
    const now = performance.now();
    if (pending > 0 && now - (headReadAt.get(channel) ?? 0) > pollInterval) return false;
    let from = cursors.get(channel) ?? '0';
    if (pending === 0) {
      from = '0';
      headReadAt.set(channel, now);
    }
    const rows = await query<OutboxRow>(
      // Order by the bigint column, not the text alias of the same name.
      `SELECT o.id::text AS id, o.routing_key, o.payload, o.headers, o.content_type, o.created_at FROM ${table} AS o WHERE o.channel = $1 AND o.id > $2::bigint ORDER BY o.id LIMIT $3`,
      [channel, from, batchSize],
    );
    if (rows.length === 0) {
      if (pending > 0) return false;
      await query(`SELECT pg_advisory_unlock(${lockNamespace}, hashtext($1))`, [`${schema}.${channel}`]);
      owned.delete(channel);
      return false;
    }
    for (const row of rows) hand(ctx, channel, row);
    cursors.set(channel, rows[rows.length - 1]!.id);
    return true;
  };

  const hand = (ctx: SourceContext, channel: string, row: OutboxRow): void => {
    unfinished.set(channel, (unfinished.get(channel) ?? 0) + 1);
    outstanding += 1;
    const headers = row.headers ? Object.fromEntries(Object.entries(row.headers).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])) : undefined;
    const event: BridgeEvent = {
      id: `outbox:${row.id}`,
      source: channel,
      routingKey: row.routing_key,
      body: Buffer.from(row.payload, 'utf8'),
      ...(row.content_type && { contentType: row.content_type }),
      ...(headers && { headers }),
      timestamp: row.created_at,
    };
    ctx
      .deliver(event)
      .then(
        () => {
          settled.push({ id: row.id, channel });
        },
        (error: unknown) => {
          // The bridge is stopping: the row stays queued for the next run.
          const left = (unfinished.get(channel) ?? 1) - 1;
          if (left > 0) unfinished.set(channel, left);
          else unfinished.delete(channel);
          if (!BridgeError.isInstance(error) || error.code !== 'ERR_BRIDGE_ABORTED') {
            ctx.logger.error({ err: error, channel, eventId: event.id }, '[outbox] Delivery failed unexpectedly; the row stays queued');
          }
        },
      )
      .finally(() => {
        outstanding -= 1;
        if (outstanding === 0) allSettled?.();
        wake();
      });
  };

  const idle = (ctx: SourceContext): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (wakeUp === done) wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, pollInterval);
      wakeUp = done;
      if (!ctx.hasCapacity) {
        capacity ??= ctx.waitForCapacity().then(() => {
          capacity = undefined;
        });
        void capacity.then(done);
      }
    });

  const onError = async (ctx: SourceContext, error: unknown, attempt: number): Promise<void> => {
    const code = (error as { code?: unknown }).code;
    if (connection && !broken && (code === '42P01' || code === '3F000')) {
      // Not installed (yet): nothing can be queued either, so wait for it quietly.
      if (!missingWarned) {
        missingWarned = true;
        ctx.logger.warn({ schema }, `[outbox] ${table} does not exist, so durable messages are not drained; install it with installSchema() or pg-event-bridge install-sql`);
      }
      await sleep(pollInterval, stopController.signal).catch(() => undefined);
      return;
    }
    const conn = connection;
    connection = undefined;
    owned.clear();
    if (conn) {
      ctx.report({ type: 'disconnected', source: 'outbox', error: error as Error });
      ctx.logger.warn({ err: error }, '[outbox] Lost the Postgres connection; reconnecting (queued messages wait in the outbox)');
      await conn.release();
    } else {
      ctx.logger.warn({ err: error, attempt }, '[outbox] Reconnecting to Postgres failed; trying again');
    }
    await sleep(backoffDelay(attempt, reconnect), stopController.signal).catch(() => undefined);
  };

  const run = async (ctx: SourceContext): Promise<void> => {
    let attempt = 0;
    while (!stopping) {
      try {
        if (!connection) await connect(ctx);
        woken = false;
        await deleteSettled();
        let progressed = false;
        if (ctx.hasCapacity) {
          await claim();
          missingWarned = false;
          attempt = 0;
          for (const channel of [...owned]) {
            if (stopping || !ctx.hasCapacity) break;
            if (await read(ctx, channel)) progressed = true;
          }
        }
        if (!progressed && !woken && !stopping) await idle(ctx);
      } catch (error) {
        if (stopping) break;
        attempt += 1;
        await onError(ctx, error, attempt);
      }
    }
  };

  const close = async (): Promise<void> => {
    const ctx = context;
    try {
      await deleteSettled();
    } catch (error) {
      ctx?.logger.warn({ err: error, rows: settled.length }, '[outbox] Could not delete delivered rows before closing; they will be sent again');
    }
    const conn = connection;
    connection = undefined;
    await conn?.release();
  };

  return {
    name: 'outbox',
    async start(ctx) {
      if (context) throw new BridgeError('ERR_BRIDGE_STATE', '[outbox] start() called twice');
      context = ctx;
      try {
        await connect(ctx);
      } catch (error) {
        context = undefined;
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[outbox] Could not connect to drain ${table}: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      loop = run(ctx);
    },
    async stop() {
      stopping = true;
      stopController.abort();
      wake();
      await loop;
      if (outstanding === 0) await close();
    },
    async afterDrain() {
      if (outstanding > 0) await new Promise<void>((resolve) => (allSettled = resolve));
      await close();
    },
  };
}
