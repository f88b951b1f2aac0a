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
  readonly #settling = new Set<Promise<void>>();

  /** Calls not settled yet. */
  get size(): number {
    return this.#settling.size;
  }

  /** Returns `promise` unchanged, counting it until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#settling.add(settled);
    void settled.then(() => this.#settling.delete(settled));
    return promise;
  }

  /** Resolves true once every tracked call settled, or false after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<boolean> {
    if (this.#settling.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...this.#settling]).then(() => true);
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
