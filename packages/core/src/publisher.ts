import type { Logger } from './logger.js';
import type { BridgeEvent } from './source.js';

/** Where a rule sends events: `exchange:amq.topic` is `{ kind: 'exchange', name: 'amq.topic' }`. */
export interface Target {
  /** The target kind, one of the publisher's {@link Publisher.targetKinds}. */
  readonly kind: string;
  /** The broker-side name: exchange, queue, topic, ARN, URL, subject... May contain `:`. */
  readonly name: string;
}

/** What a publisher can do, so the delivery engine can adapt to it. */
export interface PublisherCapabilities {
  /** Message headers reach the consumer. */
  readonly headers: boolean;
  /**
   * Concurrent `publish()` calls to the same target are delivered in call order (one AMQP
   * channel, one MQTT session...). When false the engine sends one message per target at a time.
   */
  readonly ordered: boolean;
  /** The largest body the upstream accepts; larger ones fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. */
  readonly maxPayloadBytes: number;
}

/** Handed to {@link Publisher.start}. */
export interface PublisherContext {
  readonly logger: Logger;
  /** Every target the rules send to, so the publisher can check they exist before traffic flows. */
  readonly targets: readonly Target[];
  /** Aborted when the bridge stops; pending connection attempts should give up. */
  readonly signal: AbortSignal;
}

/** Options of one {@link Publisher.publish} call. */
export interface PublishOptions {
  /**
   * Aborting rejects the call with ERR_BRIDGE_ABORTED; the message may or may not have arrived.
   * The engine passes ONE signal to every concurrent publish of a target, so watch it with
   * `onAbort` (one shared listener) rather than a listener per call.
   */
  readonly signal?: AbortSignal;
}

/**
 * One upstream broker connection. Every upstream package exports a factory that returns one.
 *
 * Contract:
 * - the factory validates its options synchronously, all at once, and does no I/O;
 * - `publish()` resolves only once the broker accepted the message (publisher confirm, PUBACK,
 *   2xx, JetStream ack...), and rejects with a {@link BridgeError} whose `retryable` flag says
 *   whether the same call may succeed later;
 * - a lost connection is re-established by the publisher itself on a later `publish()`;
 * - lifecycle: `start()` twice, or `publish()` before `start()` or after `stop()`, rejects with
 *   ERR_BRIDGE_STATE; `stop()` before `start()` resolves; `stop()` settles every in-flight publish;
 *   an already-aborted or oversized publish sends nothing.
 *
 * Ordering: when `capabilities.ordered` is true, concurrent publishes reach the broker in call
 * order. After a retryable failure the engine resends the failed messages in order, but messages
 * after them that the broker had already accepted are not resent, so order around a failure is
 * best-effort (at-least-once, never lost). The testkit conformance suite checks all of this.
 */
export interface Publisher {
  /** The upstream's kind, used in logs and errors: `amqp`, `mqtt`, ... */
  readonly name: string;
  /** The target kinds its rules may name (`exchange`, `queue`, ...). */
  readonly targetKinds: readonly string[];
  readonly capabilities: PublisherCapabilities;
  /** Connects and checks the targets. Rejects with a BridgeError when that is impossible. */
  start(context: PublisherContext): Promise<void>;
  /** Sends one event to one target; resolves on broker acceptance. */
  publish(target: Target, event: BridgeEvent, options?: PublishOptions): Promise<void>;
  /** Waits for in-flight publishes to settle where possible, then closes the connection. */
  stop(): Promise<void>;
}
