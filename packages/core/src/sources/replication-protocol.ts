import { BridgeError } from '../errors.js';

/**
 * The streaming-replication sub-protocol carried in CopyData messages, as pure functions on bytes.
 * https://www.postgresql.org/docs/15/protocol-replication.html
 */

/** Microseconds between the Unix epoch and Postgres' epoch (2000-01-01). */
const postgresEpochMicros = 946_684_800_000_000n;

/** A WAL position. Kept as bigint: LSNs are 64-bit and exceed Number's safe range. */
export type Lsn = bigint;

/** A message the server sends during START_REPLICATION. */
export type ReplicationMessage =
  | { readonly type: 'xlog'; readonly lsn: Lsn; readonly walEnd: Lsn; readonly data: Buffer }
  | { readonly type: 'keepalive'; readonly walEnd: Lsn; readonly replyRequested: boolean };

/**
 * Parses one CopyData payload of a replication stream; unknown message types yield undefined. A
 * message too short for its type throws an ERR_BRIDGE_DECODE BridgeError, never anything else.
 */
export function parseReplicationMessage(chunk: Buffer): ReplicationMessage | undefined {
  switch (chunk[0]) {
    case 0x77: // 'w' XLogData: start, end, send time, then the plugin's bytes
      if (chunk.length < 25) throw tooShort('XLogData', chunk.length, 25);
      return { type: 'xlog', lsn: chunk.readBigUInt64BE(1), walEnd: chunk.readBigUInt64BE(9), data: chunk.subarray(25) };
    case 0x6b: // 'k' primary keepalive: wal end, send time, reply requested
      if (chunk.length < 18) throw tooShort('keepalive', chunk.length, 18);
      return { type: 'keepalive', walEnd: chunk.readBigUInt64BE(1), replyRequested: chunk[17] === 1 };
    default:
      return undefined;
  }
}

function tooShort(what: string, length: number, needed: number): BridgeError {
  return new BridgeError('ERR_BRIDGE_DECODE', `[wal] A replication ${what} message of ${length} bytes is shorter than its ${needed}-byte header`);
}

/**
 * Encodes a standby status update. `flushed` is what the slot may advance to: everything before it
 * is confirmed delivered. `received` is informational.
 */
export function encodeStandbyStatus(received: Lsn, flushed: Lsn, now = Date.now(), replyRequested = false): Buffer {
  const message = Buffer.alloc(34);
  message[0] = 0x72; // 'r'
  message.writeBigUInt64BE(received, 1);
  message.writeBigUInt64BE(flushed, 9);
  message.writeBigUInt64BE(flushed, 17);
  message.writeBigInt64BE(BigInt(now) * 1000n - postgresEpochMicros, 25);
  message[33] = replyRequested ? 1 : 0;
  return message;
}

/** `0/155B398` → 22394776n. */
export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!match) throw new Error(`not an LSN: "${text}"`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** 22394776n → `0/155B398`, as Postgres prints it. */
export function formatLsn(lsn: Lsn): string {
  // Number's toString(16) is several times faster than BigInt's; each half fits in 32 bits.
  return `${Number(lsn >> 32n).toString(16).toUpperCase()}/${Number(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Postgres timestamps in the protocol: microseconds since 2000-01-01 UTC. */
export function postgresTimeToDate(micros: bigint): Date {
  return new Date(Number((micros + postgresEpochMicros) / 1000n));
}
