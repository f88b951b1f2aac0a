import { connectDedicated, withDeadline, type DedicatedConnection } from '@pg-event-bridge/core';
import type { SlotLag } from './daemon-monitor.js';

/** Options of {@link startPostgresProbe}. */
export interface PostgresProbeOptions {
  readonly postgres: string;
  /** Replication slots whose lag to measure (those the WAL rules use). */
  readonly slots: readonly string[];
  /** @default 2000 */
  readonly intervalMs?: number;
  readonly applicationName?: string;
  readonly onResult: (result: { slots: SlotLag[]; outboxDepth: number | null; error: string | null }) => void;
}

// One round (connect and three queries) may take this long before its connection is dropped.
const roundTimeoutMs = 5_000;

/**
 * Measures what only Postgres knows, on one small connection of its own, every `intervalMs`:
 * the lag of each replication slot in bytes, and the depth of `events.outbox` when that table
 * exists. Failures are reported, never thrown, and the next round reconnects. A round that takes
 * over 5 s (a blackholed network) is abandoned and its connection dropped.
 */
export function startPostgresProbe(options: PostgresProbeOptions): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 2000;
  let connection: DedicatedConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const stopping = new AbortController();

  const round = async (): Promise<void> => {
    const attempt = { expired: false };
    try {
      // statement_timeout covers a slow server; only a client-side deadline covers a dead network.
      await withDeadline(() => measure(attempt), roundTimeoutMs, 'The Postgres probe', { signal: stopping.signal });
    } catch (error) {
      attempt.expired = true;
      const lost = connection;
      connection = undefined;
      // Stopping does not wait for a dead connection to close (it is destroyed within 2 s).
      if (stopped) {
        void lost?.release();
        return;
      }
      await lost?.release();
      options.onResult({ slots: [], outboxDepth: null, error: (error as Error).message });
    }
  };

  const measure = async (attempt: { expired: boolean }): Promise<void> => {
    if (!connection) {
      const next = await connectDedicated(options.postgres, options.applicationName, { connectTimeoutMs: roundTimeoutMs });
      if (stopped || attempt.expired) {
        await next.release();
        return;
      }
      next.client.on('error', () => {
        if (connection === next) connection = undefined;
        void next.release();
      });
      // A probe must never hold anything up: 2 s per statement at most.
      await next.client.query(`SET statement_timeout = 2000`);
      if (attempt.expired) {
        await next.release();
        return;
      }
      connection = next;
    }
    if (stopped) return;
    const { client } = connection;
    let slots: SlotLag[] = [];
    if (options.slots.length > 0) {
      const result = await client.query<{ slot_name: string; active: boolean; lag: string | null }>(
        `SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag
           FROM pg_replication_slots WHERE slot_name = ANY($1) ORDER BY slot_name`,
        [options.slots],
      );
      slots = result.rows.map((row) => ({ slot: row.slot_name, active: row.active, lagBytes: Math.max(0, Number(row.lag ?? 0)) }));
    }
    let outboxDepth: number | null = null;
    const exists = await client.query<{ found: boolean }>(`SELECT to_regclass('events.outbox') IS NOT NULL AS found`);
    if (exists.rows[0]?.found) {
      const depth = await client.query<{ depth: string }>(`SELECT count(*)::text AS depth FROM events.outbox`);
      outboxDepth = Number(depth.rows[0]?.depth ?? 0);
    }
    if (!stopped && !attempt.expired) options.onResult({ slots, outboxDepth, error: null });
  };

  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = round();
      void running.finally(() => {
        if (!stopped) schedule(intervalMs);
      });
    }, delay);
    timer.unref();
  };
  schedule(0);

  return {
    async stop() {
      stopped = true;
      stopping.abort();
      clearTimeout(timer);
      await running;
      await connection?.release();
      connection = undefined;
    },
  };
}
