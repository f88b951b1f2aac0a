import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors.js';
import { encodePgoutputEnvelope } from './encode-pgoutput-envelope.js';
import { isJsonText } from './is-json-text.js';
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

describe('PgoutputDecoder on hostile bytes (fast-check)', () => {
  const isDecodeError = (error: unknown) => BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_DECODE';
  /** Decodes; returns what came out, or 'decode-error'; anything else thrown fails the property. */
  const attempt = (decoder: PgoutputDecoder, bytes: Buffer) => {
    try {
      return decoder.decode(bytes);
    } catch (error) {
      if (!isDecodeError(error)) throw error;
      return 'decode-error' as const;
    }
  };
  /** Items the decoder built never outnumber the bytes they came from. */
  const itemCount = (message: ReturnType<typeof attempt>) =>
    message === 'decode-error'
      ? 0
      : message.tag === 'truncate'
        ? message.relations.length
        : message.tag === 'relation'
          ? message.relation.columns.length
          : 'row' in message || 'old' in message
            ? ((message as { row?: unknown[] }).row?.length ?? 0) + ((message as { old?: unknown[] }).old?.length ?? 0)
            : 0;
  const primed = () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relation);
    return decoder;
  };
  const valid = [
    relation,
    Buffer.concat([char('B'), u64(0x155b508n), u64(1_000_000n), u32(727)]),
    Buffer.concat([char('C'), u8(0), u64(1n), u64(2n), u64(0n)]),
    Buffer.concat([char('I'), u32(16384), char('N'), tuple(text('1'), text('Ada'), text('{"a":[1]}'), char('n'))]),
    Buffer.concat([char('U'), u32(16384), char('K'), tuple(text('1'), char('n'), char('n'), char('n')), char('N'), tuple(text('2'), text('Bob'), char('u'), char('n'))]),
    Buffer.concat([char('D'), u32(16384), char('K'), tuple(text('7'), char('n'), char('n'), char('n'))]),
    Buffer.concat([char('T'), u32(2), u8(0), u32(16384), u32(16384)]),
    Buffer.concat([char('M'), u8(1), u64(42n), str('app'), u32(3), Buffer.from('hey')]),
  ];

  it('throws nothing but ERR_BRIDGE_DECODE on arbitrary bytes, and allocates in proportion to them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...'BCRIUDTMYOx'), (bytes, tag) => {
        for (const input of [Buffer.from(bytes), Buffer.concat([Buffer.from(tag), Buffer.from(bytes)])]) {
          const message = attempt(primed(), input);
          expect(itemCount(message)).toBeLessThanOrEqual(input.length);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('throws nothing but ERR_BRIDGE_DECODE on mutations of valid messages, and envelopes what it decodes as valid JSON', () => {
    const mutation = fc.record({
      index: fc.nat(valid.length - 1),
      cut: fc.option(fc.nat(120)),
      flips: fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      insert: fc.option(fc.tuple(fc.nat(120), fc.uint8Array({ minLength: 1, maxLength: 8 }))),
    });
    fc.assert(
      fc.property(mutation, ({ index, cut, flips, insert }) => {
        let bytes = Buffer.from(valid[index]!);
        for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
        if (insert) bytes = Buffer.concat([bytes.subarray(0, insert[0]), Buffer.from(insert[1]), bytes.subarray(insert[0])]);
        if (cut !== null) bytes = bytes.subarray(0, cut);
        const message = attempt(primed(), bytes);
        expect(itemCount(message)).toBeLessThanOrEqual(bytes.length);
        if (message !== 'decode-error' && (message.tag === 'insert' || message.tag === 'update' || message.tag === 'delete')) {
          try {
            const body = encodePgoutputEnvelope({ id: '0/1/0', lsn: '0/1', xid: 1, commitTime: '2000-01-01T00:00:00.000Z', action: message.tag, ...message });
            expect(() => JSON.parse(body.toString())).not.toThrow();
          } catch (error) {
            if (!isDecodeError(error)) throw error;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips valid inserts: every text value comes back in the envelope as it was sent', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: null }), { minLength: 1, maxLength: 8 }), (values) => {
        const decoder = new PgoutputDecoder();
        const columns = values.map((_, i) => Buffer.concat([u8(0), str(`c${i}`), u32(25), u32(0xffffffff)]));
        decoder.decode(Buffer.concat([char('R'), u32(1), str('s'), str('t'), char('d'), u16(values.length), ...columns]));
        const message = decoder.decode(Buffer.concat([char('I'), u32(1), char('N'), tuple(...values.map((v) => (v === null ? char('n') : text(v))))]));
        if (message.tag !== 'insert') throw new Error(`decoded ${message.tag}`);
        const body = JSON.parse(encodePgoutputEnvelope({ id: 'i', lsn: 'l', xid: 0, commitTime: 't', relation: message.relation, action: 'insert', row: message.row }).toString());
        expect(body.data).toEqual(Object.fromEntries(values.map((v, i) => [`c${i}`, v])));
      }),
    );
  });

  it('agrees with JSON.parse on which text is JSON, and passes any generated JSON through unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 30 }), fc.json().map((j) => j.slice(0, -1))), (candidate) => {
        let parses = true;
        try {
          JSON.parse(candidate);
        } catch {
          parses = false;
        }
        expect(isJsonText(candidate)).toBe(parses);
      }),
      { numRuns: 5000 },
    );
  });
});
