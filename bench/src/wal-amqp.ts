/**
 * WAL → RabbitMQ with publisher confirms: the bridge's sustained rate next to the two raw
 * ceilings measured in the same run on the same data —
 *   - Postgres: pg_recvlogical reading the same changes from its own slot to /dev/null;
 *   - RabbitMQ: amqplib alone publishing as many messages of the same size with confirms, 1,000
 *     in flight.
 * Also the bridge's peak RSS while it drains. Usage:
 *   pnpm --filter @pg-event-bridge/bench wal-amqp -- --rows 200000 --tx-rows 1000 --plugin pgoutput
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { createBridge } from '@pg-event-bridge/core';
import { startPrivatePostgres } from '@pg-event-bridge/testkit';
import { createAmqpPublisher } from '@pg-event-bridge/upstream-amqp';
import amqp from 'amqplib';
import pg from 'pg';

const exec = promisify(execFile);
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
};
const rows = Number(arg('rows', '200000'));
const txRows = Number(arg('tx-rows', '1000'));
const plugin = arg('plugin', 'pgoutput') as 'pgoutput' | 'wal2json';
const rabbitUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const postgres = await startPrivatePostgres();
const db = new pg.Client(postgres.url);
await db.connect();
const binDir = (await exec('pg_config', ['--bindir'])).stdout.trim();

await db.query(`CREATE TABLE bench (id int PRIMARY KEY, payload text)`);
await db.query(`CREATE PUBLICATION bench_pub FOR ALL TABLES`);
for (const slot of ['bench_ceiling', 'bench_bridge']) await db.query(`SELECT pg_create_logical_replication_slot($1, $2)`, [slot, plugin]);
const insertStarted = performance.now();
for (let from = 1; from <= rows; from += txRows) {
  const to = Math.min(rows, from + txRows - 1);
  await db.query(`INSERT INTO bench SELECT i, repeat(md5(i::text), 3) FROM generate_series($1::int, $2::int) AS i`, [from, to]);
}
const insertSeconds = (performance.now() - insertStarted) / 1000;
const endLsn = (await db.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]!.lsn;

// 1. Postgres' ceiling: its own client decoding the same changes.
const recvStarted = performance.now();
const options = plugin === 'pgoutput' ? ['-o', 'proto_version=1', '-o', 'publication_names=bench_pub'] : ['-o', 'format-version=2'];
await exec(join(binDir, 'pg_recvlogical'), ['-d', postgres.url, '-S', 'bench_ceiling', '--start', '-E', endLsn, '--no-loop', '-f', '/dev/null', ...options], { maxBuffer: 1 << 20 });
const recvSeconds = (performance.now() - recvStarted) / 1000;

// A sink exchange whose queue keeps only the newest messages, so RabbitMQ's memory stays flat.
const admin = await amqp.connect(rabbitUrl);
const channel = await admin.createChannel();
const exchange = `bench-wal-${process.pid}`;
await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 10_000, 'x-overflow': 'drop-head' } });
await channel.bindQueue(queue, exchange, '#');

// 2. RabbitMQ's ceiling: amqplib alone, confirms on, 1,000 in flight, bodies of the same size.
const sampleBody = Buffer.alloc(plugin === 'pgoutput' ? 330 : 260, 'x');
const confirm = await admin.createConfirmChannel();
const amqpStarted = performance.now();
await new Promise<void>((resolve, reject) => {
  let sent = 0;
  let confirmed = 0;
  const pump = () => {
    while (sent < rows && sent - confirmed < 1000) {
      sent += 1;
      confirm.publish(exchange, 'public.bench.insert', sampleBody, { mandatory: true, messageId: String(sent) }, (error) => {
        if (error) return reject(error);
        confirmed += 1;
        if (confirmed === rows) resolve();
        else pump();
      });
    }
  };
  pump();
});
const amqpSeconds = (performance.now() - amqpStarted) / 1000;

// 3. The bridge, from start() until every change was confirmed by RabbitMQ.
let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
const baselineRss = process.memoryUsage().rss;
const bridge = createBridge({
  postgres: postgres.url,
  upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules: `${plugin}->exchange:${exchange}` }],
  wal: { slot: 'bench_bridge', publication: 'bench_pub' },
});
const done = new Promise<void>((resolve) => bridge.on('published', () => bridge.stats().published === rows && resolve()));
const bridgeStarted = performance.now();
await bridge.start();
await done;
const bridgeSeconds = (performance.now() - bridgeStarted) / 1000;
clearInterval(rssTimer);
await bridge.stop();

const rate = (seconds: number) => Math.round(rows / seconds);
const ceiling = Math.min(rate(recvSeconds), rate(amqpSeconds));
const result = {
  benchmark: 'wal-amqp',
  date: new Date().toISOString(),
  machine: { cores: cpus().length, node: process.version, postgres: (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version },
  plugin,
  rows,
  rowsPerTransaction: txRows,
  insertSeconds: round(insertSeconds),
  ceilings: { pgRecvlogical: rate(recvSeconds), amqplibConfirmed: rate(amqpSeconds) },
  bridge: { eventsPerSecond: rate(bridgeSeconds), peakRssMiB: round(peakRss / 2 ** 20), rssGrowthMiB: round((peakRss - baselineRss) / 2 ** 20) },
  ratio: round(rate(bridgeSeconds) / ceiling),
};
console.log(JSON.stringify(result, null, 2));
await mkdir(new URL('../results/', import.meta.url), { recursive: true });
const file = new URL(`../results/wal-amqp-${plugin}-${rows}.json`, import.meta.url);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);

await channel.deleteExchange(exchange);
await admin.close();
await db.end();
await postgres.destroy();

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
function join(dir: string, file: string): string {
  return `${dir}/${file}`;
}

