import pg from 'pg';
import { BridgeError } from '../errors.js';
import { AckTracker, type AckUnit } from '../delivery/ack-tracker.js';
import { backoffDelay, sleep, type RetryOptions } from '../delivery/backoff.js';
import { matchesWalFilters, parseWalFilters, type WalFilter } from '../rules/parse-wal-filters.js';
import type { BridgeEvent, Source, SourceContext } from '../source.js';
import { PgoutputDecoder, type PgRelation, type PgoutputMessage } from './pgoutput-decoder.js';
import { readWal2jsonHead } from './read-wal2json-head.js';
import { defaultApplicationName, quoteIdent, type PostgresInput } from './postgres-connection.js';
import { encodeStandbyStatus, formatLsn, parseLsn, parseReplicationMessage, type Lsn } from './replication-protocol.js';

/** pg-event-proxy's default slot name, kept for drop-in compatibility. */
export const defaultSlotName = 'pg_event_proxy';
/** pg-event-proxy's default wal2json parameters. */
export const defaultWal2jsonParams = `"format-version" '2', "include-types" '0'`;
/** The prefix of the bridge's own heartbeat messages, never forwarded. */
export const heartbeatPrefix = 'pg_event_bridge.heartbeat';

/** Options of {@link createWalSource}. */
export interface WalSourceOptions {
  /** A connection string or client config (the role needs REPLICATION), or a pool whose options are reused. */
  readonly postgres: PostgresInput;
  readonly plugin: 'wal2json' | 'pgoutput';
  /** @default 'pg_event_proxy' */
  readonly slot?: string;
  /** Create the slot when it does not exist (never a temporary one). @default true */
  readonly createSlot?: boolean;
  /** The wal2json option list of START_REPLICATION, as pg-event-proxy's WAL2JSON_PARAMS. @default `"format-version" '2', "include-types" '0'` */
  readonly wal2jsonParams?: string;
  /** pgoutput's publication. @default 'pg_event_bridge' */
  readonly publication?: string;
  /** Create the publication `FOR ALL TABLES` when missing. @default true */
  readonly createPublication?: boolean;
  /** Only forward these changes: `customer:insert,billing.invoice`. @default everything */
  readonly filters?: string | readonly WalFilter[];
  /** How often to send the server a status update, in ms. @default 10000 */
  readonly statusIntervalMs?: number;
  /** How often to write a heartbeat into the WAL so an idle database's slot can advance, in ms; 0 disables. @default 30000 */
  readonly heartbeatIntervalMs?: number;
  /** Backoff of reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
  readonly reconnect?: RetryOptions;
  /** @default 'pg-event-bridge' */
  readonly applicationName?: string;
}

const actions: Record<string, string> = { I: 'insert', U: 'update', D: 'delete', T: 'truncate', M: 'message' };

/**
 * Streams logical replication from a slot (wal2json or pgoutput) and forwards one event per row
 * change, routing key `<schema>.<table>.<action>`. At-least-once: the slot's flush position moves
 * only to the end of transactions whose every event was accepted or dead-lettered, so after a crash
 * the unconfirmed tail is sent again. Event ids are `<transaction LSN>/<index>`, stable across
 * replays: the commit LSN for pgoutput, the transaction's first LSN for wal2json (whose commit LSN
 * is only known at its end).
 *
 * @example
 * ```ts
 * const source = createWalSource({ postgres: 'postgres://replicator@db/app', plugin: 'pgoutput', filters: 'customer:insert' });
 * ```
 */
export function createWalSource(options: WalSourceOptions): Source {
  const plugin = options.plugin;
  const slot = options.slot ?? defaultSlotName;
  const publication = options.publication ?? 'pg_event_bridge';
  const filters = typeof options.filters === 'string' ? parseWalFilters(options.filters) : (options.filters ?? []);
  const startOptions = plugin === 'pgoutput' ? `proto_version '1', publication_names '${quoteIdent(publication).replaceAll("'", "''")}', messages 'true'` : wal2jsonOptions(options.wal2jsonParams ?? defaultWal2jsonParams);
  const statusInterval = options.statusIntervalMs ?? 10_000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 30_000;
  const reconnect = { initialDelayMs: 100, maxDelayMs: 10_000, ...options.reconnect };
  const name = plugin;
  const baseConfig: pg.ClientConfig =
    options.postgres instanceof pg.Pool ? { ...options.postgres.options } : typeof options.postgres === 'string' ? { connectionString: options.postgres } : { ...options.postgres };
  const clientConfig: pg.ClientConfig = { application_name: options.applicationName ?? defaultApplicationName, keepAlive: true, ...baseConfig };

  let context: SourceContext | undefined;
  let stream: ReplicationStream | undefined;
  let stopping = false;
  let lastSentFlush = 0n;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client(clientConfig);
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const prepare = async (first: boolean): Promise<void> => {
    const rows = await query<{ plugin: string; database: string; current: string; confirmed: string | null }>(
      `SELECT plugin, database, current_database() AS current, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    );
    const existing = rows[0];
    if (!existing) {
      if (!first) throw fatal(`replication slot "${slot}" disappeared while the bridge was streaming; changes since ${formatLsn(lastSentFlush)} may be lost. Recreate it deliberately and restart the bridge`);
      if (options.createSlot === false) throw config(`replication slot "${slot}" does not exist; create it with SELECT pg_create_logical_replication_slot('${slot}', '${plugin}') or allow createSlot`);
      const [created] = await query<{ lsn: string }>(`SELECT lsn::text FROM pg_create_logical_replication_slot($1, $2)`, [slot, plugin]);
      context?.logger.warn({ slot, plugin, lsn: created?.lsn }, `[${name}] Created replication slot; changes committed before it are not streamed`);
    } else {
      if (existing.plugin !== plugin) throw config(`replication slot "${slot}" uses plugin ${existing.plugin}, not ${plugin}; use another slot name for ${plugin}`);
      if (existing.database !== existing.current) throw config(`replication slot "${slot}" belongs to database "${existing.database}", not "${existing.current}"`);
      const confirmed = existing.confirmed ? parseLsn(existing.confirmed) : 0n;
      if (!first && confirmed > lastSentFlush && lastSentFlush > 0n) {
        throw fatal(`replication slot "${slot}" was moved to ${formatLsn(confirmed)} by someone else (this bridge confirmed ${formatLsn(lastSentFlush)}); it may have been dropped and recreated, so changes in between were not delivered`);
      }
      if (first) lastSentFlush = confirmed;
    }
    if (plugin === 'pgoutput') {
      const found = await query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [publication]);
      if (found.length === 0) {
        if (options.createPublication === false) throw config(`publication "${publication}" does not exist; CREATE PUBLICATION ${quoteIdent(publication)} FOR ALL TABLES, or allow createPublication`);
        await query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR ALL TABLES`);
      }
    }
  };

  const connect = async (ctx: SourceContext, first: boolean): Promise<void> => {
    await prepare(first);
    const next = new ReplicationStream(clientConfig, (lsn) => {
      lastSentFlush = lsn;
    }, statusInterval);
    next.onLost = (error) => lost(next, error);
    const decoder = new WalDecoder(plugin, filters, ctx, next);
    next.onMessage = (data, lsn) => decoder.onXLogData(data, lsn);
    await next.start(`START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(lastSentFlush)} (${startOptions})`, lastSentFlush);
    stream = next;
    ctx.report({ type: 'connected', source: name });
  };

  const lost = (lostStream: ReplicationStream, error: Error): void => {
    if (stream !== lostStream || stopping || !context) return;
    stream = undefined;
    const ctx = context;
    ctx.report({ type: 'disconnected', source: name, error });
    ctx.logger.warn({ err: error, slot }, `[${name}] Lost the replication connection; resuming from the slot`);
    void lostStream.close();
    void (async () => {
      for (let attempt = 1; !stopping; attempt++) {
        try {
          await sleep(backoffDelay(attempt, reconnect), ctx.signal);
          await connect(ctx, false);
          return;
        } catch (retryError) {
          if (stopping || ctx.signal.aborted) return;
          if (BridgeError.isInstance(retryError) && !retryError.retryable) {
            ctx.report({ type: 'failed', source: name, error: retryError });
            return;
          }
          ctx.logger.warn({ err: retryError, attempt }, `[${name}] Reconnecting the replication stream failed; trying again`);
        }
      }
    })();
  };

  const heartbeat = (): void => {
    if (heartbeatInterval <= 0) return;
    heartbeatTimer = setTimeout(() => {
      // A non-transactional logical message: WAL the slot can decode, so it advances on idle databases.
      query(`SELECT pg_logical_emit_message(false, $1, '')`, [heartbeatPrefix])
        .catch((error: unknown) => context?.logger.debug({ err: error }, `[${name}] Heartbeat failed`))
        .finally(() => {
          if (!stopping) heartbeat();
        });
    }, heartbeatInterval);
    heartbeatTimer.unref();
  };

  return {
    name,
    async start(ctx) {
      if (context) throw new BridgeError('ERR_BRIDGE_STATE', `[${name}] start() called twice`);
      context = ctx;
      try {
        await connect(ctx, true);
      } catch (error) {
        context = undefined;
        if (BridgeError.isInstance(error)) throw error;
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[${name}] Could not stream slot "${slot}": ${(error as Error).message}${hintOf(error)}`, { retryable: true, cause: error });
      }
      heartbeat();
    },
    async stop() {
      // Stop reading but keep the connection: what is still in flight gets acknowledged in
      // afterDrain, so a graceful stop leaves no unconfirmed window behind.
      stopping = true;
      clearTimeout(heartbeatTimer);
      stream?.pauseReading();
    },
    async afterDrain() {
      const current = stream;
      stream = undefined;
      await current?.close();
    },
  };
}

/** One START_REPLICATION connection: reads CopyData, sends standby status updates. */
class ReplicationStream {
  onMessage: (data: Buffer, lsn: Lsn) => void = () => undefined;
  onLost: (error: Error) => void = () => undefined;
  tracker!: AckTracker;
  readonly #client: pg.Client;
  readonly #onFlushSent: (lsn: Lsn) => void;
  readonly #statusInterval: number;
  #received = 0n;
  #sentFlush = -1n;
  #statusTimer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #closed = false;
  #paused = false;
  #readingStopped = false;

  constructor(config: pg.ClientConfig, onFlushSent: (lsn: Lsn) => void, statusInterval: number) {
    this.#client = new pg.Client({ ...config, replication: 'database' } as pg.ClientConfig);
    this.#onFlushSent = onFlushSent;
    this.#statusInterval = statusInterval;
  }

  async start(command: string, from: Lsn): Promise<void> {
    this.tracker = new AckTracker(from, () => this.#scheduleFlush());
    this.#received = from;
    const client = this.#client;
    client.on('error', (error) => this.#lose(error));
    client.on('end', () => this.#lose(new Error('replication connection ended')));
    await client.connect();
    const connection = this.#connection;
    connection.on('copyData', ({ chunk }: { chunk: Buffer }) => this.#onCopyData(chunk));
    await new Promise<void>((resolve, reject) => {
      connection.once('replicationStart', () => resolve());
      client.query(command).then(
        () => this.#lose(new Error('the server ended the replication stream')),
        (error: Error) => {
          reject(error);
          this.#lose(error);
        },
      );
    });
    this.#statusTimer = setInterval(() => this.#sendStatus(), this.#statusInterval);
    this.#statusTimer.unref();
  }

  /** Stops reading for good (the bridge is stopping); status updates still go out. */
  pauseReading(): void {
    this.#readingStopped = true;
    if (!this.#closed) this.#connection.stream.pause();
  }

  /** Stops reading until `until` resolves; status updates keep flowing so the server waits. */
  pause(until: Promise<void>): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#connection.stream.pause();
    void until.then(() => {
      this.#paused = false;
      if (!this.#closed && !this.#readingStopped) this.#connection.stream.resume();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sendStatus();
    this.#closed = true;
    clearInterval(this.#statusTimer);
    this.#client.on('error', () => undefined);
    await this.#client.end().catch(() => undefined);
  }

  get #connection(): { stream: { pause(): void; resume(): void }; sendCopyFromChunk(chunk: Buffer): void } & NodeJS.EventEmitter {
    // node-postgres exposes the protocol connection only internally; replication needs CopyBoth.
    return (this.#client as unknown as { connection: never }).connection;
  }

  #onCopyData(chunk: Buffer): void {
    if (this.#closed) return;
    const message = parseReplicationMessage(chunk);
    if (!message) return;
    if (message.type === 'xlog') {
      if (message.walEnd > this.#received) this.#received = message.walEnd;
      this.onMessage(message.data, message.lsn);
    } else {
      if (message.walEnd > this.#received) this.#received = message.walEnd;
      // Everything before this keepalive was handed over already; if it is all confirmed, the
      // slot may move to the server's position even though nothing relevant happened.
      this.tracker.advanceIdle(message.walEnd);
      if (message.replyRequested) this.#sendStatus();
    }
  }

  #scheduleFlush(): void {
    // Confirmations arrive per message; one status update per event-loop turn is plenty.
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#sendStatus();
    });
  }

  #sendStatus(): void {
    if (this.#closed) return;
    const flushed = this.tracker.confirmed;
    try {
      this.#connection.sendCopyFromChunk(encodeStandbyStatus(this.#received, flushed));
      if (flushed !== this.#sentFlush) {
        this.#sentFlush = flushed;
        this.#onFlushSent(flushed);
      }
    } catch (error) {
      this.#lose(error as Error);
    }
  }

  #lose(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#statusTimer);
    this.onLost(error);
  }
}

/** Makes an event's body from its id and its change's LSN (as text). */
type EventBody = (id: string, lsnText: string) => Buffer;

/** Turns XLogData payloads into events and acknowledgement units, for either plugin. */
class WalDecoder {
  readonly #pgoutput = new PgoutputDecoder();
  #unit: AckUnit | undefined;
  /** The transaction's LSN and commit time as every event of it shows them, formatted once. */
  #txLsnText = '0/0';
  #xid = 0;
  #commitTime = new Date(0);
  #commitTimeText = '';
  #index = 0;

  constructor(
    private readonly plugin: 'wal2json' | 'pgoutput',
    private readonly filters: readonly WalFilter[],
    private readonly ctx: SourceContext,
    private readonly stream: ReplicationStream,
  ) {}

  onXLogData(data: Buffer, lsn: Lsn): void {
    if (this.plugin === 'pgoutput') this.#onPgoutput(this.#pgoutput.decode(data), lsn);
    else this.#onWal2json(data, lsn);
    if (!this.ctx.hasCapacity) this.stream.pause(this.ctx.waitForCapacity());
  }

  #onWal2json(data: Buffer, lsn: Lsn): void {
    const change = readWal2jsonHead(data);
    if (change.action === 'B') return this.#begin(lsn, change.xid ?? 0, change.timestamp ? new Date(change.timestamp) : new Date());
    if (change.action === 'C') return this.#commit(lsn);
    const action = actions[change.action] ?? change.action;
    if (change.action === 'M') return this.#message(change.prefix ?? '', lsn, () => data);
    this.#change(change.schema ?? '', change.table ?? '', action, lsn, () => data);
  }

  #onPgoutput(message: PgoutputMessage, lsn: Lsn): void {
    switch (message.tag) {
      case 'begin':
        return this.#begin(message.finalLsn, message.xid, message.commitTime);
      case 'commit':
        return this.#commit(lsn);
      case 'insert':
        return this.#row(message.relation, 'insert', lsn, message.row, {}, []);
      case 'update':
        return this.#row(message.relation, 'update', lsn, message.row, message.old ?? {}, message.unchanged);
      case 'delete':
        return this.#row(message.relation, 'delete', lsn, {}, message.old, []);
      case 'truncate':
        for (const relation of message.relations) this.#row(relation, 'truncate', lsn, {}, {}, []);
        return;
      case 'message':
        return this.#message(message.prefix, lsn, () => message.content);
      default:
        return;
    }
  }

  #row(relation: PgRelation, action: string, lsn: Lsn, data: object, dataOld: object, unchanged: readonly string[]): void {
    this.#change(relation.schema, relation.table, action, lsn, (id, lsnText) =>
      Buffer.from(
        JSON.stringify({
          id,
          lsn: lsnText,
          xid: this.#xid,
          commitTime: this.#commitTimeText,
          schema: relation.schema,
          table: relation.table,
          action,
          data,
          dataOld,
          unchanged,
        }),
      ),
    );
  }

  #begin(txLsn: Lsn, xid: number, commitTime: Date): void {
    this.#unit = this.stream.tracker.open();
    this.#txLsnText = formatLsn(txLsn);
    this.#xid = xid;
    this.#commitTime = commitTime;
    this.#commitTimeText = commitTime.toISOString();
    this.#index = 0;
  }

  #commit(lsn: Lsn): void {
    this.#unit?.close(lsn);
    this.#unit = undefined;
  }

  #message(prefix: string, lsn: Lsn, body: EventBody): void {
    if (prefix === heartbeatPrefix) {
      if (!this.#unit) this.stream.tracker.advanceIdle(lsn);
      return;
    }
    this.#emit(`message.${prefix}`, 'message', lsn, body);
  }

  #change(schema: string, table: string, action: string, lsn: Lsn, body: EventBody): void {
    if (!matchesWalFilters(this.filters, schema, table, action)) {
      this.#index += 1;
      return;
    }
    this.#emit(`${schema}.${table}.${action}`, action, lsn, body);
  }

  #emit(routingKey: string, action: string, lsn: Lsn, body: EventBody): void {
    // Outside a transaction (wal2json without include-transaction, non-transactional messages)
    // each change is its own unit.
    const standalone = this.#unit === undefined;
    if (standalone) this.#begin(lsn, 0, new Date());
    const id = `${this.#txLsnText}/${this.#index++}`;
    const lsnText = formatLsn(lsn);
    const event: BridgeEvent = {
      id,
      source: this.plugin,
      routingKey,
      body: body(id, lsnText),
      contentType: 'application/json',
      headers: { 'x-wal-lsn': lsnText, 'x-wal-action': action },
      timestamp: this.#commitTime,
    };
    this.#unit?.track(this.ctx.deliver(event));
    if (standalone) this.#commit(lsn);
  }
}

function wal2jsonOptions(params: string): string {
  if (/"format-version"\s*'1'/.test(params)) {
    throw config(`wal2json params ${params} ask for format-version 1; the bridge forwards one message per change and needs format-version 2`);
  }
  return /"format-version"/.test(params) ? params : `"format-version" '2', ${params}`;
}

function config(message: string): BridgeError {
  return new BridgeError('ERR_BRIDGE_CONFIG', `[wal] ${message}`);
}

function fatal(message: string): BridgeError {
  return new BridgeError('ERR_BRIDGE_POSTGRES', `[wal] ${message}`, { retryable: false });
}

function hintOf(error: unknown): string {
  const hint = (error as { hint?: string } | undefined)?.hint;
  return hint ? ` (${hint})` : '';
}
