import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors.js';
import { readWal2jsonHead } from './read-wal2json-head.js';
import { encodeStandbyStatus, formatLsn, parseLsn, parseReplicationMessage, postgresTimeToDate } from './replication-protocol.js';

describe('replication protocol', () => {
  it('parses XLogData with its LSNs and payload', () => {
    const chunk = Buffer.alloc(25 + 3);
    chunk[0] = 0x77;
    chunk.writeBigUInt64BE(0x155b398n, 1);
    chunk.writeBigUInt64BE(0x155b538n, 9);
    chunk.write('abc', 25);
    const message = parseReplicationMessage(chunk);
    expect(message).toEqual({ type: 'xlog', lsn: 0x155b398n, walEnd: 0x155b538n, data: Buffer.from('abc') });
  });

  it('parses a keepalive and its reply flag', () => {
    const chunk = Buffer.alloc(18);
    chunk[0] = 0x6b;
    chunk.writeBigUInt64BE(0x1_0000_0010n, 1);
    chunk[17] = 1;
    expect(parseReplicationMessage(chunk)).toEqual({ type: 'keepalive', walEnd: 0x1_0000_0010n, replyRequested: true });
  });

  it('ignores unknown message types', () => {
    expect(parseReplicationMessage(Buffer.from([0x00, 1, 2]))).toBeUndefined();
  });

  it('encodes a standby status update with write, flush and apply positions', () => {
    const status = encodeStandbyStatus(0x20n, 0x10n, Date.UTC(2000, 0, 1, 0, 0, 1));
    expect(status).toHaveLength(34);
    expect(status[0]).toBe(0x72);
    expect(status.readBigUInt64BE(1)).toBe(0x20n);
    expect(status.readBigUInt64BE(9)).toBe(0x10n);
    expect(status.readBigUInt64BE(17)).toBe(0x10n);
    expect(status.readBigInt64BE(25)).toBe(1_000_000n);
    expect(status[33]).toBe(0);
  });

  it('round-trips LSN text, including the high word', () => {
    for (const text of ['0/0', '0/155B398', '16/B374D848', 'FFFFFFFF/FFFFFFFF']) expect(formatLsn(parseLsn(text))).toBe(text);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(() => parseLsn('nope')).toThrow('not an LSN');
  });

  it('converts protocol timestamps', () => {
    expect(postgresTimeToDate(1_500_000n).toISOString()).toBe('2000-01-01T00:00:01.500Z');
  });
});

describe('replication framing on hostile bytes (fast-check)', () => {
  it('returns a message, undefined, or throws ERR_BRIDGE_DECODE; never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x77, 0x6b, 0x00, 0x72), fc.uint8Array({ maxLength: 60 }), (type, rest) => {
        const chunk = Buffer.concat([Buffer.from([type]), Buffer.from(rest)]);
        try {
          const message = parseReplicationMessage(chunk);
          if (message?.type === 'xlog') expect(message.data.length).toBe(chunk.length - 25);
        } catch (error) {
          expect(BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_DECODE').toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
    expect(() => parseReplicationMessage(Buffer.alloc(0))).not.toThrow();
  });

  it('round-trips XLogData and keepalives', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (lsn, end, data, reply) => {
        const xlog = Buffer.alloc(25 + data.length);
        xlog[0] = 0x77;
        xlog.writeBigUInt64BE(lsn, 1);
        xlog.writeBigUInt64BE(end, 9);
        xlog.set(data, 25);
        expect(parseReplicationMessage(xlog)).toEqual({ type: 'xlog', lsn, walEnd: end, data: Buffer.from(data) });
        const keepalive = Buffer.alloc(18);
        keepalive[0] = 0x6b;
        keepalive.writeBigUInt64BE(end, 1);
        keepalive[17] = reply ? 1 : 0;
        expect(parseReplicationMessage(keepalive)).toEqual({ type: 'keepalive', walEnd: end, replyRequested: reply });
      }),
    );
  });
});

describe('readWal2jsonHead on hostile bytes (fast-check)', () => {
  it('throws nothing but ERR_BRIDGE_DECODE', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1'))), (text) => {
        try {
          readWal2jsonHead(Buffer.from(text));
        } catch (error) {
          expect(BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_DECODE').toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
