import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, type Bridge } from '../src/index.js';
import { loadTestkit, recorder, type PrivatePostgres } from './wal-harness.js';

// Poison rows through pgoutput on a private cluster (wal_level=logical): a value the old code could
// not encode, and one that cannot be carried losslessly at all. Neither may stop the stream.
const testkit = await loadTestkit();
let postgres: PrivatePostgres;
let db: pg.Client;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  postgres = await testkit.startPrivatePostgres();
  db = new pg.Client(postgres.url);
  await db.connect();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await db?.end();
  await postgres?.destroy();
});

function start(url: string, client: pg.Client) {
  const sink = recorder();
  const slot = `poison_${randomUUID().slice(0, 8)}`;
  const bridge: Bridge = createBridge({
    postgres: url,
    upstreams: [{ publisher: sink.publisher, rules: 'pgoutput->queue:q' }],
    wal: { slot, publication: `pub_${slot}`, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
    outbox: false,
    deadLetter: sink.deadLetter,
  });
  cleanups.push(async () => {
    await bridge.stop({ timeoutMs: 2000 });
    await testkit.waitFor(async () => (await client.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [slot])).rowCount === 0, { what: 'the slot released' });
    await client.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  });
  return { bridge, sink, slot };
}

const confirmedPastCurrent = async (client: pg.Client, slot: string) => {
  const { rows } = await client.query<{ done: boolean }>(`SELECT confirmed_flush_lsn >= pg_current_wal_insert_lsn() AS done FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  return rows[0]?.done === true;
};

describe('WAL poison rows', () => {
  it('delivers a row with a 6,000-deep jsonb value byte-exact, and the rows after it (once crashed the process)', async () => {
    const table = `deep_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, doc jsonb)`);
    const { bridge, sink } = start(postgres.url, db);
    await bridge.start();
    await db.query(`INSERT INTO ${table} VALUES (1, '{"a":1}')`);
    await db.query(`INSERT INTO ${table} VALUES (2, (repeat('[', 6000) || repeat(']', 6000))::jsonb)`);
    await db.query(`INSERT INTO ${table} VALUES (3, '{"a":3}')`);
    await testkit.waitFor(() => sink.received.length >= 3, { timeoutMs: 20_000, what: 'three rows' });
    const { rows } = await db.query<{ doc: string }>(`SELECT doc::text FROM ${table} WHERE id = 2`);
    const deep = sink.received[1]!.body.toString();
    expect(deep).toContain(`"data":{"id":2,"doc":${rows[0]!.doc}}`);
    expect(sink.received.map((e) => (e.body.toString().match(/"id":(\d),/) ?? [])[1])).toEqual(['1', '2', '3']);
    expect(sink.deadLetters).toEqual([]);
    });

  it('carries every value losslessly: json/jsonb as Postgres wrote it, int8 and numeric as their text, NaN and infinity as strings', async () => {
    const table = `lossless_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TYPE ${table}_mood AS ENUM ('ok', 'sad'); CREATE TYPE ${table}_pair AS (a int, b text); CREATE DOMAIN ${table}_doc AS jsonb;
      CREATE TABLE ${table} (id int PRIMARY KEY, j json, jb jsonb, big int8, amount numeric, fnan float8, finf float8, nnan numeric, ninf numeric, ts timestamptz,
        cash money, raw bytea, arr int[], pair ${table}_pair, dom ${table}_doc, mood ${table}_mood, "__proto__" text, r float4)`);
    const { bridge, sink } = start(postgres.url, db);
    await bridge.start();
    const json = '{"id": 1234567890123456789, "amount": 12345678.123456789012345, "big": 1e400}';
    await db.query(
      `INSERT INTO ${table} VALUES (1, $1::json, $1::jsonb, 9223372036854775807, 12345678.123456789012345, 'NaN', '-Infinity', 'NaN', 'Infinity', 'infinity',
        12.34, '\\x00ff', '{1,NULL,3}', ROW(1, 'x"y'), '{"n": 100000000000000000001}', 'sad', 'proto', 1.5)`,
      [json],
    );
    await testkit.waitFor(() => sink.received.length >= 1, { timeoutMs: 20_000, what: 'the row' });
    const { rows } = await db.query<{ jb: string; dom: string; cash: string }>(`SELECT jb::text, dom::text, cash::text FROM ${table}`);
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
