import { describe, expect, it } from 'vitest';
import { PgoutputDecoder, convertText } from './pgoutput-decoder.js';

// Builders for pgoutput's wire format, so the decoder is tested on bytes.
const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const str = (s: string) => Buffer.concat([Buffer.from(s), u8(0)]);
const char = (c: string) => Buffer.from(c);
const text = (s: string) => Buffer.concat([char('t'), u32(Buffer.byteLength(s)), Buffer.from(s)]);
const tuple = (...cols: Buffer[]) => Buffer.concat([u16(cols.length), ...cols]);

const relation = Buffer.concat([
  char('R'), u32(16384), str('public'), str('customer'), char('d'), u16(4),
  u8(1), str('id'), u32(23), u32(0xffffffff),
  u8(0), str('name'), u32(25), u32(0xffffffff),
  u8(0), str('profile'), u32(3802), u32(0xffffffff),
  u8(0), str('balance'), u32(1700), u32(0xffffffff),
]);

describe('PgoutputDecoder', () => {
  it('decodes begin and commit with their LSNs and times', () => {
    const decoder = new PgoutputDecoder();
    expect(decoder.decode(Buffer.concat([char('B'), u64(0x155b508n), u64(1_000_000n), u32(727)]))).toEqual({
      tag: 'begin',
      finalLsn: 0x155b508n,
      commitTime: new Date('2000-01-01T00:00:01.000Z'),
      xid: 727,
    });
    expect(decoder.decode(Buffer.concat([char('C'), u8(0), u64(0x155b508n), u64(0x155b538n), u64(0n)]))).toMatchObject({
      tag: 'commit',
      commitLsn: 0x155b508n,
      endLsn: 0x155b538n,
    });
  });

  it('decodes an insert into JSON-friendly values using the relation it described earlier', () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relation);
    const insert = decoder.decode(Buffer.concat([char('I'), u32(16384), char('N'), tuple(text('1'), text('Ada'), text('{"tags": ["a|b"]}'), text('12345678901234567890.5'))]));
    expect(insert).toMatchObject({ tag: 'insert', relation: { schema: 'public', table: 'customer' } });
    expect((insert as unknown as { row: Buffer[] }).row.map(String)).toEqual(['1', 'Ada', '{"tags": ["a|b"]}', '12345678901234567890.5']);
  });

  it('lists TOASTed columns that were not sent as unchanged, and keeps the old key', () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relation);
    const update = decoder.decode(
      Buffer.concat([char('U'), u32(16384), char('K'), tuple(text('1'), char('n'), char('n'), char('n')), char('N'), tuple(text('2'), text('Bob'), char('u'), char('n'))]),
    );
    expect(update).toEqual({ tag: 'update', relation: expect.anything(), row: [Buffer.from('2'), Buffer.from('Bob'), 'unchanged', null], old: [Buffer.from('1'), null, null, null] });
  });

  it('decodes a delete of the replica identity and a truncate of several tables', () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relation);
    expect(decoder.decode(Buffer.concat([char('D'), u32(16384), char('K'), tuple(text('7'), char('n'), char('n'), char('n'))]))).toMatchObject({
      tag: 'delete',
      old: [Buffer.from('7'), null, null, null],
    });
    expect(decoder.decode(Buffer.concat([char('T'), u32(2), u8(0), u32(16384), u32(16384)]))).toMatchObject({ tag: 'truncate', relations: [{ table: 'customer' }, { table: 'customer' }] });
  });

  it('decodes logical messages', () => {
    const decoder = new PgoutputDecoder();
    expect(decoder.decode(Buffer.concat([char('M'), u8(0), u64(42n), str('app'), u32(3), Buffer.from('hey')]))).toEqual({
      tag: 'message',
      transactional: false,
      lsn: 42n,
      prefix: 'app',
      content: Buffer.from('hey'),
    });
  });

  it('refuses a change to a relation it was never told about', () => {
    expect(() => new PgoutputDecoder().decode(Buffer.concat([char('I'), u32(1), char('N'), tuple()]))).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_DECODE', message: expect.stringContaining('relation 1') }));
  });
});

describe('convertText', () => {
  it.each([
    ['t', 16, 'true'],
    ['f', 16, 'false'],
    ['42', 23, '42'],
    ['1.5', 701, '1.5'],
    ['1e+300', 701, '1e+300'],
    ['NaN', 701, '"NaN"'],
    ['-Infinity', 700, '"-Infinity"'],
    ['9007199254740993', 20, '"9007199254740993"'],
    ['NaN', 1700, '"NaN"'],
    ['{"a": 12345678901234567890123, "b": 1e400}', 114, '{"a": 12345678901234567890123, "b": 1e400}'],
    ['infinity', 1184, '"infinity"'],
    ['2026-01-01 10:00:00+00', 1184, '"2026-01-01 10:00:00+00"'],
    ['{1,2}', 1007, '"{1,2}"'],
    ['\\x00ff', 17, '"\\\\x00ff"'],
  ])('%j of type %i -> %s', (value, oid, expected) => {
    expect(convertText(value, oid)).toBe(expected);
  });

  it('splices json of any depth without recursion', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(convertText(Buffer.from(deep), 3802)).toBe(deep);
  });

  it('refuses text that is not UTF-8 and json that is not JSON, rather than altering them', () => {
    expect(() => convertText(Buffer.from([0x63, 0xe9]), 25)).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_DECODE', message: expect.stringContaining('UTF-8') }));
    expect(() => convertText('{"a":1} , "schema": "x"', 114)).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_DECODE' }));
  });
});
