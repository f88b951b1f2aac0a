import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { BridgeError } from '../errors.js';
import { abortError, backoffDelay, sleep, type RetryOptions } from '../delivery/backoff.js';
import { walSources } from '../rules/parse-rules.js';
import { splitRouting, splitRoutingBytes } from '../rules/split-routing.js';
import { OptionProblems, isPositiveInteger } from '../util/option-problems.js';
import { withDeadline } from '../util/with-deadline.js';
import type { Source, SourceContext } from '../source.js';
import { interceptNotifications, socketOf } from './notification-framer.js';
import { connectDedicated, defaultConnectTimeoutMs, quoteIdent, type DedicatedConnection, type PostgresInput } from './postgres-connection.js';

/** Options of {@link createNotifySource}. */
export interface NotifySourceOptions {
  readonly postgres: PostgresInput;
  /** Channels to LISTEN on, case-sensitive (they are quoted). */
  readonly channels: readonly string[];
  /** Backoff between reconnection attempts, which go on until the bridge stops. @default 100 ms doubling to 10 s */
  readonly reconnect?: RetryOptions;
  /** How often an idle connection is checked with `SELECT 1`, in ms; 0 disables. @default 15000 */
  readonly healthCheckIntervalMs?: number;
  /** How long the check, and the LISTEN after each connect, may take before the connection is considered dead, in ms. @default 10000 */
  readonly healthCheckTimeoutMs?: number;
  /** How long each connection attempt may take, in ms; a blackholed server fails the attempt and the next follows. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** @default 'pg-event-bridge' */
  readonly applicationName?: string;
}

/**
 * LISTENs on the rule channels over one dedicated connection and turns each notification into an
 * event (`key|body` split by {@link splitRouting}). Plain NOTIFY is at-most-once: when the
 * connection drops, the source reconnects forever with capped, jittered backoff, LISTENs again and
 * reports a `gap` covering the window in which notifications were lost. While the delivery engine
 * is full it stops reading the socket, so Postgres buffers instead of the bridge.
 *
 * @example
 * ```ts
 * const source = createNotifySource({ postgres: 'postgres://localhost/app', channels: ['events'] });
 * ```
 */
export function createNotifySource(options: NotifySourceOptions): Source {
  const problems = new OptionProblems('notify');
  for (const channel of options.channels) {
    // Events of these sources are routed to WAL targets, which carry only the database's row changes.
    if ((walSources as readonly string[]).includes(channel)) problems.add('channels', channel, `a channel other than ${walSources.join(' and ')}, which name the logical replication sources`);
  }
  const connectTimeout = options.connectTimeoutMs ?? defaultConnectTimeoutMs;
  if (!isPositiveInteger(connectTimeout)) problems.add('connectTimeoutMs', connectTimeout, 'a whole number of milliseconds greater than 0');
  problems.throwIfAny();
  const channels = new Set(options.channels);
  const reconnect = { initialDelayMs: 100, maxDelayMs: 10_000, ...options.reconnect };
  const healthInterval = options.healthCheckIntervalMs ?? 15_000;
  const healthTimeout = options.healthCheckTimeoutMs ?? 10_000;
  let context: SourceContext | undefined;
  let connection: DedicatedConnection | undefined;
  let stopping = false;
  let paused = false;
  let healthTimer: NodeJS.Timeout | undefined;

  const listen = async (ctx: SourceContext): Promise<void> => {
    const conn = await connectDedicated(options.postgres, options.applicationName, { connectTimeoutMs: connectTimeout });
    const { client } = conn;
    client.on('error', (error) => lost(conn, error));
    client.on('end', () => lost(conn, new Error('connection ended')));
    // The payload's bytes straight off the socket; through node-postgres's `notification` event
    // (decoded into a string, then encoded again) where its socket cannot be reached.
    const direct = interceptNotifications(
      client,
      (channel, payload) => {
        if (channels.has(channel)) forward(ctx, client, channel, splitRoutingBytes(payload));
      },
      {
        malformed: (message, reason, channel, pid) => deadLetterMalformed(ctx, client, message, reason, channel, pid),
        desync: (reason) => {
          ctx.logger.error({ reason }, '[notify] The connection sent bytes that are not Postgres messages; dropping it and reconnecting');
          socketOf(client)?.destroy();
          lost(conn, new Error(`unreadable bytes from Postgres: ${reason}`));
        },
      },
    );
    if (!direct) {
      client.on('notification', ({ channel, payload = '' }) => {
        if (!channels.has(channel)) return;
        const { routingKey, body } = splitRouting(payload);
        forward(ctx, client, channel, { routingKey, body: Buffer.from(body) });
      });
    }
    try {
      // One round trip, and never two queries in flight on one client; a silent server fails it.
      const statement = [...channels].map((channel) => `LISTEN ${quoteIdent(channel)}`).join('; ');
      await withDeadline(() => client.query(statement), healthTimeout, 'LISTEN', { onExpire: () => socketOf(client)?.destroy() });
    } catch (error) {
      await conn.release();
      throw error;
    }
    if (stopping) {
      // stop() ran while this connection was opening: it must not outlive the source.
      await conn.release();
      throw abortError();
    }
    connection = conn;
    paused = false;
    scheduleHealthCheck(conn);
    ctx.report({ type: 'connected', source: 'notify' });
    ctx.logger.debug({ directRead: direct }, '[notify] Listening');
  };

  const forward = (ctx: SourceContext, client: pg.ClientBase, channel: string, { routingKey, body }: { routingKey: string; body: Buffer }): void => {
    ctx
      .deliver({ id: randomUUID(), source: channel, routingKey, body, timestamp: new Date() })
      .catch((error: unknown) => {
        if (!BridgeError.isInstance(error) || error.code !== 'ERR_BRIDGE_ABORTED') {
          ctx.logger.error({ err: error, channel }, '[notify] Delivery failed unexpectedly');
        }
      });
    if (!ctx.hasCapacity && !paused) pauseUntilCapacity(ctx, client);
  };

  // A notification that cannot be read faithfully is dead-lettered with its bytes. While many
  // such stores are pending (the dead-letter store is failing), reading stops, so they stay bounded.
  let pendingDeadLetters = 0;
  const maxPendingDeadLetters = 100;
  const deadLetterMalformed = (ctx: SourceContext, client: pg.ClientBase, message: Buffer, reason: string, channel: string | undefined, pid: number | undefined): void => {
    const position = `notification from backend ${pid ?? 'unknown'}${channel === undefined ? '' : ` on ${quoteIdent(channel)}`}`;
    pendingDeadLetters += 1;
    const socket = socketOf(client);
    if (pendingDeadLetters >= maxPendingDeadLetters) socket?.pause();
    ctx
      .deadLetter({
        id: randomUUID(),
        source: channel ?? 'notify',
        position,
        raw: message,
        error: new BridgeError('ERR_BRIDGE_DECODE', `[notify] Unreadable notification (${position}): ${reason}; stored with its bytes`),
      })
      .catch(() => undefined)
      .finally(() => {
        pendingDeadLetters -= 1;
        if (pendingDeadLetters === maxPendingDeadLetters - 1 && connection?.client === client && !paused) socket?.resume();
      });
  };

  const pauseUntilCapacity = (ctx: SourceContext, client: pg.ClientBase): void => {
    const socket = socketOf(client);
    if (!socket) return;
    paused = true;
    socket.pause();
    void ctx.waitForCapacity().then(() => {
      if (connection?.client !== client) return;
      paused = false;
      socket.resume();
    });
  };

  const scheduleHealthCheck = (conn: DedicatedConnection): void => {
    if (healthInterval <= 0) return;
    healthTimer = setTimeout(() => {
      if (connection !== conn || stopping) return;
      // A paused socket cannot answer; back-pressure is not a dead connection.
      if (paused) {
        scheduleHealthCheck(conn);
        return;
      }
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(new Error(`no answer to a health check within ${healthTimeout} ms`)), healthTimeout);
      });
      Promise.race([conn.client.query('SELECT 1'), expired]).then(
        () => {
          clearTimeout(timeout);
          scheduleHealthCheck(conn);
        },
        (error: Error) => {
          clearTimeout(timeout);
          socketOf(conn.client)?.destroy();
          lost(conn, error);
        },
      );
    }, healthInterval);
    healthTimer.unref();
  };

  const lost = (conn: DedicatedConnection, error: Error): void => {
    if (connection !== conn || stopping || !context) return;
    connection = undefined;
    clearTimeout(healthTimer);
    const from = new Date();
    const ctx = context;
    ctx.report({ type: 'disconnected', source: 'notify', error });
    ctx.logger.warn({ err: error, channels: [...channels] }, '[notify] Lost the Postgres connection; notifications sent until it is back are lost');
    void conn.release();
    void reconnectLoop(ctx, from, error);
  };

  const reconnectLoop = async (ctx: SourceContext, from: Date, cause: Error): Promise<void> => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await sleep(backoffDelay(attempt, reconnect), ctx.signal);
        await listen(ctx);
        ctx.report({ type: 'gap', source: 'notify', channels: [...channels], from, to: new Date(), error: cause });
        return;
      } catch (error) {
        if (stopping || ctx.signal.aborted) return;
        ctx.logger.warn({ err: error, attempt }, '[notify] Reconnecting to Postgres failed; trying again');
      }
    }
  };

  return {
    name: 'notify',
    async start(ctx) {
      if (context) throw new BridgeError('ERR_BRIDGE_STATE', '[notify] start() called twice');
      context = ctx;
      try {
        await listen(ctx);
      } catch (error) {
        context = undefined;
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[notify] Could not LISTEN on ${[...channels].map(quoteIdent).join(', ')}: ${(error as Error).message}`, {
          retryable: true,
          cause: error,
        });
      }
    },
    async stop() {
      stopping = true;
      clearTimeout(healthTimer);
      const conn = connection;
      connection = undefined;
      await conn?.release();
    },
  };
}
