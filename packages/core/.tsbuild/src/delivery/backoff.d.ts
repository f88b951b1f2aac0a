import { BridgeError } from '../errors.js';
/** How failed publishes and lost connections are retried. */
export interface RetryOptions {
    /** Delay before the first retry, in ms. @default 100 */
    readonly initialDelayMs?: number;
    /** The cap of the exponential growth, in ms. @default 30000 */
    readonly maxDelayMs?: number;
    /** Growth factor per attempt. @default 2 */
    readonly factor?: number;
}
/**
 * The delay before retry number `attempt` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so that many bridges reconnecting at once spread out but never retry
 * immediately.
 */
export declare function backoffDelay(attempt: number, options?: RetryOptions): number;
/** Waits `ms`, or rejects with ERR_BRIDGE_ABORTED as soon as `signal` aborts. */
export declare function sleep(ms: number, signal?: AbortSignal): Promise<void>;
/** The error every cancelled operation rejects with. */
export declare function abortError(): BridgeError;
//# sourceMappingURL=backoff.d.ts.map