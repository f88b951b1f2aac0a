import { BridgeError, describeThrown, toBridgeError } from '../errors.js';
import type { Publisher, Target } from '../publisher.js';
import type { BridgeEvent } from '../source.js';
import { abortError, backoffDelay, sleep, type RetryOptions } from './backoff.js';
import { retryDeadLetter, type DeadLetterRetryObserver } from './retry-dead-letter.js';

/** A message that could not be delivered and will not be retried. */
export interface DeadLetter {
  readonly event: BridgeEvent;
  readonly upstream: string;
  readonly target: Target;
  readonly error: BridgeError;
  readonly attempts: number;
  /** Where the source read it (an LSN, an outbox id), for events that could not be decoded. */
  readonly position?: string;
}

/** What a dispatcher reports to the bridge. */
export interface DispatchObserver {
  published(info: { event: BridgeEvent; upstream: string; target: Target; attempts: number; latencyMs: number }): void;
  retrying(info: { event: BridgeEvent; upstream: string; target: Target; attempt: number; delayMs: number; error: BridgeError }): void;
  /** Stores the dead letter; a rejection is retried with backoff, the line held meanwhile. */
  deadLetter(letter: DeadLetter): Promise<void>;
  /** Told of every failed attempt to store a dead letter, and of its outcome (see retryDeadLetter). */
  readonly deadLetterRetry?: DeadLetterRetryObserver;
  /** Called when the dispatcher goes from below its limits to at/above them, and back. */
  capacityChanged(full: boolean): void;
}

/** Limits and retry policy of one dispatcher. */
export interface DispatcherOptions {
  /** Messages queued or in flight before the source is paused. */
  readonly maxInFlight: number;
  /** Body bytes queued or in flight before the source is paused. */
  readonly maxInFlightBytes: number;
  readonly retry?: RetryOptions;
}

interface Item {
  readonly event: BridgeEvent;
  readonly seq: number;
  readonly enqueuedAt: number;
  attempts: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Sends the events of one (upstream, target) pair in order. When the publisher keeps order across
 * concurrent calls it pipelines up to `maxInFlight` publishes; otherwise it sends one at a time.
 * A retryable failure holds the line: nothing new is sent until every in-flight publish settled,
 * then the failed messages are resent in their original order after a backoff.
 */
export class TargetDispatcher {
  readonly #publisher: Publisher;
  readonly #upstream: string;
  readonly #target: Target;
  readonly #options: DispatcherOptions;
  readonly #observer: DispatchObserver;
  readonly #window: number;
  readonly #abort = new AbortController();
  #queue: Item[] = [];
  #head = 0;
  #inFlight = 0;
  #failed: Item[] = [];
  #lastError: BridgeError | undefined;
  #holding = false;
  #pending = 0;
  #pendingBytes = 0;
  #full = false;
  #seq = 0;
  #idleWaiters: Array<() => void> = [];

  /** `upstream` names the upstream in events and dead letters. @default publisher.name */
  constructor(publisher: Publisher, target: Target, options: DispatcherOptions, observer: DispatchObserver, upstream = publisher.name) {
    this.#publisher = publisher;
    this.#upstream = upstream;
    this.#target = target;
    this.#options = options;
    this.#observer = observer;
    this.#window = publisher.capabilities.ordered ? Math.max(1, options.maxInFlight) : 1;
  }

  /** Messages queued or in flight. */
  get pending(): number {
    return this.#pending;
  }

  get full(): boolean {
    return this.#full;
  }

  /** Resolves when the event was accepted by the broker or dead-lettered. */
  enqueue(event: BridgeEvent): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.reject(abortError());
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, seq: this.#seq++, enqueuedAt: performance.now(), attempts: 0, resolve, reject });
      this.#pending += 1;
      this.#pendingBytes += event.body.length;
      this.#updateCapacity();
      this.#pump();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Cancels in-flight publishes and backoffs and rejects everything pending with ERR_BRIDGE_ABORTED. */
  abort(): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    const rest = [...this.#queue.slice(this.#head), ...this.#failed];
    this.#queue = [];
    this.#head = 0;
    this.#failed = [];
    for (const item of rest) this.#settle(item, abortError());
  }

  #pump(): void {
    while (!this.#holding && this.#inFlight < this.#window && this.#head < this.#queue.length) {
      const item = this.#queue[this.#head++]!;
      this.#inFlight += 1;
      item.attempts += 1;
      this.#send(item);
    }
    // Compact the queue array now and then rather than shifting on every message.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * One publish call. A publisher that throws instead of rejecting, or returns something other
   * than a promise, must not escape into the caller (a source's read loop) or leave the line held.
   */
  #send(item: Item): void {
    let sent: unknown;
    try {
      sent = this.#publisher.publish(this.#target, item.event, { signal: this.#abort.signal });
    } catch (error) {
      queueMicrotask(() => this.#onFailed(item, error));
      return;
    }
    if (sent instanceof Promise || (typeof sent === 'object' && sent !== null && typeof (sent as PromiseLike<void>).then === 'function')) {
      // Promise.resolve adopts a foreign thenable; a `then` that throws becomes a rejection.
      Promise.resolve(sent as PromiseLike<void>).then(
        () => this.#onPublished(item),
        (error: unknown) => this.#onFailed(item, error),
      );
      return;
    }
    const error = new BridgeError(
      'ERR_BRIDGE_STATE',
      `[${this.#publisher.name}] publish() returned ${describeThrown(sent)} instead of a promise, so whether the broker accepted the message is unknown; the publisher breaks its contract`,
    );
    queueMicrotask(() => this.#onFailed(item, error));
  }

  #onPublished(item: Item): void {
    this.#inFlight -= 1;
    const info = { event: item.event, upstream: this.#upstream, target: this.#target, attempts: item.attempts, latencyMs: performance.now() - item.enqueuedAt };
    tell(() => this.#observer.published(info));
    this.#settle(item);
    this.#afterSettle();
  }

  #onFailed(item: Item, raw: unknown): void {
    this.#inFlight -= 1;
    if (this.#abort.signal.aborted) {
      this.#settle(item, abortError());
      return;
    }
    const error = toBridgeError(raw, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[${this.#publisher.name}] Publish failed`);
    if (error.retryable) {
      this.#holding = true;
      this.#lastError = error;
      this.#failed.push(item);
      this.#afterSettle();
    } else {
      this.#deadLetter(item, error);
    }
  }

  #deadLetter(item: Item, error: BridgeError): void {
    // Dead-lettering counts as in flight: the line is held until the letter is stored.
    this.#inFlight += 1;
    const letter: DeadLetter = { event: item.event, upstream: this.#upstream, target: this.#target, error, attempts: item.attempts };
    retryDeadLetter(letter, (l) => this.#observer.deadLetter(l), {
      signal: this.#abort.signal,
      ...(this.#options.retry && { retry: this.#options.retry }),
      ...(this.#observer.deadLetterRetry && { observer: this.#observer.deadLetterRetry }),
    }).then(
      () => {
        this.#inFlight -= 1;
        this.#settle(item);
        this.#afterSettle();
      },
      (abortErr: unknown) => {
        this.#inFlight -= 1;
        this.#settle(item, abortErr);
      },
    );
  }

  #afterSettle(): void {
    if (this.#holding && this.#inFlight === 0) {
      this.#retryFailed();
      return;
    }
    this.#pump();
  }

  #retryFailed(): void {
    const failed = this.#failed.sort((a, b) => a.seq - b.seq);
    this.#failed = [];
    const first = failed[0]!;
    const error = this.#lastError ?? new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[${this.#publisher.name}] Publish failed`, { retryable: true });
    // An upstream that said when to come back (Retry-After) is not asked sooner.
    const delayMs = Math.max(backoffDelay(first.attempts, this.#options.retry), retryAfter(error));
    tell(() => this.#observer.retrying({ event: first.event, upstream: this.#upstream, target: this.#target, attempt: first.attempts, delayMs, error }));
    // Put them back at the head, in their original order, ahead of anything queued since.
    this.#queue = [...failed, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    sleep(delayMs, this.#abort.signal).then(
      () => {
        this.#holding = false;
        this.#pump();
      },
      () => undefined, // aborted: abort() already rejected the queue
    );
  }

  #settle(item: Item, error?: unknown): void {
    this.#pending -= 1;
    this.#pendingBytes -= item.event.body.length;
    if (error === undefined) item.resolve();
    else item.reject(error);
    this.#updateCapacity();
    if (this.#pending === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #updateCapacity(): void {
    const full = this.#pending >= this.#options.maxInFlight || this.#pendingBytes >= this.#options.maxInFlightBytes;
    if (full !== this.#full) {
      this.#full = full;
      this.#observer.capacityChanged(full);
    }
  }
}

// An upstream's Retry-After (a webhook receiver's header, say) is honoured up to this, so a hostile
// or mistaken value cannot hold a target for days.
const maxRetryAfterMs = 15 * 60_000;

function retryAfter(error: BridgeError): number {
  const ms = error.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? Math.min(ms, maxRetryAfterMs) : 0;
}

/** Calls an observer; its failure (a listener that throws) must not escape into a promise chain and crash the process. */
function tell(call: () => void): void {
  try {
    call();
  } catch {
    // The bridge's observer guards its own listeners and logs; nothing useful is left to do here.
  }
}
