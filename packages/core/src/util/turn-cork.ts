/** What {@link TurnCork} needs of a socket: Node's `Writable` cork/uncork and its buffer level. */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
}

/** `value` when it is a stream that can be corked, else undefined. */
export function corkableStream(value: unknown): CorkableStream | undefined {
  const stream = value as Partial<CorkableStream> | null | undefined;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function' && typeof stream.writableLength === 'number' ? (stream as CorkableStream) : undefined;
}

/**
 * Sends a turn's writes to a socket in one system call. Broker clients write each message as it
 * is published, often in several pieces: one `write` (and one wake-up of the broker) per message.
 * {@link hold} corks the socket until the end of the current event-loop turn, so the messages of
 * a turn leave together in one `writev`; nothing waits longer than the turn.
 *
 * @example
 * ```ts
 * const cork = new TurnCork(socket);
 * cork.hold();
 * client.publish(topic, body); // buffered until setImmediate, with the turn's other publishes
 * cork.flushIfFull();
 * ```
 */
export class TurnCork {
  readonly #stream: CorkableStream;
  #corked = false;

  constructor(stream: CorkableStream) {
    this.#stream = stream;
  }

  /** Corks the socket for the rest of this turn (once per turn, whatever the number of calls). */
  hold(): void {
    if (this.#corked) {
      this.flushIfFull();
      if (this.#corked) return;
    }
    this.#corked = true;
    this.#stream.cork();
    setImmediate(() => this.#uncork());
  }

  /**
   * Flushes at once once half the socket's buffer is held. A client that finds the buffer full
   * waits for 'drain', which a corked socket only emits at the end of the turn: large messages
   * stalled that way.
   */
  flushIfFull(): void {
    if (this.#corked && this.#stream.writableLength >= this.#stream.writableHighWaterMark / 2) this.#uncork();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#stream.uncork();
  }
}
