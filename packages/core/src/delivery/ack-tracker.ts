/** One unit of acknowledgement: a transaction, or a change or message outside one. */
export interface AckUnit {
  /** Counts a delivery that must settle before the unit is complete. */
  track(delivery: Promise<void>): void;
  /** No more deliveries will be tracked; once they settle, the source may acknowledge `ackLsn`. */
  close(ackLsn: bigint): void;
}

/**
 * Computes how far a replication slot may advance: to the ack position of the last unit that,
 * together with every unit before it in stream order, was fully delivered. A delivery that
 * rejects (the bridge stopped) never completes its unit, so nothing after it is acknowledged.
 */
export class AckTracker {
  #units: Array<{ outstanding: number; closed: boolean; ackLsn: bigint }> = [];
  #head = 0;
  #confirmed: bigint;
  readonly #onAdvance: (lsn: bigint) => void;

  constructor(confirmed: bigint, onAdvance: (lsn: bigint) => void = () => undefined) {
    this.#confirmed = confirmed;
    this.#onAdvance = onAdvance;
  }

  /** The position up to which everything was delivered. */
  get confirmed(): bigint {
    return this.#confirmed;
  }

  /** True when some unit is open or has deliveries in flight. */
  get pending(): boolean {
    return this.#head < this.#units.length;
  }

  /** Moves the confirmed position forward when nothing is pending (idle keepalives, heartbeats). */
  advanceIdle(lsn: bigint): void {
    if (!this.pending && lsn > this.#confirmed) {
      this.#confirmed = lsn;
      this.#onAdvance(lsn);
    }
  }

  open(): AckUnit {
    const unit = { outstanding: 0, closed: false, ackLsn: 0n };
    this.#units.push(unit);
    return {
      track: (delivery) => {
        unit.outstanding += 1;
        delivery.then(
          () => {
            unit.outstanding -= 1;
            if (unit.closed && unit.outstanding === 0) this.#advance();
          },
          () => undefined,
        );
      },
      close: (ackLsn) => {
        unit.closed = true;
        unit.ackLsn = ackLsn;
        if (unit.outstanding === 0) this.#advance();
      },
    };
  }

  #advance(): void {
    let confirmed = this.#confirmed;
    while (this.#head < this.#units.length) {
      const unit = this.#units[this.#head]!;
      if (!unit.closed || unit.outstanding > 0) break;
      if (unit.ackLsn > confirmed) confirmed = unit.ackLsn;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#units.length) {
      this.#units = this.#units.slice(this.#head);
      this.#head = 0;
    }
    if (confirmed > this.#confirmed) {
      this.#confirmed = confirmed;
      this.#onAdvance(confirmed);
    }
  }
}
