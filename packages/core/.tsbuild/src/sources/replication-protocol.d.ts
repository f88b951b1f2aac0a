/**
 * The streaming-replication sub-protocol carried in CopyData messages, as pure functions on bytes.
 * https://www.postgresql.org/docs/15/protocol-replication.html
 */
/** A WAL position. Kept as bigint: LSNs are 64-bit and exceed Number's safe range. */
export type Lsn = bigint;
/** A message the server sends during START_REPLICATION. */
export type ReplicationMessage = {
    readonly type: 'xlog';
    readonly lsn: Lsn;
    readonly walEnd: Lsn;
    readonly data: Buffer;
} | {
    readonly type: 'keepalive';
    readonly walEnd: Lsn;
    readonly replyRequested: boolean;
};
/** Parses one CopyData payload of a replication stream; unknown message types yield undefined. */
export declare function parseReplicationMessage(chunk: Buffer): ReplicationMessage | undefined;
/**
 * Encodes a standby status update. `flushed` is what the slot may advance to: everything before it
 * is confirmed delivered. `received` is informational.
 */
export declare function encodeStandbyStatus(received: Lsn, flushed: Lsn, now?: number, replyRequested?: boolean): Buffer;
/** `0/155B398` → 22394776n. */
export declare function parseLsn(text: string): Lsn;
/** 22394776n → `0/155B398`, as Postgres prints it. */
export declare function formatLsn(lsn: Lsn): string;
/** Postgres timestamps in the protocol: microseconds since 2000-01-01 UTC. */
export declare function postgresTimeToDate(micros: bigint): Date;
//# sourceMappingURL=replication-protocol.d.ts.map