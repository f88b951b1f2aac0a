/**
 * Tracks a publisher's unsettled calls so `stop()` can wait for them, with a limit.
 *
 * @example
 * ```ts
 * publish(target, event, options) { return this.#inFlight.track(this.#publish(target, event, options)); }
 * async stop() { await this.#inFlight.settle(this.#options.stopTimeoutMs); ... }
 * ```
 */
export class InFlight {
  #count = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #done = () => {
    this.#count -= 1;
    if (this.#count > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  };

  /** Calls not settled yet. */
  get size(): number {
    return this.#count;
  }

  /** Returns `promise` unchanged, counting it until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#count += 1;
    promise.then(this.#done, this.#done);
    return promise;
  }

  /** Resolves true once every tracked call settled, or false after `timeoutMs`. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
