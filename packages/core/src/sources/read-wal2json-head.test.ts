import { describe, expect, it } from 'vitest';
import { parseWal2jsonTime, readWal2jsonHead } from './read-wal2json-head.js';

const read = (text: string) => readWal2jsonHead(Buffer.from(text));

describe('readWal2jsonHead', () => {
  it('reads action, schema and table before the column values', () => {
    expect(read('{"action":"I","schema":"public","table":"t","columns":[{"name":"v","value":"x"}]}')).toEqual({ action: 'I', schema: 'public', table: 't' });
    expect(read('{"action":"D","schema":"s","table":"t","identity":[{"name":"id","value":1}]}')).toEqual({ action: 'D', schema: 's', table: 't' });
  });

  it('keeps the optional fields wal2json puts in between', () => {
    expect(read('{"action":"U","xid":7,"timestamp":"2026-01-01 00:00:00+00","lsn":"0/1","schema":"a","table":"b","columns":[],"identity":[]}')).toMatchObject({ action: 'U', xid: 7, schema: 'a', table: 'b' });
  });

  it('parses messages without columns whole', () => {
    expect(read('{"action":"B","xid":9}')).toEqual({ action: 'B', xid: 9 });
    expect(read('{"action":"M","transactional":false,"prefix":"p","content":"c"}')).toMatchObject({ action: 'M', prefix: 'p' });
    expect(read('{"action":"T","schema":"public","table":"t"}')).toEqual({ action: 'T', schema: 'public', table: 't' });
  });

  it('is not fooled by names that look like the marker', () => {
    expect(read('{"action":"I","schema":"public","table":"x\\",\\"columns\\":[","columns":[]}').table).toBe('x","columns":[');
  });
});

describe('parseWal2jsonTime', () => {
  it.each([
    ['2026-12-04 20:00:16.379524+00', '2026-12-04T20:00:16.379Z'],
    ['2026-12-04 22:00:16+02', '2026-12-04T20:00:16.000Z'],
    ['2026-12-04 14:30:16.5-05:30', '2026-12-04T20:00:16.500Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseWal2jsonTime(text)?.toISOString()).toBe(iso);
  });

  it.each(['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '', null, undefined])('%j is not a Date', (text) => {
    expect(parseWal2jsonTime(text)).toBeUndefined();
  });
});

describe('readWal2jsonHead on malformed messages', () => {
  it.each(['', 'not json', '[1]', '{"action":1}', '{"action":"I"}', '{"action":"I","schema":"s","table":7}', '{"action":"B","timestamp":5}'])('%j is an ERR_BRIDGE_DECODE', (text) => {
    expect(() => read(text)).toThrow(expect.objectContaining({ code: 'ERR_BRIDGE_DECODE' }));
  });
});
