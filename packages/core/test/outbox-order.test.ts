import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeEvent, OutboxSource, OutboxSourceOptions } from '../src/index.js';
import { useEventsSchema } from './outbox-harness.js';

// "In id order per channel" against real concurrent transactions on the machine's Postgres. The
// source runs with a minimal SourceContext that records what it is handed.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const { schema, db, drain: drainOutbox } = useEventsSchema(url, 't_order');
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client(url);
  await client.connect();
  clients.push(client);
  return client;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Drains `channels`; no row here may be dead-lettered. */
const drain = (channels: string[], options: Partial<OutboxSourceOptions> = {}) => drainOutbox(channels, options, { refuseDeadLetters: true });

const channelName = () => `or_${randomUUID().slice(0, 8)}`;
const send = (client: pg.Client, channel: string, message: string) => client.query(`SELECT ${schema}.send_message($1, $2, 'k', true)`, [channel, message]);
const newestId = async (channel: string) => (await db.query<{ id: string }>(`SELECT max(id)::text AS id FROM ${schema}.outbox WHERE channel = $1`, [channel])).rows[0]!.id;
const bodies = (events: BridgeEvent[], channel: string) => events.filter((e) => e.source === channel).map((e) => e.body.toString());
const waitsUpTo = (source: OutboxSource, id: string) => {
  const upTo = source.stats().waitingUpTo;
  return upTo !== null && BigInt(upTo) >= BigInt(id);
};

// Registered after the schema's hooks, so it runs before the schema is dropped: a transaction left
// open by a failed test would hold the drop up.
afterAll(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
});

describe('outbox order', () => {
  it('delivers order-1 first when its transaction commits after order-2 and order-3', async () => {
    const channel = channelName();
    const { delivered, source } = await drain([channel]);
    const slow = await connect();
    await slow.query('BEGIN');
    await send(slow, channel, 'order-1');
    await send(db, channel, 'order-2');
    await send(db, channel, 'order-3');
    const third = await newestId(channel);
    // The source has seen order-2 and order-3 committed and holds them behind order-1.
    await until(() => waitsUpTo(source, third), 'the source to hold order-2 and order-3 back');
    expect(bodies(delivered, channel)).toEqual([]);
    await slow.query('COMMIT');
    await until(() => delivered.length === 3, 'three messages');
    expect(bodies(delivered, channel)).toEqual(['order-1', 'order-2', 'order-3']);
    expect(source.stats()).toMatchObject({ orderWaitTimeouts: 0, lateRows: 0 });
    expect(source.stats().orderWaits).toBeGreaterThan(0);
  });

  it('goes on at once when the transaction it waits for rolls back', async () => {
    const channel = channelName();
    const { delivered, source } = await drain([channel], { orderWaitMs: 60_000 });
    const slow = await connect();
    await slow.query('BEGIN');
    await send(slow, channel, 'rolled back');
    await send(db, channel, 'x1');
    await send(db, channel, 'x2');
    const last = await newestId(channel);
    await until(() => waitsUpTo(source, last), 'the source to hold x1 and x2 back');
    await slow.query('ROLLBACK');
    // Well within the 60 s bound: the rollback released them.
    await until(() => delivered.length === 2, 'x1 and x2', 10_000);
    expect(bodies(delivered, channel)).toEqual(['x1', 'x2']);
    expect(source.stats()).toMatchObject({ orderWaitTimeouts: 0, lateRows: 0 });
  });

  it('delivers past a transaction left open after orderWaitMs, says so, and delivers its row late once it commits', async () => {
    const channel = channelName();
    const { delivered, logs, source } = await drain([channel], { orderWaitMs: 500 });
    const stuck = await connect();
    await stuck.query('BEGIN');
    await send(stuck, channel, 'stuck');
    const started = Date.now();
    await send(db, channel, 'after-1');
    await send(db, channel, 'after-2');
    await until(() => delivered.length === 2, 'the rows behind the open transaction');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(bodies(delivered, channel)).toEqual(['after-1', 'after-2']);
    expect(source.stats().orderWaitTimeouts).toBe(1);
    const warning = logs.find((line) => line.level === 'warn' && line.message.includes('orderWaitMs'));
    expect(warning?.fields).toMatchObject({ channel, orderWaitMs: 500 });
    expect(warning?.fields.waitedMs).toBeGreaterThanOrEqual(500);

    // Never skipped: it arrives once it commits, out of order, and that is reported too.
    await stuck.query('COMMIT');
    await until(() => delivered.length === 3, 'the late row');
    expect(bodies(delivered, channel)).toEqual(['after-1', 'after-2', 'stuck']);
    expect(source.stats().lateRows).toBe(1);
    expect(logs.some((line) => line.level === 'warn' && line.message.includes('out of id order') && line.fields.channel === channel)).toBe(true);
    await until(async () => (await db.query(`SELECT 1 FROM ${schema}.outbox WHERE channel = $1`, [channel])).rowCount === 0, 'the outbox to empty');
  });

  it('is not held back by a long transaction that never touches the outbox', async () => {
    const channel = channelName();
    const { delivered, source } = await drain([channel], { orderWaitMs: 60_000 });
    const unrelated = await connect();
    const table = `${schema}.unrelated_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int)`);
    await unrelated.query('BEGIN');
    await unrelated.query(`INSERT INTO ${table} VALUES (1)`);
    await send(db, channel, 'y1');
    await until(() => delivered.length === 1, 'y1', 10_000);
    expect(source.stats()).toMatchObject({ orderWaits: 0, orderWaitTimeouts: 0 });
    await unrelated.query('ROLLBACK');
  });

  it('keeps id order per channel with many concurrent senders committing in any order', async () => {
    const channel = channelName();
    const { delivered, source } = await drain([channel], { batchSize: 20 });
    const senders = await Promise.all([1, 2, 3, 4].map(() => connect()));
    // Each sender sends in transactions of 1 to 3 messages and commits after a random delay.
    await Promise.all(
      senders.map(async (client, s) => {
        for (let t = 0; t < 15; t++) {
          await client.query('BEGIN');
          for (let m = 0; m < 1 + ((s + t) % 3); m++) await send(client, channel, `${s}-${t}-${m}`);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
          await client.query('COMMIT');
        }
      }),
    );
    let total = 0;
    for (let s = 0; s < 4; s++) for (let t = 0; t < 15; t++) total += 1 + ((s + t) % 3);
    await until(() => delivered.length === total, `${total} messages`);
    const ids = delivered.map((event) => BigInt(event.id.slice('outbox:'.length)));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(source.stats().lateRows).toBe(0);
  });
});
