import { randomUUID } from 'node:crypto';
import { createBridge, type Bridge } from '@pg-event-bridge/core';
import { startFaultProxy, startPrivatePostgres, waitFor, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl, type AmqpReceived } from './rabbit.js';

// Logical replication → bridge → RabbitMQ against a private cluster with wal_level=logical.
let postgres: PrivatePostgres;
let rabbit: Rabbit;
let db: pg.Client;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [postgres, rabbit] = await Promise.all([startPrivatePostgres(), Rabbit.open()]);
  db = new pg.Client(postgres.url);
  await db.connect();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  // Every test drops its slot; a leaked one would pin WAL.
  const { rows } = await db.query(`SELECT slot_name FROM pg_replication_slots`);
  expect(rows).toEqual([]);
});
afterAll(async () => {
  await db.end();
  await rabbit.close();
  await postgres.destroy();
});

const unique = () => randomUUID().slice(0, 8);

async function walBridge(plugin: 'wal2json' | 'pgoutput', options: { amqpUrl?: string; filters?: string; heartbeatIntervalMs?: number } = {}) {
  const { target, inbox, dispose } = await rabbit.provision('exchange');
  const slot = `t_${plugin}_${unique()}`;
  const bridge: Bridge = createBridge({
    postgres: postgres.url,
    upstreams: [{ publisher: createAmqpPublisher({ url: options.amqpUrl ?? rabbitUrl }), rules: `${plugin}->exchange:${target.name}` }],
    wal: {
      slot,
      publication: `pub_${slot}`,
      ...(options.filters && { filters: options.filters }),
      ...(options.heartbeatIntervalMs && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    },
    delivery: { retry: { initialDelayMs: 20, maxDelayMs: 200 } },
  });
  cleanups.push(async () => {
    await bridge.stop({ timeoutMs: 2000 });
    await dispose();
    await db.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  });
  return { bridge, inbox, slot, exchange: target.name };
}

async function createTables(): Promise<[string, string]> {
  const [a, b] = [`customer_${unique()}`, `orders_${unique()}`];
  await db.query(`CREATE TABLE ${a} (id int PRIMARY KEY, name text, profile jsonb); CREATE TABLE ${b} (id bigint PRIMARY KEY, total numeric, note text)`);
  return [a, b];
}

async function changeBoth(a: string, b: string): Promise<void> {
  await db.query(`INSERT INTO ${a} VALUES (1, 'Ada', '{"tier":"gold|x"}')`);
  await db.query(`BEGIN; INSERT INTO ${b} VALUES (10, 12.50, 'first'); UPDATE ${a} SET name = 'Ada L.' WHERE id = 1; COMMIT`);
  await db.query(`DELETE FROM ${b} WHERE id = 10`);
}

const bodies = (messages: AmqpReceived[]) => messages.map((m) => JSON.parse(m.body.toString()) as Record<string, unknown>);

describe('WAL to RabbitMQ', () => {
  it('wal2json: one message per change, the change JSON unchanged, keyed schema.table.action', async () => {
    const [a, b] = await createTables();
    const { bridge, inbox } = await walBridge('wal2json');
    await bridge.start();
    await changeBoth(a, b);
    const messages = await inbox.take(4);
    expect(messages.map((m) => m.routingKey)).toEqual([`public.${a}.insert`, `public.${b}.insert`, `public.${a}.update`, `public.${b}.delete`]);
    expect(bodies(messages)[0]).toEqual({
      action: 'I',
      schema: 'public',
      table: a,
      columns: [
        { name: 'id', value: 1 },
        { name: 'name', value: 'Ada' },
        { name: 'profile', value: '{"tier": "gold|x"}' },
      ],
      // The commit time: the WAL source asks wal2json for include-timestamp.
      timestamp: expect.any(String),
    });
    expect(bodies(messages)[3]).toEqual({ action: 'D', schema: 'public', table: b, identity: [{ name: 'id', value: 10 }], timestamp: expect.any(String) });
    // Ids: <transaction LSN>/<index>; the second transaction's two changes share the LSN.
    const ids = messages.map((m) => m.headers['x-event-id']!);
    expect(ids[1]!.split('/').slice(0, 2)).toEqual(ids[2]!.split('/').slice(0, 2));
    expect(ids.map((id) => id.split('/')[2])).toEqual(['0', '0', '1', '0']);
    expect(messages[0]?.headers['x-pg-channel']).toBe('wal2json');
  });

  it('pgoutput: the bridge envelope with typed values, old keys and commit time', async () => {
    const [a, b] = await createTables();
    const { bridge, inbox } = await walBridge('pgoutput');
    await bridge.start();
    await changeBoth(a, b);
    const messages = await inbox.take(4);
    expect(messages.map((m) => m.routingKey)).toEqual([`public.${a}.insert`, `public.${b}.insert`, `public.${a}.update`, `public.${b}.delete`]);
    const [insert, , update, remove] = bodies(messages);
    expect(insert).toMatchObject({ schema: 'public', table: a, action: 'insert', data: { id: 1, name: 'Ada', profile: { tier: 'gold|x' } }, dataOld: {}, unchanged: [] });
    expect(update).toMatchObject({ action: 'update', data: { id: 1, name: 'Ada L.' } });
    expect(remove).toMatchObject({ action: 'delete', data: {}, dataOld: { id: '10', total: null, note: null } });
    expect(typeof insert?.xid).toBe('number');
    expect(new Date(insert?.commitTime as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(messages.map((m) => m.headers['x-event-id'])).toEqual(bodies(messages).map((body) => body.id));
  });

  it('forwards only the changes the table filters select', async () => {
    const [a, b] = await createTables();
    const { bridge, inbox } = await walBridge('pgoutput', { filters: `${a}:update, ${b}` });
    await bridge.start();
    await changeBoth(a, b);
    const messages = await inbox.take(3);
    expect(messages.map((m) => m.routingKey)).toEqual([`public.${b}.insert`, `public.${a}.update`, `public.${b}.delete`]);
  });

  it('loses nothing and keeps order when the broker connection is cut mid-stream', async () => {
    const [a] = await createTables();
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
    cleanups.push(() => proxy.close());
    const { bridge, inbox } = await walBridge('pgoutput', { amqpUrl: `amqp://guest:guest@127.0.0.1:${proxy.port}//` });
    await bridge.start();
    const total = 20_000;
    const writes = (async () => {
      for (let from = 1; from <= total; from += 1000) await db.query(`INSERT INTO ${a} (id, name) SELECT i, 'r' || i FROM generate_series($1::int, $2::int) AS i`, [from, from + 999]);
    })();
    await waitFor(() => inbox.size >= 2000, { timeoutMs: 30_000, what: '2000 rows' });
    proxy.cut();
    await waitFor(() => inbox.size >= 8000, { timeoutMs: 30_000, what: '8000 rows' });
    proxy.cut();
    await writes;
    const { firstSeen } = await distinctIds(inbox, total);
    expect(firstSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(bridge.stats().retried).toBeGreaterThan(0);
  });

  it('resumes from the slot when Postgres restarts mid-stream', async () => {
    const [a] = await createTables();
    const { bridge, inbox } = await walBridge('wal2json');
    await bridge.start();
    const reconnected = new Promise((resolve) => bridge.once('connected', resolve));
    await db.query(`INSERT INTO ${a} (id, name) SELECT i, 'r' || i FROM generate_series(1, 5000) AS i`);
    await waitFor(() => inbox.size >= 100, { timeoutMs: 30_000, what: 'the first rows' });
    await db.end();
    await postgres.restart();
    db = new pg.Client(postgres.url);
    await db.connect();
    await reconnected;
    await db.query(`INSERT INTO ${a} (id, name) SELECT i, 'r' || i FROM generate_series(5001, 6000) AS i`);
    const { firstSeen } = await distinctIds(inbox, 6000, (body) => (body as { columns: Array<{ value: number }> }).columns[0]!.value);
    expect(firstSeen).toEqual(Array.from({ length: 6000 }, (_, i) => i + 1));
  });
});

describe('WAL slot safety', () => {
  it('acknowledges everything delivered on a graceful stop, so a restart sends nothing twice', async () => {
    const [a] = await createTables();
    const first = await walBridge('pgoutput');
    await first.bridge.start();
    await db.query(`INSERT INTO ${a} (id, name) SELECT i, 'r' || i FROM generate_series(1, 3000) AS i`);
    await first.inbox.take(3000, 30_000);
    await first.bridge.stop({ timeoutMs: 5000 });

    // A second bridge on the same slot and exchange: the next thing it sends is the new row.
    const second = createBridge({
      postgres: postgres.url,
      upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules: `pgoutput->exchange:${first.exchange}` }],
      wal: { slot: first.slot, publication: `pub_${first.slot}` },
    });
    cleanups.push(() => second.stop({ timeoutMs: 2000 }));
    await second.start();
    await db.query(`INSERT INTO ${a} (id, name) VALUES (3001, 'after')`);
    const [next] = await first.inbox.take(1, 15_000);
    expect((JSON.parse(next!.body.toString()) as { data: { id: number } }).data.id).toBe(3001);
  });

  it('lets the slot advance on an idle database, so it never pins WAL', async () => {
    const { bridge, slot } = await walBridge('pgoutput', { heartbeatIntervalMs: 100 });
    await bridge.start();
    // WAL written elsewhere (another database) is nothing this slot streams, yet it must not
    // hold it back: with nothing pending, keepalive positions and the bridge's heartbeat messages
    // are confirmed (either alone keeps this test green; with neither it fails).
    const other = `other_${unique()}`;
    await db.query(`CREATE DATABASE ${other}`);
    cleanups.push(() => db.query(`DROP DATABASE ${other}`));
    const elsewhere = new pg.Client(postgres.url.replace(/\/postgres$/, `/${other}`));
    await elsewhere.connect();
    await elsewhere.query(`CREATE TABLE noise AS SELECT i, md5(i::text) FROM generate_series(1, 20000) AS i`);
    await elsewhere.end();
    const { rows } = await db.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`);
    const written = rows[0]!.lsn;
    await waitFor(
      async () => {
        const result = await db.query<{ behind: boolean }>(`SELECT confirmed_flush_lsn < $2::pg_lsn AS behind FROM pg_replication_slots WHERE slot_name = $1`, [slot, written]);
        return result.rows[0]?.behind === false;
      },
      { timeoutMs: 15_000, what: `slot ${slot} to confirm past ${written}` },
    );
  });

  it('stops loudly, never silently skipping, when its slot is dropped under it', async () => {
    const { bridge, slot } = await walBridge('wal2json');
    await bridge.start();
    const failed = new Promise<{ error: Error }>((resolve) => bridge.once('failed', resolve));
    // Terminate the stream and drop the slot before the bridge reconnects to it.
    await waitFor(
      async () => {
        await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [slot]);
        const dropped = await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot]);
        return dropped.rowCount === 1;
      },
      { timeoutMs: 10_000, what: `slot ${slot} dropped` },
    );
    const { error } = await failed;
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_POSTGRES', retryable: false });
    expect(error.message).toContain(`replication slot "${slot}" disappeared`);
    // Nothing recreated it behind the user's back.
    expect((await db.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rowCount).toBe(0);
  });
});

/** Reads until `count` distinct rows arrived; returns their ids in order of first arrival. */
async function distinctIds(
  inbox: { take(n: number, t?: number): Promise<AmqpReceived[]>; size: number },
  count: number,
  idOf: (body: unknown) => number = (body) => (body as { data: { id: number } }).data.id,
) {
  const seen = new Set<number>();
  const firstSeen: number[] = [];
  while (seen.size < count) {
    const batch = await inbox.take(Math.max(1, Math.min(inbox.size, count)), 30_000);
    for (const message of batch) {
      const id = idOf(JSON.parse(message.body.toString()));
      if (!seen.has(id)) {
        seen.add(id);
        firstSeen.push(id);
      }
    }
  }
  return { firstSeen };
}
