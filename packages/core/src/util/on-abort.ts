import { abortError } from '../delivery/backoff.js';

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once when `signal` aborts (at once if it already has) and returns the function
 * that stops watching. All callbacks of a signal share ONE listener: the delivery engine passes one
 * signal to every concurrent publish of a target, and a listener each would pile up and trip
 * Node's MaxListenersExceededWarning.
 *
 * @example
 * ```ts
 * const unwatch = onAbort(options.signal, () => reject(abortError()));
 * try { await send(); } finally { unwatch(); }
 * ```
 */
export function onAbort(signal: AbortSignal | undefined, callback: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let callbacks = watchers.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    watchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const fn of [...set]) fn();
        set.clear();
      },
      { once: true },
    );
  }
  const set = callbacks;
  set.add(callback);
  return () => {
    set.delete(callback);
  };
}

/**
 * Waits for `promise`, or rejects with ERR_BRIDGE_ABORTED as soon as `signal` aborts (the promise
 * itself is left to settle on its own).
 *
 * @example
 * ```ts
 * const connection = await abortable(connecting, options.signal);
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError());
  // One promise and one watcher per call: this sits on every publish of several upstreams.
  return new Promise<T>((resolve, reject) => {
    const unwatch = onAbort(signal, () => reject(abortError()));
    promise.then(
      (value) => {
        unwatch();
        resolve(value);
      },
      (error: unknown) => {
        unwatch();
        reject(error);
      },
    );
  });
}

/** A connection being opened: `ready` resolves once it is usable. */
export interface Opening {
  readonly ready: Promise<void>;
  /** Set once `ready` resolved, by {@link whenOpen}. */
  open?: boolean;
}

/**
 * `connection` itself once it is open, so publishes on an open connection create no promise;
 * otherwise a promise of it once `ready` resolves (ERR_BRIDGE_ABORTED when `signal` aborts first).
 *
 * @example
 * ```ts
 * const connection = await whenOpen(this.#connection ?? this.#open(), options.signal);
 * ```
 */
export function whenOpen<T extends Opening>(connection: T, signal: AbortSignal | undefined): T | Promise<T> {
  if (connection.open) return connection;
  return abortable(connection.ready, signal).then(() => {
    connection.open = true;
    return connection;
  });
}
