import type { Target } from '@pg-event-bridge/core';

/** A message as a test consumer saw it on the broker. */
export interface ReceivedMessage {
  readonly body: Buffer;
  /** Where it arrived: the AMQP routing key, MQTT topic, Redis channel, NATS subject... */
  readonly routingKey: string;
  /** Headers / properties / attributes, as strings. Empty when the upstream has none. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A target provisioned on the real broker for one test, with a consumer reading from it. */
export interface TestTarget<M extends ReceivedMessage = ReceivedMessage> {
  readonly target: Target;
  /** Everything that arrives at the target, in arrival order. */
  readonly inbox: MessageInbox<M>;
  /** Stops the consumer and deletes what provisioning created. */
  dispose(): Promise<void>;
}

/**
 * Collects messages a test consumer receives and lets the test wait for them, with a deadline
 * instead of a sleep.
 *
 * @example
 * ```ts
 * const inbox = new MessageInbox();
 * channel.consume(queue, (m) => m && inbox.push({ body: m.content, routingKey: m.fields.routingKey, headers: {} }));
 * const [first] = await inbox.take(1);
 * ```
 */
export class MessageInbox<M extends ReceivedMessage = ReceivedMessage> {
  #messages: M[] = [];
  #waiters = new Set<() => void>();

  /** Messages received and not taken yet. */
  get size(): number {
    return this.#messages.length;
  }

  /** Called by the consumer for each message. */
  push(message: M): void {
    this.#messages.push(message);
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Removes and returns the next `count` messages once they have arrived. Rejects after
   * `timeoutMs` saying how many did arrive.
   */
  take(count: number, timeoutMs = 10_000): Promise<M[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#messages.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.#messages.splice(0, count));
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`Expected ${count} message(s) within ${timeoutMs} ms; ${this.#messages.length} arrived`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}
