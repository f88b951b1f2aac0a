import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { usePrivateCluster } from './wal-harness.js';

// Poison rows through pgoutput on a private cluster (wal_level=logical): a value the old code could
// not encode, and one that cannot be carried losslessly at all. Neither may stop the stream.
const cluster = await usePrivateCluster();
const { testkit } = cluster;
const start = () => cluster.createWalBridge('pgoutput', { slot: `poison_${randomUUID().slice(0, 8)}` });

describe('WAL poison rows', () => {
  it('delivers a row with a 6,000-deep jsonb value byte-exact, and the rows after it (once crashed the process)', async () => {
    const table = `deep_${randomUUID().slice(0, 8)}`;
    await cluster.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, doc jsonb)`);
    const { bridge, sink } = start();
    await bridge.start();
    await cluster.db.query(`INSERT INTO ${table} VALUES (1, '{"a":1}')`);
    await cluster.db.query(`INSERT INTO ${table} VALUES (2, (repeat('[', 6000) || repeat(']', 6000))::jsonb)`);
    await cluster.db.query(`INSERT INTO ${table} VALUES (3, '{"a":3}')`);
    await testkit.waitFor(() => sink.received.length >= 3, { timeoutMs: 20_000, what: 'three rows' });
    const { rows } = await cluster.db.query<{ doc: string }>(`SELECT doc::text FROM ${table} WHERE id = 2`);
    const deep = sink.received[1]!.body.toString();
    expect(deep).toContain(`"data":{"id":2,"doc":${rows[0]!.doc}}`);
    expect(sink.received.map((e) => (e.body.toString().match(/"id":(\d),/) ?? [])[1])).toEqual(['1', '2', '3']);
    expect(sink.deadLetters).toEqual([]);
  });

  it('carries every value losslessly: json/jsonb as Postgres wrote it, int8 and numeric as their text, NaN and infinity as strings', async () => {
    const table = `lossless_${randomUUID().slice(0, 8)}`;
    await cluster.db.query(`CREATE TYPE ${table}_mood AS ENUM ('ok', 'sad'); CREATE TYPE ${table}_pair AS (a int, b text); CREATE DOMAIN ${table}_doc AS jsonb;
      CREATE TABLE ${table} (id int PRIMARY KEY, j json, jb jsonb, big int8, amount numeric, fnan float8, finf float8, nnan numeric, ninf numeric, ts timestamptz,
        cash money, raw bytea, arr int[], pair ${table}_pair, dom ${table}_doc, mood ${table}_mood, "__proto__" text, r float4)`);
    const { bridge, sink } = start();
    await bridge.start();
    const json = '{"id": 1234567890123456789, "amount": 12345678.123456789012345, "big": 1e400}';
    await cluster.db.query(
      `INSERT INTO ${table} VALUES (1, $1::json, $1::jsonb, 9223372036854775807, 12345678.123456789012345, 'NaN', '-Infinity', 'NaN', 'Infinity', 'infinity',
        12.34, '\\x00ff', '{1,NULL,3}', ROW(1, 'x"y'), '{"n": 100000000000000000001}', 'sad', 'proto', 1.5)`,
      [json],
    );
    await testkit.waitFor(() => sink.received.length >= 1, { timeoutMs: 20_000, what: 'the row' });
    const { rows } = await cluster.db.query<{ jb: string; dom: string; cash: string }>(`SELECT jb::text, dom::text, cash::text FROM ${table}`);
    const body = sink.received[0]!.body.toString();
    const data = body.slice(body.indexOf('"data":') + 7, body.indexOf(',"dataOld":'));
    expect(data).toBe(
      `{"id":1,"j":${json},"jb":${rows[0]!.jb},"big":"9223372036854775807","amount":"12345678.123456789012345","fnan":"NaN","finf":"-Infinity","nnan":"NaN","ninf":"Infinity",` +
        `"ts":"infinity","cash":${JSON.stringify(rows[0]!.cash)},"raw":"\\\\x00ff","arr":"{1,NULL,3}","pair":"(1,\\"x\\"\\"y\\")","dom":${JSON.stringify(rows[0]!.dom)},"mood":"sad","__proto__":"proto","r":1.5}`,
    );
    expect(rows[0]!.jb).toContain('1234567890123456789');
    expect(() => JSON.parse(body)).not.toThrow();
    expect(sink.received[0]!.headers).toMatchObject({ 'x-wal-kind': 'change', 'x-wal-action': 'insert' });
  });
});
