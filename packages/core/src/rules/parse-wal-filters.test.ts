import { describe, expect, it } from 'vitest';
import { matchesWalFilters, parseWalFilters } from './parse-wal-filters.js';

describe('parseWalFilters', () => {
  it("reads OpenFaaS's table:action list, schema-qualified names and bare tables", () => {
    expect(parseWalFilters('customer:insert, customer:update,billing.invoice:delete, orders')).toEqual([
      { table: 'customer', action: 'insert' },
      { table: 'customer', action: 'update' },
      { schema: 'billing', table: 'invoice', action: 'delete' },
      { table: 'orders' },
    ]);
  });

  it.each([
    ['customer:upsert', 'unknown action "upsert"'],
    [':insert', 'the table name is empty'],
    ['.t:insert', 'the table name is empty'],
    ['a:insert:x', 'expected "table:action"'],
  ])('rejects %j naming the problem', (text, why) => {
    expect(() => parseWalFilters(text)).toThrow(why);
  });

  it('matches by table, optional schema and optional action; no filters match everything', () => {
    const filters = parseWalFilters('customer:insert, billing.invoice');
    expect(matchesWalFilters(filters, 'public', 'customer', 'insert')).toBe(true);
    expect(matchesWalFilters(filters, 'public', 'customer', 'delete')).toBe(false);
    expect(matchesWalFilters(filters, 'billing', 'invoice', 'update')).toBe(true);
    expect(matchesWalFilters(filters, 'public', 'invoice', 'update')).toBe(false);
    expect(matchesWalFilters([], 'x', 'y', 'delete')).toBe(true);
  });
});
