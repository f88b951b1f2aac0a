import type { BridgeError, BridgeEvent, Publisher } from '../src/index.js';

/** How a {@link recordingPublisher} behaves; by default it accepts everything at once. */
export interface RecordingPublisherOptions {
  /** Each publish waits for this first, so a test can hold the upstream full until it opens. */
  readonly gate?: Promise<unknown>;
  /** Decides per event whether publishing fails instead, with the error it returns. */
  readonly fail?: (event: BridgeEvent) => BridgeError | undefined;
  /** Called with each event it accepted, after it is recorded (e.g. to label it in a log shared by several). */
  readonly onPublished?: (event: BridgeEvent) => void;
  /** The largest payload it declares it takes; default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Whether it declares ordered delivery; default true. */
  readonly ordered?: boolean;
}

/** A {@link recordingPublisher} and what it recorded. */
export interface RecordingPublisher {
  /** Named `recorder`, for `queue` targets, with headers. */
  readonly publisher: Publisher;
  /** Every event it accepted, in the order it accepted them. */
  readonly received: BridgeEvent[];
  /** The bodies of {@link received} as UTF-8 text. */
  bodies(): string[];
  /** Resolves once `count` events were accepted; rejects after `timeoutMs` saying how many came. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
}

/** An in-process publisher that records what it accepts, so tests need no broker. */
export function recordingPublisher(options: RecordingPublisherOptions = {}): RecordingPublisher {
  const received: BridgeEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const publisher: Publisher = {
    name: 'recorder',
    targetKinds: ['queue'],
    capabilities: { headers: true, ordered: options.ordered ?? true, maxPayloadBytes: options.maxPayloadBytes ?? 1 << 20 },
    async start() {},
    async stop() {},
    async publish(_target, event) {
      if (options.gate) await options.gate;
      const error = options.fail?.(event);
      if (error) throw error;
      received.push(event);
      options.onPublished?.(event);
      for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
    },
  };
  const waitFor = (count: number, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (received.length >= count) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} events arrived`)), timeoutMs);
      waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { publisher, received, bodies: () => received.map((event) => event.body.toString()), waitFor };
}
