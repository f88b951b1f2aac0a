import type { Socket } from 'node:net';
import pg from 'pg';
import { BridgeError } from '../errors.js';
import { AckTracker, type AckUnit } from '../delivery/ack-tracker.js';
import { backoffDelay, sleep, type RetryOptions } from '../delivery/backoff.js';
import { matchesWalFilters, parseWalFilters, walActions, type WalFilter } from '../rules/parse-wal-filters.js';
import type { BridgeEvent, Source, SourceContext } from '../source.js';
import { OptionProblems, isPositiveInteger } from '../util/option-problems.js';
import { encodePgoutputEnvelope } from './encode-pgoutput-envelope.js';
import { managePublication, type PublicationState, type QueryFn } from './manage-publication.js';
import { PgoutputDecoder, type PgRelation, type PgRow, type PgoutputMessage } from './pgoutput-decoder.js';
import { parseWal2jsonTime, readWal2jsonHead } from './read-wal2json-head.js';
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
  /**
   * Create the publication when missing, listing the tables that have a primary key or replica
   * identity (never `FOR ALL TABLES`, which makes the application's UPDATE and DELETE fail on tables
   * without one), outside `excludeSchemas`, and keep that list current. An existing publication
   * the bridge did not create is used as it is. @default true
   */
  readonly createPublication?: boolean;
  /** Schemas the publication the bridge creates leaves out: its own. @default ['events'] */
  readonly excludeSchemas?: readonly string[];
  /** How often the publication the bridge manages is brought up to date with new and changed tables, in ms; 0 only at (re)connect. @default 30000 */
  readonly publicationRefreshMs?: number;
  /**
   * Logical messages (`pg_logical_emit_message`) to forward, by exact prefix. Any role can write
   * them, so none is forwarded unless listed. They arrive as `message.<prefix>` with header
   * `x-wal-kind: message` (row changes carry `x-wal-kind: change`); a prefix may not end in
   * `.insert`, `.update`, `.delete` or `.truncate`, so their keys never look like a change's.
   * @default [] (none)
   */
  readonly messagePrefixes?: readonly string[];
  /**
   * A connection that delivers nothing for this long is presumed dead and replaced. The bridge
   * asks the server for a keepalive when half of it has passed in silence. @default 20000
   */
  readonly receiveTimeoutMs?: number;
  /** Limit of each connection attempt (and of START_REPLICATION's answer), in ms. @default 10000 */
  readonly connectTimeoutMs?: number;
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
  const messagePrefixes = options.messagePrefixes ?? [];
  const statusInterval = options.statusIntervalMs ?? 10_000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 30_000;
  const receiveTimeout = options.receiveTimeoutMs ?? 20_000;
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  const publicationRefresh = options.publicationRefreshMs ?? 30_000;
  const excludeSchemas = options.excludeSchemas ?? ['events'];
  const problems = new OptionProblems(plugin);
  if (!isPositiveInteger(receiveTimeout)) problems.add('receiveTimeoutMs', receiveTimeout, 'a whole number of milliseconds greater than 0');
  if (!isPositiveInteger(connectTimeout)) problems.add('connectTimeoutMs', connectTimeout, 'a whole number of milliseconds greater than 0');
  if (publicationRefresh !== 0 && !isPositiveInteger(publicationRefresh)) problems.add('publicationRefreshMs', publicationRefresh, 'a whole number of milliseconds, or 0 to refresh only at connect');
  if (!Array.isArray(messagePrefixes)) problems.add('messagePrefixes', messagePrefixes, 'a list of logical message prefixes');
  else for (const prefix of messagePrefixes) {
    const problem = messagePrefixProblem(prefix);
    if (problem) problems.add('messagePrefixes', prefix, problem);
  }
  problems.throwIfAny();
  const forwarded = new Set(messagePrefixes);
  const startOptions =
    plugin === 'pgoutput'
      ? `proto_version '1', publication_names '${quoteIdent(publication).replaceAll("'", "''")}'${forwarded.size > 0 ? `, messages 'true'` : ''}`
      : wal2jsonOptions(options.wal2jsonParams ?? defaultWal2jsonParams, messagePrefixes);
  const reconnect = { initialDelayMs: 100, maxDelayMs: 10_000, ...options.reconnect };
  const name = plugin;
  const baseConfig: pg.ClientConfig =
    options.postgres instanceof pg.Pool ? { ...options.postgres.options } : typeof options.postgres === 'string' ? { connectionString: options.postgres } : { ...options.postgres };
  const clientConfig: pg.ClientConfig = {
    application_name: options.applicationName ?? defaultApplicationName,
    // The receive deadline finds a dead peer of the stream; keepalive still guards idle sockets.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: connectTimeout,
    ...baseConfig,
  };

  let context: SourceContext | undefined;
  let stream: ReplicationStream | undefined;
  let stopping = false;
  let lastSentFlush = 0n;
  /** The walsender of the last stream: after a dead connection it may still hold the slot. */
  let lastBackendPid: number | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let reported = '';

  const withClient = async <T>(work: (query: QueryFn) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ query_timeout: 30_000, ...clientConfig });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(async (text, values = []) => (await client.query(text, values)).rows);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const query = <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => withClient((q) => q<T>(text, values));

  const syncPublication = async (query: QueryFn): Promise<void> => {
    let state: PublicationState;
    try {
      state = await managePublication(query, { publication, create: options.createPublication !== false, filters, excludeSchemas });
    } catch (error) {
      if ((error as { code?: string }).code === undefined && /does not exist/.test((error as Error).message)) throw config((error as Error).message);
      throw error;
    }
    const logger = context?.logger;
    if (state.converted) {
      logger?.warn({ publication }, `[${name}] Publication "${publication}" was FOR ALL TABLES (an earlier version created it), which makes UPDATE and DELETE fail on tables without a replica identity; it now lists the tables that have one`);
    }
    if (state.added.length + state.removed.length > 0) logger?.info({ publication, added: state.added, removed: state.removed }, `[${name}] Updated the tables of publication "${publication}"`);
    for (const failure of state.failed) logger?.warn({ publication, table: failure.table, err: failure.error }, `[${name}] Could not update ${failure.table} in publication "${publication}": ${failure.error}`);
    const key = state.unpublishable.join(',');
    if (key !== reported) {
      reported = key;
      if (state.unpublishable.length > 0) {
        logger?.warn(
          { publication, tables: state.unpublishable },
          state.managed
            ? `[${name}] Not streaming ${state.unpublishable.length} table(s) without a primary key or replica identity (publishing them would make their UPDATE and DELETE fail): ${state.unpublishable.join(', ')}. Add a primary key or run ALTER TABLE ... REPLICA IDENTITY FULL; the bridge then adds them`
            : `[${name}] Publication "${publication}" holds ${state.unpublishable.length} table(s) without a replica identity, whose UPDATE and DELETE fail: ${state.unpublishable.join(', ')}. Add a primary key, ALTER TABLE ... REPLICA IDENTITY FULL, or remove them from the publication`,
        );
      }
    }
  };

  const prepare = async (first: boolean): Promise<void> => {
    await withClient(async (query) => {
      // The publication must exist before the slot's start: pgoutput looks it up as of each
      // transaction it decodes, and fails on transactions older than the publication.
      if (plugin === 'pgoutput') await syncPublication(query);
      if (!first && lastBackendPid !== undefined) {
        // A stream presumed dead may still hold the slot on the server until wal_sender_timeout.
        await query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid = $2`, [slot, lastBackendPid]).catch(() => undefined);
      }
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
    });
  };

  const connect = async (ctx: SourceContext, first: boolean): Promise<void> => {
    await prepare(first);
    const next = new ReplicationStream(clientConfig, (lsn) => {
      lastSentFlush = lsn;
    }, { statusInterval, receiveTimeout, connectTimeout });
    next.onLost = (error) => lost(next, error);
    const decoder = new WalDecoder(plugin, filters, forwarded, ctx, next);
    next.onMessage = (data, lsn) => decoder.onXLogData(data, lsn);
    next.onUndecodable = (raw, lsn, error) => decoder.poison(raw, lsn, error);
    try {
      await next.start(`START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(lastSentFlush)} (${startOptions})`, lastSentFlush);
    } finally {
      if (next.backendPid !== undefined) lastBackendPid = next.backendPid;
    }
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

  const refreshPublication = (): void => {
    if (plugin !== 'pgoutput' || publicationRefresh <= 0) return;
    refreshTimer = setTimeout(() => {
      withClient(syncPublication)
        .catch((error: unknown) => context?.logger.warn({ err: error, publication }, `[${name}] Could not bring publication "${publication}" up to date; trying again later`))
        .finally(() => {
          if (!stopping) refreshPublication();
        });
    }, publicationRefresh);
    refreshTimer.unref();
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
      refreshPublication();
    },
    async stop() {
      // Stop reading but keep the connection: what is still in flight gets acknowledged in
      // afterDrain, so a graceful stop leaves no unconfirmed window behind.
      stopping = true;
      clearTimeout(heartbeatTimer);
      clearTimeout(refreshTimer);
      stream?.pauseReading();
    },
    async afterDrain() {
      const current = stream;
      stream = undefined;
      await current?.close();
    },
  };
}

/**
 * Why a logical message prefix cannot be forwarded (empty, the heartbeat's, or one that would make
 * `message.<prefix>` read like a row change's routing key), or undefined when it can.
 *
 * @example
 * ```ts
 * messagePrefixProblem('orders.update'); // 'a prefix not ending in ".update", ...'
 * ```
 */
export function messagePrefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string' || prefix === '') return 'a non-empty prefix';
  if (prefix === heartbeatPrefix) return 'a prefix other than the bridge heartbeat\'s';
  const last = prefix.slice(prefix.lastIndexOf('.') + 1);
  if ((walActions as readonly string[]).includes(last)) return `a prefix not ending in ".${last}", so that message.<prefix> never looks like a row change's <schema>.<table>.${last}`;
  return undefined;
}

/** One START_REPLICATION connection: reads CopyData, sends standby status updates. */
class ReplicationStream {
  onMessage: (data: Buffer, lsn: Lsn) => void = () => undefined;
  onUndecodable: (raw: Buffer, lsn: Lsn, error: unknown) => void = () => undefined;
  onLost: (error: Error) => void = () => undefined;
  tracker!: AckTracker;
  /** The walsender's process id, once connected. */
  backendPid: number | undefined;
  readonly #client: pg.Client;
  readonly #onFlushSent: (lsn: Lsn) => void;
  readonly #statusInterval: number;
  readonly #receiveTimeout: number;
  readonly #connectTimeout: number;
  #received = 0n;
  #sentFlush = -1n;
  #statusTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #lastReceivedAt = Date.now();
  #flushScheduled = false;
  #closed = false;
  #paused = false;
  #readingStopped = false;

  constructor(config: pg.ClientConfig, onFlushSent: (lsn: Lsn) => void, timing: { statusInterval: number; receiveTimeout: number; connectTimeout: number }) {
    this.#client = new pg.Client({ ...config, replication: 'database' } as pg.ClientConfig);
    this.#onFlushSent = onFlushSent;
    this.#statusInterval = timing.statusInterval;
    this.#receiveTimeout = timing.receiveTimeout;
    this.#connectTimeout = timing.connectTimeout;
  }

  async start(command: string, from: Lsn): Promise<void> {
    this.tracker = new AckTracker(from, () => this.#scheduleFlush());
    this.#received = from;
    const client = this.#client;
    client.on('error', (error) => this.#lose(error));
    client.on('end', () => this.#lose(new Error('replication connection ended')));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new BridgeError('ERR_BRIDGE_POSTGRES', `[wal] The replication connection did not start streaming within ${this.#connectTimeout} ms (connectTimeoutMs)`, { retryable: true });
        reject(error);
        this.#lose(error);
      }, this.#connectTimeout);
    });
    try {
      await Promise.race([this.#start(command), timedOut]);
    } catch (error) {
      this.#lose(error as Error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#statusTimer = setInterval(() => this.#sendStatus(), this.#statusInterval);
    this.#statusTimer.unref();
    this.#lastReceivedAt = Date.now();
    this.#deadlineTimer = setInterval(() => this.#checkDeadline(), Math.max(10, Math.floor(this.#receiveTimeout / 4)));
    this.#deadlineTimer.unref();
  }

  async #start(command: string): Promise<void> {
    const client = this.#client;
    await client.connect();
    this.backendPid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
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
      this.#lastReceivedAt = Date.now();
      if (!this.#closed && !this.#readingStopped) this.#connection.stream.resume();
    });
  }

  async close(): Promise<void> {
    if (!this.#closed) this.#sendStatus();
    this.#stopTimers();
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#client.on('error', () => undefined);
    if (wasClosed) {
      // Lost: the socket may lead nowhere, and end() would wait for an answer that never comes.
      this.#connection.stream.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, this.#connectTimeout)))]);
    clearTimeout(timer);
    this.#connection.stream.destroy();
  }

  get #connection(): { stream: Socket; sendCopyFromChunk(chunk: Buffer): void } & NodeJS.EventEmitter {
    // node-postgres exposes the protocol connection only internally; replication needs CopyBoth.
    return (this.#client as unknown as { connection: never }).connection;
  }

  #onCopyData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#lastReceivedAt = Date.now();
    let message;
    try {
      message = parseReplicationMessage(chunk);
    } catch (error) {
      this.onUndecodable(Buffer.from(chunk), this.#received, error);
      return;
    }
    if (!message) return;
    if (message.walEnd > this.#received) this.#received = message.walEnd;
    if (message.type === 'xlog') {
      this.onMessage(message.data, message.lsn);
    } else {
      // Everything before this keepalive was handed over already; if it is all confirmed, the
      // slot may move to the server's position even though nothing relevant happened.
      this.tracker.advanceIdle(message.walEnd);
      if (message.replyRequested) this.#sendStatus();
    }
  }

  #checkDeadline(): void {
    if (this.#closed) return;
    if (this.#paused || this.#readingStopped) {
      // Not reading: silence is ours, not the server's.
      this.#lastReceivedAt = Date.now();
      return;
    }
    const silent = Date.now() - this.#lastReceivedAt;
    if (silent >= this.#receiveTimeout) {
      this.#lose(
        new BridgeError('ERR_BRIDGE_POSTGRES', `[wal] Nothing received on the replication connection for ${silent} ms (receiveTimeoutMs ${this.#receiveTimeout}), not even a keepalive; presuming it dead`, {
          retryable: true,
        }),
      );
    } else if (silent >= this.#receiveTimeout / 2) {
      // The walsender answers a status update that requests a reply with a keepalive.
      this.#sendStatus(true);
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

  #sendStatus(replyRequested = false): void {
    if (this.#closed) return;
    const flushed = this.tracker.confirmed;
    try {
      this.#connection.sendCopyFromChunk(encodeStandbyStatus(this.#received, flushed, Date.now(), replyRequested));
      if (flushed !== this.#sentFlush) {
        this.#sentFlush = flushed;
        this.#onFlushSent(flushed);
      }
    } catch (error) {
      this.#lose(error as Error);
    }
  }

  #stopTimers(): void {
    clearInterval(this.#statusTimer);
    clearInterval(this.#deadlineTimer);
  }

  #lose(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    this.#connection.stream.destroy();
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
    private readonly messagePrefixes: ReadonlySet<string>,
    private readonly ctx: SourceContext,
    private readonly stream: ReplicationStream,
  ) {}

  onXLogData(data: Buffer, lsn: Lsn): void {
    try {
      if (this.plugin === 'pgoutput') this.#onPgoutput(this.#pgoutput.decode(data), lsn);
      else this.#onWal2json(data, lsn);
    } catch (error) {
      this.poison(Buffer.from(data), lsn, error);
    }
    if (!this.ctx.hasCapacity) this.stream.pause(this.ctx.waitForCapacity());
  }

  /**
   * Dead-letters a message that cannot be decoded or encoded, as part of its transaction, so the
   * slot moves past it once the dead letter is stored. A broken Begin still opens its transaction
   * and a broken Commit still closes it: the rest of the stream stays in step.
   */
  poison(raw: Buffer, lsn: Lsn, error: unknown): void {
    const kind = this.#transactionMarker(raw);
    if (kind === 'begin') this.#begin(lsn, 0, new Date());
    const standalone = this.#unit === undefined;
    if (standalone) this.#begin(lsn, 0, new Date());
    const id = `${this.#txLsnText}/${this.#index++}`;
    const position = formatLsn(lsn);
    const reason = BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_DECODE' ? error.message : `[${this.plugin}] ${(error as Error)?.message ?? String(error)}`;
    const decodeError = new BridgeError('ERR_BRIDGE_DECODE', `${reason} (message of ${raw.length} bytes at LSN ${position})`, { cause: error });
    this.ctx.logger.error({ err: decodeError, eventId: id, lsn: position }, `[${this.plugin}] Dead-lettering a replication message that cannot be decoded; the stream goes on`);
    this.#unit?.track(this.ctx.deadLetter({ id, source: this.plugin, position, raw, error: decodeError, timestamp: this.#commitTime }));
    if (standalone || kind === 'commit') this.#commit(lsn);
  }

  #transactionMarker(raw: Buffer): 'begin' | 'commit' | undefined {
    if (this.plugin === 'pgoutput') return raw[0] === 0x42 ? 'begin' : raw[0] === 0x43 ? 'commit' : undefined;
    const action = /^\s*\{\s*"action"\s*:\s*"([BC])"/.exec(raw.toString('latin1', 0, 64))?.[1];
    return action === 'B' ? 'begin' : action === 'C' ? 'commit' : undefined;
  }

  #onWal2json(data: Buffer, lsn: Lsn): void {
    const change = readWal2jsonHead(data);
    // With include-timestamp (which the bridge asks for unless told otherwise) every message
    // carries the commit time; without, the time it was received is all there is.
    const time = parseWal2jsonTime(change.timestamp) ?? new Date();
    if (change.action === 'B') return this.#begin(lsn, change.xid ?? 0, time);
    if (change.action === 'C') return this.#commit(lsn);
    if (change.action === 'M') return this.#message(change.prefix ?? '', lsn, time, () => data);
    const action = actions[change.action] ?? change.action;
    this.#change(change.schema ?? '', change.table ?? '', action, lsn, time, () => data);
  }

  #onPgoutput(message: PgoutputMessage, lsn: Lsn): void {
    switch (message.tag) {
      case 'begin':
        return this.#begin(message.finalLsn, message.xid, message.commitTime);
      case 'commit':
        return this.#commit(lsn);
      case 'insert':
        return this.#row(message.relation, 'insert', lsn, message.row, undefined);
      case 'update':
        return this.#row(message.relation, 'update', lsn, message.row, message.old);
      case 'delete':
        return this.#row(message.relation, 'delete', lsn, undefined, message.old);
      case 'truncate':
        for (const relation of message.relations) this.#row(relation, 'truncate', lsn, undefined, undefined);
        return;
      case 'message':
        return this.#message(message.prefix, lsn, this.#unit ? this.#commitTime : new Date(), () => message.content);
      default:
        return;
    }
  }

  #row(relation: PgRelation, action: string, lsn: Lsn, row: PgRow | undefined, old: PgRow | undefined): void {
    this.#change(relation.schema, relation.table, action, lsn, this.#commitTime, (id, lsnText) =>
      encodePgoutputEnvelope({ id, lsn: lsnText, xid: this.#xid, commitTime: this.#commitTimeText, relation, action, ...(row && { row }), ...(old && { old }) }),
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

  #message(prefix: string, lsn: Lsn, time: Date, body: EventBody): void {
    if (prefix === heartbeatPrefix) {
      if (!this.#unit) this.stream.tracker.advanceIdle(lsn);
      return;
    }
    // Any role can emit logical messages: only the prefixes the configuration names go out.
    if (!this.messagePrefixes.has(prefix)) {
      if (this.#unit) this.#index += 1;
      else this.stream.tracker.advanceIdle(lsn);
      return;
    }
    this.#emit(`message.${prefix}`, 'message', lsn, time, body);
  }

  #change(schema: string, table: string, action: string, lsn: Lsn, time: Date, body: EventBody): void {
    if (!matchesWalFilters(this.filters, schema, table, action)) {
      this.#index += 1;
      return;
    }
    this.#emit(`${schema}.${table}.${action}`, action, lsn, time, body);
  }

  #emit(routingKey: string, action: string, lsn: Lsn, time: Date, body: EventBody): void {
    // Outside a transaction (wal2json without include-transaction, non-transactional messages)
    // each change is its own unit.
    const standalone = this.#unit === undefined;
    if (standalone) this.#begin(lsn, 0, time);
    const id = `${this.#txLsnText}/${this.#index++}`;
    const lsnText = formatLsn(lsn);
    try {
      const event: BridgeEvent = {
        id,
        source: this.plugin,
        routingKey,
        body: body(id, lsnText),
        contentType: 'application/json',
        headers: { 'x-wal-lsn': lsnText, 'x-wal-action': action, 'x-wal-kind': action === 'message' ? 'message' : 'change' },
        timestamp: this.#commitTime,
      };
      this.#unit?.track(this.ctx.deliver(event));
    } catch (error) {
      // The body could not be written (a value that is not valid UTF-8, json that is not JSON).
      this.#index -= 1;
      throw error;
    } finally {
      if (standalone) this.#commit(lsn);
    }
  }
}

function wal2jsonOptions(params: string, messagePrefixes: readonly string[]): string {
  if (/"format-version"\s*'1'/.test(params)) {
    throw config(`wal2json params ${params} ask for format-version 1; the bridge forwards one message per change and needs format-version 2`);
  }
  let options = /"format-version"/.test(params) ? params : `"format-version" '2', ${params}`;
  // The commit time, for each event's timestamp (X-Event-Timestamp); a "timestamp" field in each body.
  if (!/"include-timestamp"/.test(options)) options += `, "include-timestamp" '1'`;
  // wal2json's list is comma-separated without escapes; the bridge filters by prefix again anyway.
  if (!/"(add|filter)-msg-prefixes"/.test(options) && !messagePrefixes.some((prefix) => prefix.includes(','))) {
    options += `, "add-msg-prefixes" '${[heartbeatPrefix, ...messagePrefixes].join(',').replaceAll("'", "''")}'`;
  }
  return options;
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
