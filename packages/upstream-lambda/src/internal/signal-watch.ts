/**
 * Calls back every watcher of an AbortSignal through ONE listener per signal. The delivery engine
 * shares a signal across all publishes of a target; a listener per publish would pile up (and
 * trigger Node's MaxListenersExceededWarning after 10).
 */
export class SignalWatch {
  readonly #watchers = new Map<AbortSignal, { listener: () => void; callbacks: Set<() => void> }>();

  /** Runs `onAbort` when `signal` aborts; returns the function that stops watching. */
  watch(signal: AbortSignal | undefined, onAbort: () => void): () => void {
    if (!signal) return () => undefined;
    let entry = this.#watchers.get(signal);
    if (!entry) {
      const callbacks = new Set<() => void>();
      const listener = () => {
        this.#watchers.delete(signal);
        for (const callback of [...callbacks]) callback();
      };
      entry = { listener, callbacks };
      this.#watchers.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    const { callbacks, listener } = entry;
    callbacks.add(onAbort);
    return () => {
      callbacks.delete(onAbort);
      if (callbacks.size === 0 && this.#watchers.get(signal)?.callbacks === callbacks) {
        this.#watchers.delete(signal);
        signal.removeEventListener('abort', listener);
      }
    };
  }
}
