import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Status, type Subscription } from '@nats-io/transport-node';

/** Why a JetStream publish did not get a positive PubAck. */
export type PublishFailure =
  | { readonly kind: 'no-responders' }
  | { readonly kind: 'api'; readonly status: number; readonly errCode: number; readonly description: string }
  | { readonly kind: 'invalid'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'denied'; readonly detail: string }
  | { readonly kind: 'subscription'; readonly cause: Error };

export type AckCallback = (failure?: PublishFailure) => void;

interface Waiter {
  readonly subject: string;
  readonly deadline: number;
  readonly done: AckCallback;
}

/** nats.js's PermissionViolationError, recognised by its fields (nats-core may come twice). */
interface PermissionViolation extends Error {
  readonly operation: string;
  readonly subject: string;
}

function isPublishViolation(error: unknown): error is PermissionViolation {
  const e = error as Partial<PermissionViolation> | undefined;
  return e?.name === 'PermissionViolationError' && e.operation === 'publish' && typeof e.subject === 'string';
}

interface PubAckReply {
  stream?: unknown;
  error?: { code?: unknown; err_code?: unknown; description?: unknown };
}

// Requests answered by no subscriber: the server replies with this status (no stream captures
// the subject, or JetStream is not enabled).
const NO_RESPONDERS = 503;

/**
 * JetStream publishes on one connection with one reply subscription: `<inbox>.<n>` per message,
 * answered by the stream's PubAck. nats.js's `js.publish` makes a request object, a timer, two
 * promises and an Error (built in case the request fails, stack included) for every message;
 * here a message costs a map entry, and one timer sweeps every deadline.
 */
export class PublishAcks {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #subscription: Subscription;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, Waiter>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #statuses: AsyncIterable<Status>;
  #next = 0;
  #failed: PublishFailure | undefined;

  constructor(nc: NatsConnection, timeoutMs: number, inboxPrefix?: string) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#prefix = `${createInbox(inboxPrefix)}.`;
    this.#subscription = nc.subscribe(`${this.#prefix}*`, { callback: (error, msg) => (error ? this.#fail(error) : this.#settle(msg)) });
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(1_000, Math.max(20, timeoutMs / 10)));
    this.#sweeper.unref();
    this.#statuses = nc.status();
    void this.#watch(this.#statuses);
  }

  /** False once the reply subscription failed; a new PublishAcks is needed. */
  get usable(): boolean {
    return this.#failed === undefined;
  }

  /**
   * Publishes `body` to `subject` and calls `done` once, with the stream's verdict, or a timeout
   * after `timeoutMs`. Throws what `nc.publish` throws (closed connection, payload over the
   * server's max_payload), before anything is sent.
   */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs, done: AckCallback): void {
    if (this.#failed) {
      done(this.#failed);
      return;
    }
    const token = (this.#next++).toString(36);
    this.#nc.publish(subject, body, { reply: this.#prefix + token, headers });
    this.#waiting.set(token, { subject, deadline: Date.now() + this.#timeoutMs, done });
  }

  /** Stops listening; publishes still waiting get no callback (their owner fails them). */
  close(): void {
    clearInterval(this.#sweeper);
    (this.#statuses as { stop?: () => void }).stop?.();
    this.#waiting.clear();
    if (!this.#subscription.isClosed()) this.#subscription.unsubscribe();
  }

  #settle(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const waiter = this.#waiting.get(token);
    // A reply after its deadline: the publish already failed as timed out and will be re-sent;
    // Nats-Msg-Id makes the stream drop the copy.
    if (!waiter) return;
    this.#waiting.delete(token);
    waiter.done(verdict(msg));
  }

  #sweep(): void {
    const now = Date.now();
    // Deadlines grow with insertion order (one timeout for all), so the expired ones come first.
    for (const [token, waiter] of this.#waiting) {
      if (waiter.deadline > now) break;
      this.#waiting.delete(token);
      waiter.done({ kind: 'timeout', afterMs: this.#timeoutMs });
    }
  }

  /**
   * The server drops a message its user may not publish, answers `-ERR 'Permissions Violation
   * for Publish to "<subject>"'` and keeps the connection: without this the publish would only
   * time out. The server handles a connection's messages in order, so the refusal is for the
   * oldest message to that subject still waiting.
   */
  async #watch(statuses: AsyncIterable<Status>): Promise<void> {
    for await (const status of statuses) {
      if (status.type !== 'error' || !isPublishViolation(status.error)) continue;
      for (const [token, waiter] of this.#waiting) {
        if (waiter.subject !== status.error.subject) continue;
        this.#waiting.delete(token);
        waiter.done({ kind: 'denied', detail: status.error.message });
        break;
      }
    }
  }

  #fail(cause: Error): void {
    this.#failed = { kind: 'subscription', cause };
    const waiting = [...this.#waiting.values()];
    this.close();
    for (const waiter of waiting) waiter.done(this.#failed);
  }
}

function verdict(msg: Msg): PublishFailure | undefined {
  if (msg.headers?.code === NO_RESPONDERS) return { kind: 'no-responders' };
  // The reply's bytes come from whatever answers on the subject: parsed with a guard, quoted short.
  let reply: PubAckReply;
  try {
    reply = msg.json<PubAckReply>();
  } catch {
    return { kind: 'invalid', detail: `reply is not JSON: ${quote(msg)}` };
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) return { kind: 'invalid', detail: `reply is not a JSON object: ${quote(msg)}` };
  const error = reply.error;
  if (error !== undefined && error !== null) {
    if (typeof error !== 'object') return { kind: 'invalid', detail: `reply has an error that is not an object: ${quote(msg)}` };
    return {
      kind: 'api',
      status: typeof error.code === 'number' ? error.code : 0,
      errCode: typeof error.err_code === 'number' ? error.err_code : 0,
      description: typeof error.description === 'string' ? error.description.slice(0, maxQuoted) : quote(msg),
    };
  }
  if (typeof reply.stream !== 'string' || reply.stream === '') return { kind: 'invalid', detail: `reply names no stream: ${quote(msg)}` };
  return undefined;
}

// The most of a broker's reply quoted in an error message.
const maxQuoted = 200;

function quote(msg: Msg): string {
  return JSON.stringify(Buffer.from(msg.data.subarray(0, maxQuoted)).toString('utf8')) + (msg.data.length > maxQuoted ? ` (${msg.data.length} bytes)` : '');
}
