import { randomUUID } from 'node:crypto';
import { startPrivatePostgres, waitFor, type PrivatePostgres } from '@pg-event-bridge/testkit';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rabbitUrl } from './amqp-consumer.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

// The at-least-once promise of the WAL path, with the daemon killed by SIGKILL mid-stream.
let postgres: PrivatePostgres;
beforeAll(async () => {
  postgres = await startPrivatePostgres();
});
afterAll(async () => {
  await killAllDaemons();
  await postgres?.destroy();
});

it('delivers every row of a 100,000-row stream after a SIGKILL and restart, duplicates only from the unconfirmed window', async () => {
  const id = randomUUID().slice(0, 8);
  const table = `kill_${id}`;
  const exchange = `pgeb-kill-${id}`;
  const total = 100_000;

  const connection = await amqp.connect(rabbitUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: false });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, '#');
  const counts = new Map<number, number>();
  let received = 0;
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const row = (JSON.parse(message.content.toString()) as { data: { id: number } }).data.id;
      counts.set(row, (counts.get(row) ?? 0) + 1);
      received += 1;
    },
    { noAck: true },
  );

  const db = new pg.Client(postgres.url);
  await db.connect();
  const env = {
    'PGPROXY_DATABASE-URI': postgres.url,
    'PGPROXY_DATABASE-REPLICATION_SLOT': `kill_${id}`,
    'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
    'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
    'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `pgoutput->exchange:${exchange}`,
  };
  try {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, payload text)`);
    const first = spawnDaemon(env);
    await first.waitForLine(/"msg":"\[cli\] Ready"/);
    // A stream of 100 transactions of 1,000 rows each.
    for (let from = 1; from <= total; from += 1000) {
      await db.query(`INSERT INTO ${table} SELECT i, md5(i::text) FROM generate_series($1::int, $2::int) AS i`, [from, from + 999]);
    }
    await waitFor(() => counts.size >= 30_000, { timeoutMs: 60_000, what: '30,000 rows before the kill' });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const beforeKill = counts.size;

    const second = spawnDaemon(env);
    await second.waitForLine(/"msg":"\[cli\] Ready"/);
    await waitFor(() => counts.size === total, { timeoutMs: 120_000, what: 'every row after the restart' });
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const duplicates = received - total;
    console.info(`[measured] SIGKILL after ${beforeKill} of ${total} rows: all ${total} delivered, ${duplicates} duplicates`);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Duplicates come only from the unconfirmed window: the in-flight limit (1,000) plus the
    // transaction being streamed (1,000) at most, with room for one status update in transit.
    expect(duplicates).toBeLessThanOrEqual(5000);
  } finally {
    await killAllDaemons();
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [`kill_${id}`]).catch(() => undefined);
    await db.end();
    await channel.deleteExchange(exchange);
    await connection.close();
  }
});
