import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createBridge, type Bridge, type DeadLetter, type WalSourceOptions } from '../src/index.js';
import { recordingPublisher } from './recording-publisher.js';

// The testkit depends on core, so core's tests load it by path at run time (vitest resolves it to
// its TypeScript sources) rather than as a package dependency; these are the parts they use.

/** A throwaway PostgreSQL cluster (see packages/testkit/src/private-postgres.ts). */
export interface PrivatePostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

/** A TCP proxy that breaks connections on demand (see packages/testkit/src/fault-proxy.ts). */
export interface FaultProxy {
  readonly port: number;
  readonly connections: number;
  cut(): void;
  blackhole(on: boolean): void;
  close(): Promise<void>;
}

/** The parts of the testkit core's tests use. */
export interface Testkit {
  startPrivatePostgres(options?: { settings?: Record<string, string> }): Promise<PrivatePostgres>;
  startFaultProxy(options: { target: { host: string; port: number } }): Promise<FaultProxy>;
  waitFor(condition: () => boolean | Promise<boolean>, options?: { timeoutMs?: number; what?: string }): Promise<void>;
}

const testkitPath = new URL('../../testkit/src/index.ts', import.meta.url).href;

/** Loads the testkit's real-service helpers. */
export async function loadTestkit(): Promise<Testkit> {
  return (await import(testkitPath)) as Testkit;
}

/** A recording publisher (64 MiB payloads, for large WAL rows) and a dead-letter store that records too. */
export function recorder() {
  const sink = recordingPublisher({ maxPayloadBytes: 64 << 20 });
  const deadLetters: DeadLetter[] = [];
  return { ...sink, deadLetters, deadLetter: async (letter: DeadLetter) => void deadLetters.push(letter) };
}

/** The private cluster of a test file, from {@link usePrivateCluster}. */
export interface PrivateCluster {
  readonly testkit: Testkit;
  /** The cluster, once the file's `beforeAll` started it. */
  readonly postgres: PrivatePostgres;
  /** A connection to it as the superuser, for the tests' own SQL. */
  readonly db: pg.Client;
  /** Run after each test, the last added first. */
  readonly cleanups: Array<() => Promise<unknown>>;
  /**
   * A bridge (not started) streaming `plugin` from a slot of its own into a {@link recorder}; after
   * the test it is stopped and its slot, once released, dropped.
   */
  createWalBridge(plugin: 'pgoutput' | 'wal2json', wal?: Omit<WalSourceOptions, 'postgres' | 'plugin'>, url?: string): { bridge: Bridge; sink: ReturnType<typeof recorder>; slot: string };
}

/**
 * Starts a private cluster (wal_level=logical) for the test file: registers the hooks that start it
 * and connect, run the cleanups after each test, and tear it all down at the end.
 */
export async function usePrivateCluster(): Promise<PrivateCluster> {
  const testkit = await loadTestkit();
  let postgres: PrivatePostgres | undefined;
  let db: pg.Client | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    postgres = await testkit.startPrivatePostgres();
    db = new pg.Client(postgres.url);
    await db.connect();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await db?.end();
    await postgres?.destroy();
  });
  const cluster: PrivateCluster = {
    testkit,
    cleanups,
    get postgres() {
      if (!postgres) throw new Error('The private cluster is not started yet (use it inside tests and hooks)');
      return postgres;
    },
    get db() {
      if (!db) throw new Error('The private cluster is not connected yet (use it inside tests and hooks)');
      return db;
    },
    createWalBridge(plugin, wal = {}, url = cluster.postgres.url) {
      const sink = recorder();
      const slot = wal.slot ?? `s_${plugin}_${randomUUID().slice(0, 8)}`;
      const bridge = createBridge({
        postgres: url,
        upstreams: [{ publisher: sink.publisher, rules: `${plugin}->queue:q` }],
        wal: { publication: `pub_${slot}`, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, ...wal, slot },
        outbox: false,
        deadLetter: sink.deadLetter,
      });
      cleanups.push(async () => {
        const client = cluster.db;
        await bridge.stop({ timeoutMs: 2000 });
        await testkit.waitFor(async () => (await client.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [slot])).rowCount === 0, { what: 'the slot released' });
        await client.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
      });
      return { bridge, sink, slot };
    },
  };
  return cluster;
}
