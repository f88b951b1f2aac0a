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
export declare class AckTracker {
    #private;
    constructor(confirmed: bigint, onAdvance?: (lsn: bigint) => void);
    /** The position up to which everything was delivered. */
    get confirmed(): bigint;
    /** True when some unit is open or has deliveries in flight. */
    get pending(): boolean;
    /** Moves the confirmed position forward when nothing is pending (idle keepalives, heartbeats). */
    advanceIdle(lsn: bigint): void;
    open(): AckUnit;
}
//# sourceMappingURL=ack-tracker.d.ts.map