import { createHash } from 'node:crypto';
import { BridgeError, connectDedicated, withDeadline, type DedicatedConnection, type Logger } from '@pg-event-bridge/core';

/** Options of {@link acquireLeadership}. */
export interface LeaderLockOptions {
  readonly postgres: string;
  /** The `pg_try_advisory_lock` key. */
  readonly key: bigint;
  /** How often a standby tries again, and how often the leader checks its lock connection. */
  readonly pollIntervalMs: number;
  /** Replication slots the bridge will stream: a new leader waits until their previous holder let go. */
  readonly slots: readonly string[];
  readonly applicationName?: string;
  readonly logger: Logger;
  /** Aborting it gives up waiting (resolves undefined) or ends the leadership. */
  readonly signal?: AbortSignal;
  /** Called each time this daemon becomes a standby (another one holds the lock). */
  readonly onStandby?: () => void;
  /**
   * Throw when the very first connection to Postgres fails, so a daemon that cannot reach its
   * database at all exits (exit code 1) as it does without leader election. Later connection
   * failures are retried every poll interval. @default true
   */
  readonly failFast?: boolean;
}

/** This daemon holds the lock, on a connection of its own, until `lost` settles or `release()`. */
export interface Leadership {
  /** Resolves with the reason once the lock connection is gone: leadership can no longer be proven. */
  readonly lost: Promise<Error>;
  /** Ends the lock session, which releases the lock for a standby. */
  release(): Promise<void>;
}

/**
 * The lock key daemons with the same configuration share: derived from what makes two daemons do
 * the same work (the replication slot and every upstream's rules), never from secrets.
 */
export function deriveLockKey(slot: string, upstreams: readonly { name: string; rules: readonly { text: string }[] }[]): bigint {
  const rules = upstreams.flatMap((upstream) => upstream.rules.map((rule) => `${upstream.name}\u0000${rule.text.replace(/\s+/g, '')}`)).sort();
  const digest = createHash('sha256').update(['pg-event-bridge leader', slot, ...rules].join('\n')).digest();
  return digest.readBigInt64BE(0);
}

/**
 * Waits until this daemon holds a session-level advisory lock (`pg_try_advisory_lock(key)`) on a
 * dedicated connection, polling every `pollIntervalMs`; resolves undefined when `signal` aborts
 * first. While leader, the connection is checked every poll interval; when it fails (Postgres
 * restarted, network cut) `lost` resolves and the caller must stop working: Postgres releases the
 * lock when the session ends, so a standby may already have taken over.
 */
export async function acquireLeadership(options: LeaderLockOptions): Promise<Leadership | undefined> {
  const { logger, signal, pollIntervalMs } = options;
  const keyText = options.key.toString();
  let failFast = options.failFast ?? true;
  let standby = false;
  let holderCheckedAt = -Infinity;
  let unreachable = false;

  while (!signal?.aborted) {
    let connection: DedicatedConnection;
    const opening = connectDedicated(options.postgres, options.applicationName);
    try {
      connection = await withDeadline(() => opening, connectTimeoutMs, 'Connecting to Postgres for the leader lock', { signal });
    } catch (error) {
      // A connection that opens after we gave up on it is closed at once.
      opening.then((late) => late.release(), () => undefined);
      if (signal?.aborted) return undefined;
      if (failFast) {
        throw new BridgeError('ERR_BRIDGE_POSTGRES', `[cli] Could not connect to Postgres for the leader lock: ${(error as Error).message}`, { retryable: true, cause: error });
      }
      if (!unreachable) logger.warn({ err: error }, '[cli] Cannot reach Postgres for the leader lock; trying again every poll interval');
      unreachable = true;
      if (!(await pause(pollIntervalMs, signal))) return undefined;
      continue;
    }
    failFast = false;
    unreachable = false;
    const { client } = connection;
    let broken: Error | undefined;
    const onBroken = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onBroken);
    client.on('end', () => onBroken(new Error('the lock connection ended')));
    try {
      while (!signal?.aborted && !broken) {
        const { rows } = await withDeadline(
          () => client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [keyText]),
          queryTimeoutMs(options),
          'The leader lock query',
          { signal },
        );
        if (rows[0]?.locked) {
          await waitForSlots(client, options);
          if (signal?.aborted) break;
          return lead(connection, options, () => broken);
        }
        if (!standby) {
          standby = true;
          options.onStandby?.();
        }
        if (performance.now() - holderCheckedAt >= holderCheckIntervalMs) {
          holderCheckedAt = performance.now();
          await reportHolder(client, keyText, options);
        }
        if (!(await pause(pollIntervalMs, signal))) break;
      }
    } catch (error) {
      broken ??= error as Error;
    }
    await connection.release();
    if (broken && !signal?.aborted) {
      logger.warn({ err: broken }, '[cli] Lost the connection used to wait for the leader lock; reconnecting');
      if (!(await pause(pollIntervalMs, signal))) return undefined;
    }
  }
  return undefined;
}

function lead(connection: DedicatedConnection, options: LeaderLockOptions, alreadyBroken: () => Error | undefined): Leadership {
  const { client } = connection;
  // A check that takes this long means a partition: better to stop than to run without the lock.
  const checkTimeoutMs = queryTimeoutMs(options);
  let resolveLost!: (reason: Error) => void;
  const lost = new Promise<Error>((resolve) => {
    resolveLost = resolve;
  });
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const lose = (reason: Error) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    resolveLost(reason);
    void connection.release();
  };
  const early = alreadyBroken();
  if (early) lose(early);
  client.on('error', (error: Error) => lose(error));
  client.on('end', () => lose(new Error('the lock connection ended')));

  const check = () => {
    timer = setTimeout(() => {
      let timeout: NodeJS.Timeout | undefined;
      Promise.race([
        client.query<{ held: boolean }>(`SELECT count(*) > 0 AS held FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted`),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`the lock connection did not answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
        }),
      ])
        .then(({ rows }) => {
          if (!rows[0]?.held) lose(new Error('the advisory lock is no longer held by this session'));
          else if (!done) check();
        })
        .catch((error: unknown) => lose(error as Error))
        .finally(() => clearTimeout(timeout));
    }, options.pollIntervalMs);
  };
  if (!done) check();
  return {
    lost,
    async release() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      await connection.release();
    },
  };
}

/**
 * A new leader may win the lock a moment before the old leader's walsender has exited (both end
 * with the old process's connections), and START_REPLICATION on a slot still active fails. Waits
 * for the slots to be free, up to a little over wal_sender_timeout's default of 60 s.
 */
// How often a standby says who holds the leader lock, in ms.
const holderCheckIntervalMs = 60_000;

/**
 * Logs who holds the leader lock. Any role can take an advisory lock, so a session that is no
 * daemon of this group (another role, which cannot drain the outbox either) may squat it and keep
 * every daemon in standby: that is an error, naming the backend to end.
 */
async function reportHolder(client: DedicatedConnection['client'], keyText: string, options: LeaderLockOptions): Promise<void> {
  const { rows } = await withDeadline(
    () =>
      client.query<{ pid: number; role: string | null; app: string | null; bridge: boolean }>(
      `SELECT l.pid, a.usename::text AS role, a.application_name AS app,
              coalesce(a.usename = current_user
                OR (pg_catalog.to_regclass('events.outbox') IS NOT NULL AND pg_catalog.has_table_privilege(a.usesysid, 'events.outbox', 'DELETE')), false) AS bridge
         FROM pg_catalog.pg_locks AS l LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid = (($1::bigint >> 32) & 4294967295)::oid AND l.objid = ($1::bigint & 4294967295)::oid
          AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database())
        LIMIT 1`,
      [keyText],
    ),
    queryTimeoutMs(options),
    'The leader lock holder query',
    { signal: options.signal },
  );
  const holder = rows[0];
  if (!holder) return;
  const fields = { pid: holder.pid, role: holder.role, applicationName: holder.app };
  if (holder.bridge) options.logger.info(fields, `[cli] Standby: the leader lock is held by backend ${holder.pid} of role ${holder.role ?? 'unknown'}`);
  else {
    options.logger.error(
      fields,
      `[cli] The leader lock is held by backend ${holder.pid} of role ${holder.role ?? 'unknown'}, which is no daemon of this group (another role, without DELETE on events.outbox), so every daemon waits; end that session (SELECT pg_terminate_backend(${holder.pid})) or set another leader_lock_key`,
    );
  }
}

async function waitForSlots(client: DedicatedConnection['client'], options: LeaderLockOptions): Promise<void> {
  if (options.slots.length === 0) return;
  const deadline = Date.now() + 70_000;
  let logged = false;
  while (!options.signal?.aborted && Date.now() < deadline) {
    const { rows } = await withDeadline(
      () => client.query<{ slot_name: string; active_pid: number }>('SELECT slot_name, active_pid FROM pg_replication_slots WHERE active AND slot_name = ANY($1)', [options.slots]),
      queryTimeoutMs(options),
      'The replication slot query',
      { signal: options.signal },
    );
    if (rows.length === 0) return;
    if (!logged) options.logger.info({ slots: rows }, '[cli] Waiting for the previous leader to release its replication slot');
    logged = true;
    await pause(Math.min(options.pollIntervalMs, 200), options.signal);
  }
}

// Every query of the lock connection answers within this, or the connection is given up: on a
// blackholed network nothing else would end it, nor let SIGTERM through.
function queryTimeoutMs(options: LeaderLockOptions): number {
  return Math.max(5_000, options.pollIntervalMs * 3);
}
const connectTimeoutMs = 15_000;

/** Sleeps; false when the signal aborted instead. */
async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
