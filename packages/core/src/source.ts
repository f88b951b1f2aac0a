import type { BridgeError } from './errors.js';
import type { Logger } from './logger.js';

/** One event read from Postgres, on its way to every target its rules name. */
export interface BridgeEvent {
  /**
   * Identifies the event for consumers that de-duplicate. Deterministic for WAL and outbox events;
   * random (UUID) for plain NOTIFY, which carries no identity of its own.
   */
  readonly id: string;
  /** The rule source it came from: a NOTIFY channel, or `wal2json` / `pgoutput`. */
  readonly source: string;
  /** The routing key: the `key` of `key|payload`, or `<schema>.<table>.<action>` for WAL. */
  readonly routingKey: string;
  /** The body, byte-exact as Postgres sent it. */
  readonly body: Buffer;
  /** MIME type when known (`application/json` for WAL events). */
  readonly contentType?: string;
  /** Extra headers to forward where the upstream supports them. */
  readonly headers?: Readonly<Record<string, string>>;
  /** When the bridge received it (or the commit time, for WAL). */
  readonly timestamp: Date;
}

/**
 * An event a source read but could not turn into a {@link BridgeEvent}: a replication message that
 * does not parse, a value nested too deep to encode, an outbox row with an impossible column. It
 * is dead-lettered with its raw bytes, and the source acknowledges past it and goes on.
 */
export interface PoisonEvent {
  /** The id the event would have had (`<tx LSN>/<index>`, `outbox:<id>`), so a re-read updates one dead letter. */
  readonly id: string;
  /** The rule source it was read for: a NOTIFY channel, `wal2json` or `pgoutput`. */
  readonly source: string;
  /** Where it was read: the LSN of the message, the outbox row id, the NOTIFY channel and process. */
  readonly position: string;
  /** The bytes as Postgres sent them. */
  readonly raw: Buffer;
  /** Why it could not be decoded: an ERR_BRIDGE_DECODE BridgeError naming the step and the bound. */
  readonly error: BridgeError;
  /** @default '' */
  readonly routingKey?: string;
  /** The commit time or the time it was read. @default now */
  readonly timestamp?: Date;
}

/** Something a source reports besides events: connections coming and going, gaps. */
export type SourceReport =
  | { readonly type: 'connected'; readonly source: string }
  | { readonly type: 'disconnected'; readonly source: string; readonly error: Error }
  /** The source stopped for good and needs a person (a replication slot vanished, for example). */
  | { readonly type: 'failed'; readonly source: string; readonly error: Error }
  | {
      /**
       * Events sent while the source was disconnected are lost (plain NOTIFY is at-most-once).
       * Reported once the source is back, with the window in which events may have been missed.
       */
      readonly type: 'gap';
      readonly source: string;
      readonly channels: readonly string[];
      readonly from: Date;
      readonly to: Date;
      readonly error: Error;
    };

/** Handed to {@link Source.start} by the bridge. */
export interface SourceContext {
  /**
   * Hands an event to the delivery engine. The promise resolves once every target accepted it (or
   * it was dead-lettered), and rejects only with ERR_BRIDGE_ABORTED when the bridge stops first.
   * Acknowledge to Postgres only after it resolves.
   */
  deliver(event: BridgeEvent): Promise<void>;
  /** False while the delivery engine holds its maximum of in-flight messages or bytes. */
  readonly hasCapacity: boolean;
  /** Resolves when there is room again; sources stop reading Postgres until then. */
  waitForCapacity(): Promise<void>;
  /**
   * Stores a dead letter for an event that could not be decoded. Resolves once it is stored (a
   * failing store is logged, reported and retried with backoff, never dropped) and rejects only
   * with ERR_BRIDGE_ABORTED when the bridge stops first. Acknowledge past the event only after it
   * resolves.
   */
  deadLetter(poison: PoisonEvent): Promise<void>;
  /** Reports connection changes and gaps to the bridge's listeners. */
  report(report: SourceReport): void;
  readonly logger: Logger;
  /** Aborted when the bridge stops. */
  readonly signal: AbortSignal;
}

/** Reads events from Postgres and hands them to the delivery engine. */
export interface Source {
  /** Used in logs: `notify`, `wal2json`, `outbox`... */
  readonly name: string;
  start(context: SourceContext): Promise<void>;
  /** Stops reading; events already handed over are drained by the bridge. */
  stop(): Promise<void>;
  /**
   * Called once every event handed over has settled (or was cancelled, if the drain timed out):
   * acknowledge what was delivered (slot position, outbox rows) and release the connection.
   */
  afterDrain?(): Promise<void>;
}
