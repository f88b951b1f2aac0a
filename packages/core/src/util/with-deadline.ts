/** The error a {@link withDeadline} call rejects with when time runs out. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, happened = `did not settle within ${timeoutMs} ms`) {
    super(`${what} ${happened}`);
    this.timeoutMs = timeoutMs;
  }
}

/** Options of {@link withDeadline}. */
export interface DeadlineOptions {
  /** Called when time runs out, before the rejection: to destroy the socket the work runs on, say. */
  readonly onExpire?: () => void;
  /** Aborting it rejects at once (the daemon is stopping); the work itself is not cancelled. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `run` and settles like it, or rejects with a {@link DeadlineError} after `timeoutMs`, or
 * as soon as `signal` aborts. The work is not cancelled: the caller drops the connection it runs
 * on (`onExpire`), which is what ends a query on a blackholed network, where no server-side
 * timeout can answer. `run` may throw synchronously or return a value that is not a promise; both
 * settle the call like a promise would. A rejection that loses the race is never unhandled. The
 * timer never keeps the process alive.
 *
 * @example
 * ```ts
 * await withDeadline(() => client.query('LISTEN "events"'), 10_000, 'LISTEN', { onExpire: () => socket.destroy() });
 * ```
 */
export function withDeadline<T>(run: () => T | PromiseLike<T>, timeoutMs: number, what = 'The call', options: DeadlineOptions = {}): Promise<Awaited<T>> {
  const { onExpire, signal } = options;
  return new Promise<Awaited<T>>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => finish(() => reject(new DeadlineError(what, timeoutMs, 'was interrupted: the bridge is stopping')));
    const timer = setTimeout(
      () =>
        finish(() => {
          try {
            onExpire?.();
          } finally {
            reject(new DeadlineError(what, timeoutMs));
          }
        }),
      timeoutMs,
    );
    timer.unref?.();
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(run)
      .then(
        (value) => finish(() => resolve(value as Awaited<T>)),
        (error: unknown) => finish(() => reject(error)),
      );
  });
}
