import { randomUUID } from 'node:crypto';
import { createBridge, type Bridge } from '@pg-event-bridge/core';
import { startPrivatePostgres, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl, type AmqpReceived } from './rabbit.js';

// The bad-input corpus for WAL: awkward types and table shapes through both plugins.
let postgres: PrivatePostgres;
let rabbit: Rabbit;
let db: pg.Client;
const id = randomUUID().slice(0, 8);
const table = `edge_${id}`;
const parted = `parted_${id}`;
const streams: Record<'wal2json' | 'pgoutput', { bridge: Bridge; inbox: { take(n: number, t?: number): Promise<AmqpReceived[]> }; dispose(): Promise<void> }> = {} as never;

beforeAll(async () => {
  [postgres, rabbit] = await Promise.all([startPrivatePostgres(), Rabbit.open()]);
  db = new pg.Client(postgres.url);
  await db.connect();
  await db.query(`
    CREATE TABLE ${table} (
      id int PRIMARY KEY,
      amount numeric(30, 10),
      big bigint,
      tags text[],
      doc jsonb,
      raw bytea,
      ratio float8,
      at timestamptz,
      doubled int GENERATED ALWAYS AS (id * 2) STORED,
      long text
    );
    ALTER TABLE ${table} ALTER long SET STORAGE EXTERNAL;
    -- A key: the publication the bridge manages carries only tables that have a replica identity.
    CREATE TABLE ${parted} (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
    CREATE TABLE ${parted}_eu PARTITION OF ${parted} FOR VALUES IN ('eu');
  `);
  for (const plugin of ['wal2json', 'pgoutput'] as const) {
    const { target, inbox, dispose } = await rabbit.provision('exchange');
    const bridge = createBridge({
      postgres: postgres.url,
      upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules: `${plugin}->exchange:${target.name}` }],
      wal: { slot: `edge_${plugin}_${id}`, publication: `edge_${id}` },
    });
    await bridge.start();
    streams[plugin] = { bridge, inbox, dispose };
  }
  await db.query(`INSERT INTO ${table} (id, amount, big, tags, doc, raw, ratio, at, long) VALUES
    (1, 12345678901234567890.0123456789, 9223372036854775807, '{"a|b","c d",NULL}', '{"k":[1,{"x":null}],"s":"|"}', '\\x00ff10', 'NaN', '2026-01-02 03:04:05.678901+00', repeat('L', 100000))`);
  await db.query(`UPDATE ${table} SET ratio = 1.5 WHERE id = 1`);
  await db.query(`INSERT INTO ${parted} VALUES (7, 'eu')`);
  await db.query(`TRUNCATE ${table}`);
});
afterAll(async () => {
  for (const plugin of ['wal2json', 'pgoutput'] as const) {
    await streams[plugin]?.bridge.stop();
    await streams[plugin]?.dispose();
  }
  await db.end();
  await rabbit.close();
  await postgres.destroy();
});

const json = (message: AmqpReceived | undefined) => JSON.parse(message!.body.toString()) as Record<string, unknown>;

describe('WAL edge types', () => {
  it('wal2json: values as wal2json renders them, TOAST unchanged omitted, partitions by leaf', async () => {
    const [insert, update, partition, truncate] = await streams.wal2json.inbox.take(4);
    const columns = Object.fromEntries((json(insert).columns as Array<{ name: string; value: unknown }>).map((c) => [c.name, c.value]));
    expect(columns).toMatchObject({
      id: 1,
      tags: '{a|b,"c d",NULL}',
      doc: '{"k": [1, {"x": null}], "s": "|"}',
      raw: '00ff10', // wal2json renders bytea as bare hex
      ratio: null, // and NaN as null
    });
    // wal2json writes numbers unquoted; the body is forwarded untouched, so no precision is lost.
    const text = insert!.body.toString();
    expect(text.includes('"name":"amount","value":12345678901234567890.0123456789')).toBe(true);
    expect(text.includes('"name":"big","value":9223372036854775807')).toBe(true);
    expect((columns.long as string).length).toBe(100_000);
    expect(columns.doubled).toBe(2); // wal2json sends stored generated columns
    expect((json(update).columns as Array<{ name: string }>).map((c) => c.name)).not.toContain('long');
    expect(partition?.routingKey).toBe(`public.${parted}_eu.insert`);
    expect(truncate?.routingKey).toBe(`public.${table}.truncate`);
  });

  it('pgoutput: typed envelope without losing precision; TOAST listed as unchanged; partitions by leaf', async () => {
    const [insert, update, partition, truncate] = await streams.pgoutput.inbox.take(4);
    const data = json(insert).data as Record<string, unknown>;
    expect(data).toMatchObject({
      id: 1,
      amount: '12345678901234567890.0123456789',
      big: '9223372036854775807',
      tags: '{a|b,"c d",NULL}',
      doc: { k: [1, { x: null }], s: '|' },
      raw: '\\x00ff10',
      ratio: 'NaN',
      at: '2026-01-02 03:04:05.678901+00',
    });
    expect((data.long as string).length).toBe(100_000);
    expect(data).not.toHaveProperty('doubled'); // pgoutput (PostgreSQL 15) leaves generated columns out
    expect(json(update)).toMatchObject({ action: 'update', data: { ratio: 1.5 }, unchanged: ['long'] });
    expect(partition?.routingKey).toBe(`public.${parted}_eu.insert`);
    expect(json(truncate)).toMatchObject({ action: 'truncate', table });
  });
});
