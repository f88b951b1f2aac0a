import type { Publisher, Target } from '../publisher.js';
import type { BridgeEvent } from '../source.js';
import type { RetryOptions } from './backoff.js';
import { type DispatchObserver } from './target-dispatcher.js';
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
    readonly publisher: Publisher;
    readonly target: Target;
}
/**
 * Fans every event out to the dispatchers of its routes and tracks how full they are, so sources
 * can pause reading Postgres when any target is at its limit.
 */
export declare class DeliveryEngine {
    #private;
    constructor(routes: readonly Route[], options: DeliveryOptions, observer: Omit<DispatchObserver, 'capacityChanged'>);
    /** The sources some route reads from. */
    get sources(): string[];
    /** Messages queued or awaiting acceptance, over all targets. */
    get inFlight(): number;
    get hasCapacity(): boolean;
    waitForCapacity(): Promise<void>;
    /** Resolves when every target of the event's source accepted it or dead-lettered it. */
    deliver(event: BridgeEvent): Promise<void>;
    /** Resolves when nothing is queued or in flight anywhere. */
    idle(): Promise<void>;
    /** Cancels everything still queued or in flight. */
    abort(): void;
}
//# sourceMappingURL=delivery-engine.d.ts.map