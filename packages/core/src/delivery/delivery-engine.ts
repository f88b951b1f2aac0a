import type { Publisher, Target } from '../publisher.js';
import type { BridgeEvent } from '../source.js';
import type { RetryOptions } from './backoff.js';
import { TargetDispatcher, type DispatchObserver } from './target-dispatcher.js';

/** Limits of the delivery engine. */
export interface DeliveryOptions {
  /** Messages queued or awaiting broker acceptance per target before sources pause. @default 1000 */
  readonly maxInFlight?: number;
  /** Body bytes queued or awaiting acceptance per target before sources pause. @default 16 MiB */
  readonly maxInFlightBytes?: number;
  /** Backoff of retryable publish failures. */
  readonly retry?: RetryOptions;
}

/** One route: events of `source` go to `target` through `publisher`. */
export interface Route {
  readonly source: string;
  /** Names the upstream in events and dead letters. @default publisher.name */
  readonly upstream?: string;
  readonly publisher: Publisher;
  readonly target: Target;
}

/**
 * Fans every event out to the dispatchers of its routes and tracks how full they are, so sources
 * can pause reading Postgres when any target is at its limit.
 */
export class DeliveryEngine {
  readonly #routes = new Map<string, TargetDispatcher[]>();
  readonly #dispatchers: TargetDispatcher[] = [];
  #fullCount = 0;
  #capacityWaiters: Array<() => void> = [];

  constructor(routes: readonly Route[], options: DeliveryOptions, observer: Omit<DispatchObserver, 'capacityChanged'>) {
    const limits = {
      maxInFlight: options.maxInFlight ?? 1000,
      maxInFlightBytes: options.maxInFlightBytes ?? 16 * 1024 * 1024,
      retry: options.retry,
    };
    const byTarget = new Map<string, TargetDispatcher>();
    for (const route of routes) {
      const upstream = route.upstream ?? route.publisher.name;
      const key = `${upstream}\u0000${route.target.kind}\u0000${route.target.name}`;
      let dispatcher = byTarget.get(key);
      if (!dispatcher) {
        dispatcher = new TargetDispatcher(
          route.publisher,
          route.target,
          limits,
          {
            ...observer,
            capacityChanged: (full) => this.#capacityChanged(full),
          },
          upstream,
        );
        byTarget.set(key, dispatcher);
        this.#dispatchers.push(dispatcher);
      }
      const list = this.#routes.get(route.source) ?? [];
      // Two rules of one source to the same target would deliver twice; parseRules rejects them.
      if (!list.includes(dispatcher)) list.push(dispatcher);
      this.#routes.set(route.source, list);
    }
  }

  /** The sources some route reads from. */
  get sources(): string[] {
    return [...this.#routes.keys()];
  }

  /** Messages queued or awaiting acceptance, over all targets. */
  get inFlight(): number {
    let total = 0;
    for (const dispatcher of this.#dispatchers) total += dispatcher.pending;
    return total;
  }

  get hasCapacity(): boolean {
    return this.#fullCount === 0;
  }

  waitForCapacity(): Promise<void> {
    if (this.#fullCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** Resolves when every target of the event's source accepted it or dead-lettered it. */
  deliver(event: BridgeEvent): Promise<void> {
    const dispatchers = this.#routes.get(event.source);
    if (!dispatchers) return Promise.resolve();
    if (dispatchers.length === 1) return dispatchers[0]!.enqueue(event);
    return Promise.all(dispatchers.map((dispatcher) => dispatcher.enqueue(event))).then(() => undefined);
  }

  /** Resolves when nothing is queued or in flight anywhere. */
  async idle(): Promise<void> {
    await Promise.all(this.#dispatchers.map((dispatcher) => dispatcher.idle()));
  }

  /** Cancels everything still queued or in flight. */
  abort(): void {
    for (const dispatcher of this.#dispatchers) dispatcher.abort();
    this.#wakeCapacityWaiters();
  }

  #capacityChanged(full: boolean): void {
    this.#fullCount += full ? 1 : -1;
    if (this.#fullCount === 0) this.#wakeCapacityWaiters();
  }

  #wakeCapacityWaiters(): void {
    const waiters = this.#capacityWaiters;
    this.#capacityWaiters = [];
    for (const wake of waiters) wake();
  }
}
