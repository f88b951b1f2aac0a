/** The error a {@link withDeadline} call rejects with when time runs out. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(`${what} did not settle within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs `run` and settles like it, or rejects with a {@link DeadlineError} after `timeoutMs` (then
 * calls `onExpire`, to destroy a socket, say). `run` may throw synchronously or return a value that
 * is not a promise; both settle the call like a promise would. The timer never keeps the process
 * alive.
 *
 * @example
 * ```ts
 * await withDeadline(() => client.query('LISTEN "events"'), 10_000, 'LISTEN', () => socket.destroy());
 * ```
 */
export function withDeadline<T>(run: () => T | PromiseLike<T>, timeoutMs: number, what = 'The call', onExpire?: () => void): Promise<Awaited<T>> {
  return new Promise<Awaited<T>>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      try {
        onExpire?.();
      } finally {
        reject(new DeadlineError(what, timeoutMs));
      }
    }, timeoutMs);
    timer.unref?.();
    Promise.resolve()
      .then(run)
      .then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(value as Awaited<T>);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(error);
        },
      );
  });
}
