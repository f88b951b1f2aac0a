import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { BridgeError, createOutboxSource, installSchema, type BridgeEvent, type Logger, type OutboxSource, type OutboxSourceOptions, type PoisonEvent, type SourceContext } from '../src/index.js';

/** A log line a {@link drain} recorded. */
export interface LogLine {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** An outbox source a test drains, and what it handed over. */
export interface Drain {
  readonly delivered: BridgeEvent[];
  readonly dead: PoisonEvent[];
  readonly logs: LogLine[];
  readonly source: OutboxSource;
}

/** How a {@link drain} treats what the source hands it. */
export interface DrainBehaviour {
  /** `false` never settles a delivery, as a target that never accepts (rejected when it stops). Default true. */
  readonly accept?: boolean;
  /** `true` fails every dead letter, for tests that expect none. Default: recorded in `dead`. */
  readonly refuseDeadLetters?: boolean;
}

/** The events schema of a test file, from {@link useEventsSchema}. */
export interface EventsSchema {
  readonly schema: string;
  /** Roles the tests create; dropped, with what they own, at the end. */
  readonly roles: string[];
  /** A connection as the schema's owner, connected before the tests. */
  readonly db: pg.Client;
  /** Run after each test, in the order they were added. */
  readonly cleanups: Array<() => Promise<unknown>>;
  /** Starts an outbox source on `channels` of the schema with a context that records; it stops after the test. */
  drain(channels: string[], options?: Partial<OutboxSourceOptions>, behaviour?: DrainBehaviour): Promise<Drain>;
}

/**
 * Installs an events schema of the test file's own (`<prefix>_<random>`, never the shared
 * `events`) at `url`: registers the hooks that install it, run the cleanups after each test, and
 * drop it and the tests' roles at the end.
 */
export function useEventsSchema(url: string, prefix: string): EventsSchema {
  const schema = `${prefix}_${randomUUID().slice(0, 8)}`;
  const roles: string[] = [];
  const db = new pg.Client(url);
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    await db.connect();
    await installSchema(url, { schema });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    for (const role of roles) await db.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await db.end();
  });

  async function drain(channels: string[], options: Partial<OutboxSourceOptions> = {}, behaviour: DrainBehaviour = {}): Promise<Drain> {
    const delivered: BridgeEvent[] = [];
    const dead: PoisonEvent[] = [];
    const logs: LogLine[] = [];
    const aborts: Array<() => void> = [];
    const log = (level: string) => (fields: Record<string, unknown>, message: string) => void logs.push({ level, fields, message });
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const controller = new AbortController();
    const context: SourceContext = {
      deliver(event) {
        delivered.push(event);
        if (behaviour.accept !== false) return Promise.resolve();
        return new Promise((_resolve, reject) => aborts.push(() => reject(new BridgeError('ERR_BRIDGE_ABORTED', '[test] stopping'))));
      },
      hasCapacity: true,
      waitForCapacity: async () => undefined,
      async deadLetter(poison) {
        if (behaviour.refuseDeadLetters) throw new Error(`unexpected dead letter ${poison.id}: ${poison.error.message}`);
        dead.push(poison);
      },
      report() {},
      logger,
      signal: controller.signal,
    };
    const source = createOutboxSource({ postgres: url, schema, channels, pollIntervalMs: 100, ...options });
    await source.start(context);
    cleanups.push(async () => {
      controller.abort();
      const stopped = source.stop();
      for (const abort of aborts) abort();
      await stopped;
      await source.afterDrain();
    });
    return { delivered, dead, logs, source };
  }

  return { schema, roles, db, cleanups, drain };
}
