import { BridgeError } from '../errors.js';
import type { Publisher, Target } from '../publisher.js';
import type { BridgeEvent } from '../source.js';
import { type RetryOptions } from './backoff.js';
/** A message that could not be delivered and will not be retried. */
export interface DeadLetter {
    readonly event: BridgeEvent;
    readonly upstream: string;
    readonly target: Target;
    readonly error: BridgeError;
    readonly attempts: number;
}
/** What a dispatcher reports to the bridge. */
export interface DispatchObserver {
    published(info: {
        event: BridgeEvent;
        upstream: string;
        target: Target;
        attempts: number;
        latencyMs: number;
    }): void;
    retrying(info: {
        event: BridgeEvent;
        upstream: string;
        target: Target;
        attempt: number;
        delayMs: number;
        error: BridgeError;
    }): void;
    /** Stores the dead letter; a rejection is retried with backoff, the line held meanwhile. */
    deadLetter(letter: DeadLetter): Promise<void>;
    /** Called when the dispatcher goes from below its limits to at/above them, and back. */
    capacityChanged(full: boolean): void;
}
/** Limits and retry policy of one dispatcher. */
export interface DispatcherOptions {
    /** Messages queued or in flight before the source is paused. */
    readonly maxInFlight: number;
    /** Body bytes queued or in flight before the source is paused. */
    readonly maxInFlightBytes: number;
    readonly retry?: RetryOptions;
}
/**
 * Sends the events of one (upstream, target) pair in order. When the publisher keeps order across
 * concurrent calls it pipelines up to `maxInFlight` publishes; otherwise it sends one at a time.
 * A retryable failure holds the line: nothing new is sent until every in-flight publish settled,
 * then the failed messages are resent in their original order after a backoff.
 */
export declare class TargetDispatcher {
    #private;
    constructor(publisher: Publisher, target: Target, options: DispatcherOptions, observer: DispatchObserver);
    /** Messages queued or in flight. */
    get pending(): number;
    get full(): boolean;
    /** Resolves when the event was accepted by the broker or dead-lettered. */
    enqueue(event: BridgeEvent): Promise<void>;
    /** Resolves once nothing is queued or in flight. */
    idle(): Promise<void>;
    /** Cancels in-flight publishes and backoffs and rejects everything pending with ERR_BRIDGE_ABORTED. */
    abort(): void;
}
//# sourceMappingURL=target-dispatcher.d.ts.map