/**
 * Settles like `work`, or rejects after `timeoutMs` (naming `what`), or as soon as `signal`
 * aborts. The work itself is not cancelled: the caller drops the connection it runs on, which is
 * what ends a query on a blackholed network, where no server-side timeout can answer.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string, signal?: AbortSignal): Promise<T> {
  // A rejection that loses the race must not become an unhandled one.
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`))), timeoutMs);
    const onAbort = () => finish(() => reject(new Error(`${what} was interrupted: the daemon is stopping`)));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
