import { setTimeout as delay } from 'node:timers/promises';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** Pause between checks. @default 10 */
  readonly intervalMs?: number;
  /** Names the condition in the timeout error. @default 'condition' */
  readonly what?: string;
}

/**
 * Polls an observable condition until it holds, for state that emits no event (a connection
 * count, a row in a table). Rejects after the timeout, naming what it waited for.
 *
 * @example
 * ```ts
 * await waitFor(() => proxy.connections === 0, { what: 'the publisher to disconnect' });
 * ```
 */
export async function waitFor(check: () => boolean | Promise<boolean>, options: WaitForOptions = {}): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}
