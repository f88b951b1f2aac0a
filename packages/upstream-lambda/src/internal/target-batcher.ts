import { abortError } from '@pg-event-bridge/core';
import { SignalWatch } from './signal-watch.js';

/** One publish() call waiting to be sent as part of a batch. */
export interface PendingEntry<E> {
  /** What the send function needs to send this message (an SDK batch entry). */
  readonly entry: E;
  /** Bytes the entry counts toward the request's aggregate limit. */
  readonly size: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

/** Options of {@link TargetBatcher}. */
export interface TargetBatcherOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Batch requests in flight at once. 1 keeps call order. */
  readonly concurrency: number;
}

/**
 * Groups the publish() calls of one target into batch requests. Calls that arrive while a request
 * is in flight are collected and sent together as the next one ("natural batching": no linger
 * delay, batches grow only under load). Requests are started in call order.
 */
export class TargetBatcher<E> {
  readonly #send: (batch: PendingEntry<E>[]) => Promise<void>;
  readonly #options: TargetBatcherOptions;
  #queue: PendingEntry<E>[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idle: Array<() => void> = [];
  readonly #signals = new SignalWatch();

  /** `send` must settle every entry of the batch (resolve or reject). */
  constructor(send: (batch: PendingEntry<E>[]) => Promise<void>, options: TargetBatcherOptions) {
    this.#send = send;
    this.#options = options;
  }

  /** Queues one entry; resolves when `send` accepted it. */
  add(entry: E, size: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      let unwatch = () => undefined as void;
      const pending: PendingEntry<E> = {
        entry,
        size,
        settled: false,
        resolve: () => {
          unwatch();
          resolve();
        },
        reject: (error) => {
          unwatch();
          reject(error);
        },
      };
      unwatch = this.#signals.watch(signal, () => settle(pending, abortError()));
      this.#queue.push(pending);
      this.#schedule();
    });
  }

  /** Entries queued or in flight. */
  get busy(): boolean {
    return this.#queue.length > 0 || this.#inFlight > 0;
  }

  /** Resolves when no request is in flight and nothing is queued. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Rejects everything not yet sent. */
  rejectQueued(error: unknown): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const pending of queued) settle(pending, error);
    this.#wakeIfIdle();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // The delivery engine calls publish() for a whole window synchronously; waiting one microtask
    // lets those calls share a request.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency) {
      this.#queue = this.#queue.filter((p) => !p.settled);
      if (this.#queue.length === 0) break;
      const batch: PendingEntry<E>[] = [];
      let bytes = 0;
      while (batch.length < this.#options.maxEntries && this.#queue.length > 0) {
        const next = this.#queue[0]!;
        if (batch.length > 0 && bytes + next.size > this.#options.maxBytes) break;
        this.#queue.shift();
        if (next.settled) continue;
        batch.push(next);
        bytes += next.size;
      }
      if (batch.length === 0) continue;
      this.#inFlight += 1;
      this.#send(batch)
        .catch((error: unknown) => {
          for (const pending of batch) settle(pending, error);
        })
        .finally(() => {
          this.#inFlight -= 1;
          this.#pump();
          this.#wakeIfIdle();
        });
    }
    this.#wakeIfIdle();
  }

  #wakeIfIdle(): void {
    if (this.busy) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const wake of waiters) wake();
  }
}

/** Resolves (no error) or rejects an entry once; later calls are ignored. */
export function settle<E>(pending: PendingEntry<E>, error?: unknown): void {
  if (pending.settled) return;
  pending.settled = true;
  if (error === undefined) pending.resolve();
  else pending.reject(error);
}
