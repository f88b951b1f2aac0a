import pg from 'pg';
import { BridgeError } from '../errors.js';
import { backoffDelay, sleep, type RetryOptions } from '../delivery/backoff.js';
import type { BridgeEvent, PoisonEvent, Source, SourceContext } from '../source.js';
import { checkSchemaName } from '../sql/install-schema.js';
import { defaultSchema, outboxWakeChannel, reservedChannels, reservedHeaderPrefixes } from '../sql/migrations.js';
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
  /**
   * Bytes read per query, and the most bytes of one channel handed over and not yet deleted
   * (payload, routing key, headers, content type). A row larger than this is still read, alone.
   * @default 4 MiB
   */
  readonly batchBytes?: number;
  /**
   * The largest payload delivered; a longer row is dead-lettered (ERR_BRIDGE_DECODE) with its first
   * 64 KiB, without reading the rest. @default 16 MiB
   */
  readonly maxRowBytes?: number;
  /**
   * How long to hold a channel back behind a transaction that took an outbox id and is still open,
   * so that rows leave in id order. After that the committed rows behind it are delivered (logged,
   * counted in `stats().orderWaitTimeouts`) and the late row follows when it commits, out of order.
   * @default 10000
   */
  readonly orderWaitMs?: number;
  /** How often to look for rows when no wake-up notification came, in ms. @default 1000 */
  readonly pollIntervalMs?: number;
  /** How long a query may take before the connection is considered dead, in ms. @default 30000 */
  readonly queryTimeoutMs?: number;
  /** Backoff of reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
  readonly reconnect?: RetryOptions;
  /** @default 'pg-event-bridge' */
  readonly applicationName?: string;
}

/** Counters of an {@link OutboxSource}, since it was created. */
export interface OutboxStats {
  /** Rows handed to the delivery engine (events) or dead-lettered (poison rows). */
  readonly rowsRead: number;
  /** Bytes of those rows, as counted against `batchBytes`. */
  readonly bytesRead: number;
  /** Rows handed over and not yet deleted, over all channels, now. */
  readonly rowsUnfinished: number;
  /** Bytes of those rows, now. */
  readonly bytesUnfinished: number;
  /** The most bytes one channel ever had handed over and not yet deleted. */
  readonly maxChannelBytesUnfinished: number;
  /** Rows dead-lettered because they could not be turned into an event. */
  readonly poisonRows: number;
  /** Times a read held rows back because a transaction holding an outbox id was still open. */
  readonly orderWaits: number;
  /** Times `orderWaitMs` ran out and committed rows were delivered past an open transaction. */
  readonly orderWaitTimeouts: number;
  /** Rows delivered after a row with a higher id of their channel (they committed after the wait ran out). */
  readonly lateRows: number;
  /** Headers dropped from rows that are not replays because they carry a name the bridge sets itself. */
  readonly reservedHeadersDropped: number;
  /** Ids up to this (decimal) belong to finished transactions, as far as this source knows. */
  readonly finalHorizon: string;
  /** The highest id read that waits behind an open transaction (decimal), or null when none waits. */
  readonly waitingUpTo: string | null;
  /**
   * Channels with rows whose lock is held by a session that is no bridge (its role cannot delete
   * from the outbox): any role can take an advisory lock, so one can squat a channel. They are not
   * drained until that session ends; the daemon reports itself not ready meanwhile.
   */
  readonly squattedChannels: readonly { readonly channel: string; readonly pid: number; readonly role: string | null }[];
}

/** An outbox source; the bridge calls `afterDrain` once in-flight messages settled. */
export interface OutboxSource extends Source {
  /** Deletes the rows delivered while the bridge drained, then closes the connection. */
  afterDrain(): Promise<void>;
  /** What it read, holds and waited for. */
  stats(): OutboxStats;
}

/**
 * One outbox row as the source reads it: every value as Postgres renders it in text, so nothing is
 * parsed before it is checked. Headers come as parallel arrays of the keys, `jsonb_typeof` and text
 * (`#>> '{}'`) of each value, only when they are an object within the header bound.
 */
export interface OutboxRowValues {
  /** The bigint id in decimal. */
  readonly id: string;
  readonly routingKey: string;
  /** The payload, or its first 64 Ki characters when `payloadBytes` is over the row bound. */
  readonly payload: string;
  /** `octet_length(payload)`. */
  readonly payloadBytes: number;
  /** `jsonb_typeof(headers)`; null when there are none. */
  readonly headersType: string | null;
  /** `octet_length(headers::text)`; null when there are none. */
  readonly headersBytes: number | null;
  readonly headerKeys: ReadonlyArray<string | null> | null;
  readonly headerTypes: ReadonlyArray<string | null> | null;
  readonly headerValues: ReadonlyArray<string | null> | null;
  readonly contentType: string | null;
  /** `extract(epoch FROM created_at)` in decimal; `Infinity` / `-Infinity` for those timestamps. */
  readonly createdAtEpoch: string | null;
  /** The event id a replayed dead letter had; set by `replay_dead_letters()` only. */
  readonly replayOf: string | null;
}

/** Bounds of {@link outboxRowToEvent}. */
export interface OutboxRowLimits {
  /** The largest payload turned into an event. */
  readonly maxRowBytes: number;
  /** The largest `headers` value (its JSON text). @default 65536 */
  readonly maxHeaderBytes?: number;
}

/** What {@link outboxRowToEvent} made of a row: an event, or a poison event to dead-letter. */
export type OutboxRowResult =
  | { readonly ok: true; readonly event: BridgeEvent; readonly droppedHeaders: number }
  | { readonly ok: false; readonly poison: PoisonEvent };

/** Bytes of a header name, value, content type or routing key the outbox source accepts. */
export const maxOutboxKeyBytes = 255;
const defaultMaxHeaderBytes = 64 * 1024;
const maxHeaderCount = 100;
/** Characters of an oversized payload kept in its dead letter. */
const rawPrefixChars = 64 * 1024;
// Control characters but tab: they split header lines (CR, LF) or end C strings (NUL).
const controlCharacter = /[\u0000-\u0008\u000a-\u001f\u007f]/;
// Date's range: 8.64e15 ms either side of 1970.
const maxDateMs = 8.64e15;

/**
 * Turns one outbox row into the event the bridge delivers, or into a poison event when a value is
 * out of bounds or not what an event can carry: a payload over `maxRowBytes`, a `created_at` of
 * `infinity`, headers that are not an object of strings, numbers and booleans (or are over 64 KiB,
 * or more than 100), a routing key, content type or header over 255 bytes, control characters
 * (CR, LF...) in a header or the content type. Pure, and never throws: anything unexpected, even a
 * value of the wrong type, becomes a poison event with an ERR_BRIDGE_DECODE error naming it.
 *
 * The event carries `x-outbox-id`, and `x-replay-of` for replays. Headers a row sets with a name
 * the bridge sets itself (`x-event-*`, `x-pg-*`, `x-routing-key`, `x-wal-*`, `x-outbox-*`,
 * `x-replay-of`) are dropped, except on replays (which carry the original event's headers, such
 * as a WAL change's `x-wal-lsn`): nothing a sender writes can pass for another source.
 */
export function outboxRowToEvent(row: OutboxRowValues, channel: string, limits: OutboxRowLimits): OutboxRowResult {
  const id = typeof row?.id === 'string' && /^\d{1,20}$/.test(row.id) ? row.id : String(describeSafely(row?.id));
  const eventId = `outbox:${id}`;
  const payload = typeof row?.payload === 'string' ? row.payload : '';
  const poison = (problem: string): OutboxRowResult => {
    const routingKey = typeof row?.routingKey === 'string' && Buffer.byteLength(row.routingKey) <= maxOutboxKeyBytes ? row.routingKey : '';
    return {
      ok: false,
      poison: {
        id: eventId,
        source: channel,
        position: eventId,
        raw: Buffer.from(payload.length > rawPrefixChars ? payload.slice(0, rawPrefixChars) : payload, 'utf8'),
        error: new BridgeError('ERR_BRIDGE_DECODE', `[outbox] Row ${id} of channel "${channel}" cannot be delivered: ${problem}; it was dead-lettered and removed from the outbox`),
        routingKey,
      },
    };
  };
  try {
    if (id !== row.id) return poison(`its id ${id} is not a bigint`);
    const maxRowBytes = limits.maxRowBytes;
    if (typeof row.payloadBytes !== 'number' || !Number.isSafeInteger(row.payloadBytes) || row.payloadBytes < 0) return poison(`its payload size ${describeSafely(row.payloadBytes)} is not a byte count`);
    if (typeof row.payload !== 'string') return poison('its payload is not text');
    if (row.payloadBytes > maxRowBytes) return poison(`its payload has ${row.payloadBytes} bytes, over the limit of ${maxRowBytes} (maxRowBytes); the dead letter keeps the first ${rawPrefixChars} characters`);
    const body = Buffer.from(row.payload, 'utf8');
    if (body.length !== row.payloadBytes) return poison(`its payload has ${body.length} bytes where Postgres counted ${row.payloadBytes}`);

    if (typeof row.routingKey !== 'string') return poison('its routing key is not text');
    const keyBytes = Buffer.byteLength(row.routingKey);
    if (keyBytes > maxOutboxKeyBytes) return poison(`its routing key is longer than ${maxOutboxKeyBytes} bytes`);

    let contentType: string | undefined;
    if (row.contentType !== null && row.contentType !== undefined) {
      if (typeof row.contentType !== 'string') return poison('its content_type is not text');
      if (Buffer.byteLength(row.contentType) > maxOutboxKeyBytes) return poison(`its content_type is longer than ${maxOutboxKeyBytes} bytes`);
      if (controlCharacter.test(row.contentType)) return poison(`its content_type ${JSON.stringify(row.contentType.slice(0, 80))} contains a control character`);
      if (row.contentType !== '') contentType = row.contentType;
    }

    const epoch = typeof row.createdAtEpoch === 'string' ? Number(row.createdAtEpoch) : Number.NaN;
    const ms = Math.round(epoch * 1000);
    if (!Number.isFinite(ms) || Math.abs(ms) > maxDateMs) return poison(`its created_at (epoch ${describeSafely(row.createdAtEpoch)}) is not a time an event can carry`);

    const headers: Record<string, string> = {};
    let droppedHeaders = 0;
    if (row.headersType !== null && row.headersType !== undefined) {
      if (row.headersType !== 'object') return poison(`its headers are a JSON ${describeSafely(row.headersType)}, not an object`);
      const maxHeaderBytes = limits.maxHeaderBytes ?? defaultMaxHeaderBytes;
      if (typeof row.headersBytes !== 'number' || !(row.headersBytes <= maxHeaderBytes)) return poison(`its headers have ${describeSafely(row.headersBytes)} bytes of JSON, over ${maxHeaderBytes}`);
      const keys = row.headerKeys ?? [];
      const types = row.headerTypes ?? [];
      const values = row.headerValues ?? [];
      if (!Array.isArray(keys) || !Array.isArray(types) || !Array.isArray(values) || keys.length !== types.length || keys.length !== values.length) return poison('its headers could not be read');
      if (keys.length > maxHeaderCount) return poison(`it has ${keys.length} headers, over ${maxHeaderCount}`);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const type = types[i];
        const value = values[i];
        if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > maxOutboxKeyBytes || controlCharacter.test(key)) {
          return poison(`header name ${JSON.stringify(String(key).slice(0, 80))} is empty, over ${maxOutboxKeyBytes} bytes or contains a control character`);
        }
        if (type !== 'string' && type !== 'number' && type !== 'boolean') return poison(`header ${JSON.stringify(key)} is a JSON ${describeSafely(type)}; header values must be strings, numbers or booleans`);
        if (typeof value !== 'string' || Buffer.byteLength(value) > 8 * 1024 || controlCharacter.test(value)) {
          return poison(`header ${JSON.stringify(key)} has a value over 8 KiB or with a control character`);
        }
        const lower = key.toLowerCase();
        if (reservedHeaderPrefixes.some((prefix) => lower.startsWith(prefix))) {
          if (row.replayOf === null || lower.startsWith('x-outbox-') || lower === 'x-replay-of') {
            droppedHeaders += 1;
            continue;
          }
        }
        headers[key] = value;
      }
    }
    headers['x-outbox-id'] = id;
    if (row.replayOf !== null && row.replayOf !== undefined) {
      if (typeof row.replayOf !== 'string' || Buffer.byteLength(row.replayOf) > maxOutboxKeyBytes || controlCharacter.test(row.replayOf)) return poison('its replay_of is not an event id');
      headers['x-replay-of'] = row.replayOf;
    }
    return {
      ok: true,
      droppedHeaders,
      event: {
        id: eventId,
        source: channel,
        routingKey: row.routingKey,
        body,
        ...(contentType !== undefined && { contentType }),
        headers,
        timestamp: new Date(ms),
      },
    };
  } catch (error) {
    return poison(`reading it failed (${error instanceof Error ? error.message : 'unknown error'})`);
  }
}

function describeSafely(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value === 'number' || typeof value === 'boolean' || value === null ? String(value) : typeof value;
  } catch {
    return typeof value;
  }
}

interface OutboxRowRecord {
  readonly id: string;
  readonly routing_key: string;
  readonly payload: string;
  readonly payload_bytes: number;
  readonly headers_type: string | null;
  readonly headers_bytes: number | null;
  readonly header_keys: Array<string | null> | null;
  readonly header_types: Array<string | null> | null;
  readonly header_values: Array<string | null> | null;
  readonly content_type: string | null;
  readonly created_epoch: string | null;
  readonly replay_of: string | null;
  readonly size: string;
}

interface Horizon {
  /** Ids up to this are final once none of `blockers` holds a lock on the outbox any more. */
  readonly upTo: bigint;
  readonly blockers: ReadonlySet<string>;
  readonly since: number;
  readonly warned: Set<string>;
}

// The first key of the two-key advisory locks that give one bridge a channel ('peb\0').
const lockNamespace = 0x70656200;
// How often a channel with rows that no bridge of ours could lock is checked for a squatter, in ms.
const squatCheckIntervalMs = 5000;

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
  const batchBytes = options.batchBytes ?? 4 * 1024 * 1024;
  const maxRowBytes = options.maxRowBytes ?? 16 * 1024 * 1024;
  const orderWait = options.orderWaitMs ?? 10_000;
  const pollInterval = options.pollIntervalMs ?? 1000;
  const queryTimeout = options.queryTimeoutMs ?? 30_000;
  if (!isPositiveInteger(batchSize)) problems.add('batchSize', batchSize, 'a whole number greater than 0');
  if (!isPositiveInteger(batchBytes, 2 ** 31 - 1)) problems.add('batchBytes', batchBytes, 'a whole number of bytes from 1 to 2147483647');
  // A Postgres text value has at most 1 GB; Node's strings stop short of that (about 512 MiB).
  if (!isPositiveInteger(maxRowBytes, 256 * 1024 * 1024)) problems.add('maxRowBytes', maxRowBytes, 'a whole number of bytes from 1 to 268435456 (256 MiB)');
  if (!isPositiveInteger(orderWait)) problems.add('orderWaitMs', orderWait, 'a whole number of milliseconds greater than 0');
  if (!isPositiveInteger(pollInterval)) problems.add('pollIntervalMs', pollInterval, 'a whole number of milliseconds greater than 0');
  if (!isPositiveInteger(queryTimeout)) problems.add('queryTimeoutMs', queryTimeout, 'a whole number of milliseconds greater than 0');
  problems.throwIfAny();

  const table = `${quoteIdent(schema)}.outbox`;
  const sequence = `${quoteIdent(schema)}.outbox_id_seq`;
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
  let settled: Array<{ id: string; channel: string; bytes: number }> = [];
  let outstanding = 0;
  let allSettled: (() => void) | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let capacity: Promise<void> | undefined;
  let missingWarned = false;
  // Channels squatted by a session that is no bridge, checked at most every squatCheckIntervalMs.
  let squatted: OutboxStats['squattedChannels'] = [];
  let squatCheckedAt = -Infinity;
  const squatLoggedAt = new Map<string, number>();
  // Bytes handed over and not yet deleted, per channel; the last id handed over per channel.
  const unfinishedBytes = new Map<string, number>();
  const lastHanded = new Map<string, bigint>();
  // Ids up to `finalHorizon` belong to finished transactions; `horizons` wait for open ones.
  let finalHorizon = 0n;
  let horizons: Horizon[] = [];
  const counters = {
    rowsRead: 0,
    bytesRead: 0,
    rowsUnfinished: 0,
    bytesUnfinished: 0,
    maxChannelBytesUnfinished: 0,
    poisonRows: 0,
    orderWaits: 0,
    orderWaitTimeouts: 0,
    lateRows: 0,
    reservedHeadersDropped: 0,
  };

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
      // Unqualified functions and operators below are pg_catalog's whatever the role's settings say.
      // The connection is never handed back to a pool, so this does not leak.
      await client.query(`SET search_path = pg_catalog, pg_temp; LISTEN ${quoteIdent(wakeChannel)}`);
    } catch (error) {
      await conn.release();
      throw error;
    }
    connection = conn;
    broken = false;
    owned.clear();
    horizons = [];
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
    for (const { channel, bytes } of batch) finish(channel, bytes);
  };

  const finish = (channel: string, bytes: number): void => {
    const left = (unfinished.get(channel) ?? 1) - 1;
    if (left > 0) unfinished.set(channel, left);
    else unfinished.delete(channel);
    const leftBytes = (unfinishedBytes.get(channel) ?? bytes) - bytes;
    if (left > 0) unfinishedBytes.set(channel, leftBytes);
    else unfinishedBytes.delete(channel);
    counters.rowsUnfinished -= 1;
    counters.bytesUnfinished -= bytes;
  };

  // Which ids may be delivered without overtaking a transaction still open. Ids come from a
  // sequence without cache, and an INSERT holds RowExclusiveLock on the outbox from before it
  // takes its id until its transaction ends. So once the sequence's last value L was read, every
  // id up to L whose row is not visible yet belongs to a transaction that, right after, still
  // holds that lock: ids up to L are final when those transactions are gone. Transactions that
  // never touch the outbox do not hold anyone back. Two statements, one round trip: L first.
  const refreshHorizon = async (): Promise<bigint> => {
    const conn = connection;
    if (!conn || broken) throw new Error('the outbox connection was lost');
    const results = (await conn.client.query(
      `SELECT (CASE WHEN s.is_called THEN s.last_value ELSE 0 END)::text AS last FROM ${sequence} AS s;
       SELECT DISTINCT l.virtualtransaction AS vxid FROM pg_catalog.pg_locks AS l
        WHERE l.locktype = 'relation' AND l.relation = '${table.replaceAll("'", "''")}'::pg_catalog.regclass AND l.mode = 'RowExclusiveLock' AND l.granted
          AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database())
          AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()`,
    )) as unknown as Array<pg.QueryResult>;
    const last = BigInt((results[0]!.rows[0] as { last: string }).last);
    const running = new Set(results[1]!.rows.map((row: { vxid: string }) => row.vxid));
    const now = performance.now();
    // A horizon whose blockers are gone is final, and so is every older one: a transaction
    // blocking an older horizon and still open would block the newer one too.
    let settledAt = -1;
    horizons.forEach((horizon, index) => {
      if (![...horizon.blockers].some((vxid) => running.has(vxid))) settledAt = index;
    });
    if (settledAt >= 0) {
      finalHorizon = horizons[settledAt]!.upTo > finalHorizon ? horizons[settledAt]!.upTo : finalHorizon;
      horizons = horizons.slice(settledAt + 1);
    }
    const newest = horizons.length > 0 ? horizons[horizons.length - 1]!.upTo : finalHorizon;
    if (running.size === 0) {
      if (last > finalHorizon) finalHorizon = last;
      horizons = [];
    } else if (last > newest) {
      counters.orderWaits += 1;
      if (horizons.length >= 64) {
        // Bounded: merge into the newest, which then waits for the blockers of both.
        const merged = horizons.pop()!;
        horizons.push({ upTo: last, blockers: new Set([...merged.blockers, ...running]), since: merged.since, warned: merged.warned });
      } else {
        horizons.push({ upTo: last, blockers: running, since: now, warned: new Set() });
      }
    }
    // Past the bound, deliver what committed behind the open transactions; never wait forever.
    let horizon = finalHorizon;
    for (const pending of horizons) if (now - pending.since >= orderWait && pending.upTo > horizon) horizon = pending.upTo;
    return horizon;
  };

  // When the next check is due while rows wait behind an open transaction: soon at first (most
  // transactions are short and a rollback sends no wake-up), never later than the bound.
  const recheckDelay = (): number | undefined => {
    if (horizons.length === 0) return undefined;
    const now = performance.now();
    const oldest = horizons[0]!;
    const untilBound = Math.max(0, oldest.since + orderWait - now);
    return Math.min(untilBound + 1, Math.max(5, Math.min(200, (now - oldest.since) / 2)));
  };

  // Takes the lock of one channel that has rows, no other bridge holds, and has nothing of ours
  // still in flight (after a reconnect those must settle before the channel is read again). One
  // per pass, tried in random order, so that bridges woken by the same commit share the channels.
  const claim = async (ctx: SourceContext): Promise<void> => {
    const free = channels.filter((channel) => !owned.has(channel) && !unfinished.has(channel));
    if (free.length === 0) {
      squatted = [];
      return;
    }
    for (let i = free.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    // LIMIT 1 stops at the first lock taken; CASE checks for rows before trying the lock.
    const rows = await query<{ channel: string }>(
      `SELECT c AS channel FROM unnest($1::text[]) AS c
        WHERE CASE WHEN EXISTS (SELECT 1 FROM ${table} AS o WHERE o.channel = c AND (o.replay_of IS NOT NULL OR c <> ALL ($3::text[])))
                   THEN pg_try_advisory_lock(${lockNamespace}, hashtext($2 || c)) ELSE false END
        LIMIT 1`,
      [free, `${schema}.`, reservedChannels],
    );
    for (const { channel } of rows) {
      owned.add(channel);
      cursors.set(channel, '0');
    }
    if (rows.length > 0) squatted = squatted.filter((squat) => !owned.has(squat.channel));
    const now = performance.now();
    if (rows.length === 0 && now - squatCheckedAt >= squatCheckIntervalMs) {
      squatCheckedAt = now;
      await findSquatters(ctx, free);
    }
  };

  // A channel with rows that no bridge of ours could lock: find who holds its lock. A session whose
  // role cannot delete outbox rows is no bridge, so a role squats it; say so, loudly, until it ends.
  const findSquatters = async (ctx: SourceContext, free: readonly string[]): Promise<void> => {
    const found = await query<{ channel: string; pid: number; role: string | null }>(
      `SELECT c AS channel, l.pid, a.usename::text AS role
         FROM pg_catalog.unnest($1::text[]) AS c
         JOIN pg_catalog.pg_locks AS l
           ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${lockNamespace}::oid
          AND l.objid = ((pg_catalog.hashtext($2 || c)::bigint + 4294967296) % 4294967296)::oid
          AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database())
         LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
        WHERE EXISTS (SELECT 1 FROM ${table} AS o WHERE o.channel = c)
          AND NOT coalesce(pg_catalog.has_table_privilege(a.usesysid, $3, 'DELETE'), false)`,
      [free, `${schema}.`, table],
    );
    squatted = found.map(({ channel, pid, role }) => ({ channel, pid: Number(pid), role }));
    const now = performance.now();
    for (const squat of squatted) {
      const key = `${squat.channel}\u0000${squat.pid}`;
      if (now - (squatLoggedAt.get(key) ?? -Infinity) < 60_000) continue;
      if (squatLoggedAt.size > 1000) squatLoggedAt.clear();
      squatLoggedAt.set(key, now);
      ctx.logger.error(
        { channel: squat.channel, pid: squat.pid, role: squat.role },
        `[outbox] Channel "${squat.channel}" cannot be drained: its lock is held by backend ${squat.pid} of role ${squat.role ?? 'unknown'}, which cannot delete from ${table}, so it is no bridge; end that session (SELECT pg_terminate_backend(${squat.pid})) and revoke the role's LOGIN if it is hostile`,
      );
    }
  };

  const read = async (ctx: SourceContext, channel: string, horizon: bigint): Promise<boolean> => {
    const pending = unfinished.get(channel) ?? 0;
    if (pending >= batchSize) return false;
    const budget = batchBytes - (unfinishedBytes.get(channel) ?? 0);
    if (pending > 0 && budget <= 0) return false;
    // A row may commit after rows with higher ids were read (only once orderWaitMs ran out);
    // reading from the head again now and then, once everything handed over was deleted, picks it
    // up. Until then, read past the cursor.
    const now = performance.now();
    if (pending > 0 && now - (headReadAt.get(channel) ?? 0) > pollInterval) return false;
    let from = cursors.get(channel) ?? '0';
    if (pending === 0) {
      from = '0';
      headReadAt.set(channel, now);
    }
    // Up to batchSize rows and the byte budget (the first row always): sizes come from the
    // varlena headers (octet_length reads no TOAST), and a payload over maxRowBytes is not read.
    // Routing keys and content types are read only as far as it takes to refuse one (a direct
    // INSERT may write a 200 MB content type; the daemon once held it all to dead-letter it).
    const rows = await query<OutboxRowRecord>(
      `WITH head AS (
         SELECT o.id, CASE WHEN pg_catalog.octet_length(o.payload) > $6 THEN 0 ELSE pg_catalog.octet_length(o.payload) END
                  + pg_catalog.octet_length(o.routing_key) + coalesce(pg_catalog.octet_length(o.content_type), 0) + coalesce(pg_catalog.pg_column_size(o.headers), 0) AS size
           FROM ${table} AS o
          WHERE o.channel = $1 AND o.id > $2::bigint AND o.id <= $3::bigint AND ($7::boolean OR o.replay_of IS NOT NULL)
          ORDER BY o.id LIMIT $4
       ), sized AS (
         SELECT h.id, h.size, pg_catalog.sum(h.size) OVER (ORDER BY h.id) - h.size AS before FROM head AS h
       )
       SELECT o.id::text AS id, pg_catalog.left(o.routing_key, ${maxOutboxKeyBytes + 1}) AS routing_key,
              CASE WHEN pg_catalog.octet_length(o.payload) > $6 THEN pg_catalog.left(o.payload, ${rawPrefixChars}) ELSE o.payload END AS payload,
              pg_catalog.octet_length(o.payload) AS payload_bytes,
              pg_catalog.jsonb_typeof(o.headers) AS headers_type, pg_catalog.octet_length(o.headers::text) AS headers_bytes,
              h.keys AS header_keys, h.types AS header_types, h."values" AS header_values,
              pg_catalog.left(o.content_type, ${maxOutboxKeyBytes + 1}) AS content_type, pg_catalog.date_part('epoch', o.created_at)::text AS created_epoch, o.replay_of, z.size::text AS size
         FROM sized AS z JOIN ${table} AS o ON o.id = z.id
         LEFT JOIN LATERAL (
           SELECT pg_catalog.array_agg(e.key ORDER BY e.key) AS keys, pg_catalog.array_agg(pg_catalog.jsonb_typeof(e.value) ORDER BY e.key) AS types,
                  pg_catalog.array_agg(e.value #>> '{}' ORDER BY e.key) AS "values"
             FROM pg_catalog.jsonb_each(CASE WHEN pg_catalog.jsonb_typeof(o.headers) = 'object' AND pg_catalog.octet_length(o.headers::text) <= ${defaultMaxHeaderBytes} THEN o.headers END) AS e
         ) AS h ON true
        WHERE z.before < $5
        ORDER BY o.id`,
      [channel, from, horizon.toString(), batchSize - pending, pending === 0 ? batchBytes : budget, maxRowBytes, !reservedChannels.includes(channel)],
    );
    if (rows.length === 0) {
      if (pending > 0) return false;
      await query(`SELECT pg_advisory_unlock(${lockNamespace}, hashtext($1))`, [`${schema}.${channel}`]);
      owned.delete(channel);
      return false;
    }
    for (const row of rows) hand(ctx, channel, row);
    cursors.set(channel, rows[rows.length - 1]!.id);
    const overtaken = horizons[0];
    if (overtaken && BigInt(rows[rows.length - 1]!.id) > finalHorizon && !overtaken.warned.has(channel)) {
      overtaken.warned.add(channel);
      counters.orderWaitTimeouts += 1;
      ctx.logger.warn(
        { channel, waitedMs: Math.round(performance.now() - overtaken.since), orderWaitMs: orderWait },
        '[outbox] A transaction holding an outbox id stayed open past orderWaitMs; delivering the committed rows behind it, so its row will arrive late, out of id order',
      );
    }
    return true;
  };

  const hand = (ctx: SourceContext, channel: string, row: OutboxRowRecord): void => {
    const bytes = Number(row.size);
    unfinished.set(channel, (unfinished.get(channel) ?? 0) + 1);
    const channelBytes = (unfinishedBytes.get(channel) ?? 0) + bytes;
    unfinishedBytes.set(channel, channelBytes);
    counters.rowsRead += 1;
    counters.bytesRead += bytes;
    counters.rowsUnfinished += 1;
    counters.bytesUnfinished += bytes;
    if (channelBytes > counters.maxChannelBytesUnfinished) counters.maxChannelBytesUnfinished = channelBytes;
    const id = BigInt(row.id);
    const previous = lastHanded.get(channel);
    if (previous !== undefined && id < previous) {
      counters.lateRows += 1;
      ctx.logger.warn({ channel, id: row.id, after: previous.toString() }, '[outbox] Delivering a row out of id order: its transaction committed after orderWaitMs ran out');
    } else {
      lastHanded.set(channel, id);
    }
    outstanding += 1;
    const result = outboxRowToEvent(
      {
        id: row.id,
        routingKey: row.routing_key,
        payload: row.payload,
        payloadBytes: row.payload_bytes,
        headersType: row.headers_type,
        headersBytes: row.headers_bytes,
        headerKeys: row.header_keys,
        headerTypes: row.header_types,
        headerValues: row.header_values,
        contentType: row.content_type,
        createdAtEpoch: row.created_epoch,
        replayOf: row.replay_of,
      },
      channel,
      { maxRowBytes, maxHeaderBytes: defaultMaxHeaderBytes },
    );
    let outcome: Promise<void>;
    if (result.ok) {
      counters.reservedHeadersDropped += result.droppedHeaders;
      outcome = ctx.deliver(result.event);
    } else {
      counters.poisonRows += 1;
      ctx.logger.error({ err: result.poison.error, channel, eventId: result.poison.id }, '[outbox] Dead-lettering a row that cannot be delivered');
      outcome = ctx.deadLetter(result.poison);
    }
    outcome
      .then(
        () => {
          settled.push({ id: row.id, channel, bytes });
        },
        (error: unknown) => {
          // The bridge is stopping: the row stays queued for the next run.
          finish(channel, bytes);
          if (!BridgeError.isInstance(error) || error.code !== 'ERR_BRIDGE_ABORTED') {
            ctx.logger.error({ err: error, channel, eventId: `outbox:${row.id}` }, '[outbox] Delivery failed unexpectedly; the row stays queued');
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
      const timer = setTimeout(done, Math.min(pollInterval, recheckDelay() ?? pollInterval));
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
    if (connection && !broken && (code === '42P01' || code === '3F000' || code === '42703' || code === '42501')) {
      // Not installed (yet), installed by an older version, or a grant missing: wait for a person
      // quietly rather than reconnect in a loop.
      if (!missingWarned) {
        missingWarned = true;
        if (code === '42501') {
          ctx.logger.error({ err: error, schema }, `[outbox] The bridge's role may not drain ${table} (${(error as Error).message}); grant it what docs/sql.md lists for the bridge role`);
        } else if (code === '42703') {
          ctx.logger.error({ err: error, schema }, `[outbox] ${table} is from an older version of pg-event-bridge (${(error as Error).message}); upgrade it with installSchema() or pg-event-bridge install-sql`);
        } else {
          ctx.logger.warn({ schema }, `[outbox] ${table} does not exist, so durable messages are not drained; install it with installSchema() or pg-event-bridge install-sql`);
        }
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
          await claim(ctx);
          const horizon = owned.size > 0 ? await refreshHorizon() : finalHorizon;
          missingWarned = false;
          attempt = 0;
          for (const channel of [...owned]) {
            if (stopping || !ctx.hasCapacity) break;
            if (await read(ctx, channel, horizon)) progressed = true;
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
    stats() {
      return { ...counters, finalHorizon: finalHorizon.toString(), waitingUpTo: horizons.length > 0 ? horizons[horizons.length - 1]!.upTo.toString() : null, squattedChannels: squatted };
    },
    async afterDrain() {
      if (outstanding > 0) await new Promise<void>((resolve) => (allSettled = resolve));
      await close();
    },
  };
}
