import { toBridgeError, type BridgeError } from '../errors.js';
import { withDeadline } from '../util/with-deadline.js';
import { abortError, backoffDelay, sleep, type RetryOptions } from './backoff.js';
import type { DeadLetter } from './target-dispatcher.js';

/** What {@link retryDeadLetter} reports while it tries. */
export interface DeadLetterRetryObserver {
  /** A store attempt failed (or took longer than its deadline); the next one follows a backoff. */
  failed?(info: { letter: DeadLetter; error: BridgeError; attempt: number }): void;
  /** The letter was stored (`stored`) or the bridge stopped first, after `failures` failed attempts. */
  settled?(info: { letter: DeadLetter; failures: number; stored: boolean }): void;
}

/** Options of {@link retryDeadLetter}. */
export interface DeadLetterRetryOptions {
  /** Aborting it gives up: the promise rejects with ERR_BRIDGE_ABORTED. */
  readonly signal: AbortSignal;
  /** Backoff between attempts, capped. @default 100 ms doubling to 30 s */
  readonly retry?: RetryOptions;
  /** An attempt that has not settled after this long counts as failed, in ms. @default 30000 */
  readonly attemptTimeoutMs?: number;
  readonly observer?: DeadLetterRetryObserver;
}

/**
 * Stores a dead letter with `store`, retrying with capped backoff until it succeeds or the signal
 * aborts: a dead letter is never dropped. Each failure is reported to the observer, so a failing
 * store is loud (the bridge logs it and reports itself not ready) rather than a silent stall.
 * Resolves once stored; rejects only with ERR_BRIDGE_ABORTED.
 */
export async function retryDeadLetter(letter: DeadLetter, store: (letter: DeadLetter) => Promise<void>, options: DeadLetterRetryOptions): Promise<void> {
  const { signal, observer } = options;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
  let failures = 0;
  const settled = (stored: boolean) => {
    try {
      observer?.settled?.({ letter, failures, stored });
    } catch {
      // An observer's bug must not lose the letter or wedge the target.
    }
  };
  for (let attempt = 1; ; attempt += 1) {
    if (signal.aborted) {
      settled(false);
      throw abortError();
    }
    try {
      await withDeadline(() => store(letter), attemptTimeoutMs, 'Storing the dead letter');
      settled(true);
      return;
    } catch (raw) {
      if (signal.aborted) {
        settled(false);
        throw abortError();
      }
      failures += 1;
      const error = toBridgeError(raw, 'ERR_BRIDGE_POSTGRES', `[core] Could not store the dead letter of event ${letter.event.id}`);
      try {
        observer?.failed?.({ letter, error, attempt });
      } catch {
        // As above.
      }
    }
    try {
      await sleep(backoffDelay(attempt, options.retry), signal);
    } catch (error) {
      settled(false);
      throw error;
    }
  }
}
