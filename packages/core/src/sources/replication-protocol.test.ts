import { describe, expect, it } from 'vitest';
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
