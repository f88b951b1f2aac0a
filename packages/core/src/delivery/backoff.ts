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
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 30_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or rejects with ERR_BRIDGE_ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error every cancelled operation rejects with. */
export function abortError(): BridgeError {
  return new BridgeError('ERR_BRIDGE_ABORTED', '[core] Cancelled because the bridge is stopping', { retryable: false });
}
