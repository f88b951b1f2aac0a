/**
 * Outbox → RabbitMQ with publisher confirms, next to the NOTIFY path in the same run, on the same
 * broker, bodies of the same size:
 *   - notify: pg_notify() of N messages in transactions of 1,000 while the bridge runs; from the
 *     first send until RabbitMQ confirmed the last one;
 *   - outbox (backlog): N durable events.send_message() rows queued while no bridge runs, then
 *     from start() until every row was confirmed and deleted;
 *   - outbox (live): N durable rows sent in transactions of 1,000 while the bridge runs.
 * Usage: pnpm --filter @pg-event-bridge/bench outbox-amqp -- --messages 100000 --channels 1
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { createBridge, installSchema } from '@pg-event-bridge/core';
import { startPrivatePostgres } from '@pg-event-bridge/testkit';
import { createAmqpPublisher } from '@pg-event-bridge/upstream-amqp';
import amqp from 'amqplib';
import pg from 'pg';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
};
const messages = Number(arg('messages', '100000'));
const channelCount = Number(arg('channels', '1'));
const bodyBytes = Number(arg('body-bytes', '200'));
const rabbitUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const postgres = await startPrivatePostgres({ walLevel: 'replica' });
await installSchema(postgres.url);
const db = new pg.Client(postgres.url);
await db.connect();
const admin = await amqp.connect(rabbitUrl);
const channel = await admin.createChannel();
const exchange = `bench-outbox-${process.pid}`;
await channel.assertExchange(exchange, 'topic', { durable: false });
// A sink queue that keeps only the newest messages, so RabbitMQ's memory stays flat.
const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 10_000, 'x-overflow': 'drop-head' } });
await channel.bindQueue(queue, exchange, '#');

const channels = Array.from({ length: channelCount }, (_, i) => `bench_${i}`);
const rules = channels.map((name) => `${name}->exchange:${exchange}`).join(', ');
const body = 'x'.repeat(bodyBytes);

async function run(mode: 'notify' | 'outbox-backlog' | 'outbox-live'): Promise<{ mode: string; eventsPerSecond: number; seconds: number; peakRssMiB: number }> {
  const send = async () => {
    for (let from = 1; from <= messages; from += 1000) {
      const to = Math.min(messages, from + 999);
      const values = [from, to, body, channels, channelCount];
      if (mode === 'notify') await db.query(`SELECT pg_notify(($4::text[])[1 + i % $5], 'k|' || $3 || i) FROM generate_series($1::int, $2::int) AS i`, values);
      else await db.query(`SELECT events.send_message(($4::text[])[1 + i % $5], $3 || i, 'k', true) FROM generate_series($1::int, $2::int) AS i`, values);
    }
  };
  if (mode === 'outbox-backlog') await send();
  const bridge = createBridge({
    postgres: postgres.url,
    upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules }],
    ...(mode === 'notify' && { outbox: false as const }),
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const total = messages;
  const done = new Promise<void>((resolve) =>
    bridge.on('published', () => {
      if (bridge.stats().published >= total) resolve();
    }),
  );
  await bridge.start();
  const started = performance.now();
  if (mode !== 'outbox-backlog') await send();
  await done;
  if (mode !== 'notify') {
    while (Number((await db.query(`SELECT count(*) AS n FROM events.outbox`)).rows[0].n) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await bridge.stop();
  return { mode, eventsPerSecond: Math.round(total / seconds), seconds: Math.round(seconds * 100) / 100, peakRssMiB: Math.round(peakRss / 2 ** 20) };
}

const results = [];
try {
  for (const mode of ['notify', 'outbox-backlog', 'outbox-live'] as const) {
    const result = await run(mode);
    results.push(result);
    console.info(`${result.mode.padEnd(15)} ${String(result.eventsPerSecond).padStart(8)} events/s  (${result.seconds} s, peak RSS ${result.peakRssMiB} MiB)`);
  }
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    postgres: (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version,
    messages,
    channels: channelCount,
    bodyBytes,
    results,
  };
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`../results/outbox-amqp-${messages}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await channel.deleteExchange(exchange).catch(() => undefined);
  await admin.close();
  await db.end();
  await postgres.destroy();
}
