/**
 * WAL → RabbitMQ with publisher confirms: the bridge's sustained rate next to the two raw
 * ceilings measured in the same run on the same data —
 *   - Postgres: pg_recvlogical reading the same changes from its own slot to /dev/null;
 *   - RabbitMQ: amqplib alone publishing as many messages of the envelope's size with confirms,
 *     1,000 in flight.
 * Also the bridge process's peak RSS while it drains. A private Postgres (wal_level=logical).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startPrivatePostgres } from '@pg-event-bridge/testkit';
import amqplib from 'amqplib';
import pg from 'pg';
import { BridgeProcess, loopBusy } from './bridge-process.js';
import { brokerCeiling, classifyLimit, type Limit } from './ceilings.js';
import { perSecond, round, timeRate } from './measure.js';
import { confirmPlan, declareSinkExchange, rabbitUrl } from './upstreams/amqp.js';

const exec = promisify(execFile);

export interface WalAmqpOptions {
  readonly rows: number;
  /** Rows per inserting transaction. */
  readonly txRows: number;
  readonly plugin: 'pgoutput' | 'wal2json';
  /** Writes the bridge process's V8 CPU profile here. */
  readonly cpuProfileDir?: string;
}

export interface WalAmqpResult {
  readonly source: 'pgoutput' | 'wal2json';
  readonly upstream: 'amqp';
  readonly rows: number;
  readonly rowsPerTransaction: number;
  /** Average forwarded body: the pgoutput envelope or the wal2json change. */
  readonly payloadBytes: number;
  readonly insertSeconds: number;
  readonly ceilings: { readonly pgRecvlogical: number; readonly amqplibConfirmed: number; readonly amqplibLoopBusy: number };
  readonly bridge: { readonly eventsPerSecond: number; readonly peakRssMiB: number; readonly cpuUsPerEvent: number; readonly cpuShare: number; readonly loopBusy: number };
  readonly ratio: number;
  /** As for NOTIFY pairs: what bounds the lower ceiling, and the ratio issue 8 asks for there. */
  readonly limit: Limit;
  readonly target: number;
  readonly postgres: string;
}

/** Forwarded body sizes of the `bench` table's rows, measured once from the bridge's output. */
const bodyBytes = { pgoutput: 330, wal2json: 260 } as const;

export async function runWalAmqp({ rows, txRows, plugin, cpuProfileDir }: WalAmqpOptions): Promise<WalAmqpResult> {
  const postgres = await startPrivatePostgres();
  const db = new pg.Client(postgres.url);
  await db.connect();
  const connection = await amqplib.connect(rabbitUrl);
  const exchange = `bench-wal-${process.pid}-${plugin}`;
  const admin = await declareSinkExchange(connection, exchange);
  try {
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
    const options = plugin === 'pgoutput' ? ['-o', 'proto_version=1', '-o', 'publication_names=bench_pub'] : ['-o', 'format-version=2'];
    const pgRecvlogical = await timeRate(rows, async () => {
      await exec(`${binDir}/pg_recvlogical`, ['-d', postgres.url, '-S', 'bench_ceiling', '--start', '-E', endLsn, '--no-loop', '-f', '/dev/null', ...options], { maxBuffer: 1 << 20 });
    });

    // 2. RabbitMQ's ceiling: amqplib alone, confirms on, bodies of the same size and the metadata
    // the bridge gives a WAL change (content type, LSN and action headers).
    const confirm = await connection.createConfirmChannel();
    const walMetadata = { contentType: 'application/json', headers: { 'x-wal-lsn': endLsn, 'x-wal-action': 'insert' } };
    const amqpCeiling = await brokerCeiling(confirmPlan(confirm, exchange, plugin, 'public.bench.insert', walMetadata), rows, bodyBytes[plugin], 1);
    await confirm.close();

    // 3. The bridge in its own process, timed from its first tenth of the changes (process start-up,
    // module loading and JIT excluded, as for the ceilings' warm-up) until every change was confirmed.
    const bridge = await BridgeProcess.start({
      upstream: 'amqp',
      publisherOptions: { url: rabbitUrl },
      rules: `${plugin}->exchange:${exchange}`,
      postgres: postgres.url,
      wal: { slot: 'bench_bridge', publication: 'bench_pub' },
    }, cpuProfileDir ? { cpuProfileDir } : {});
    const warm = Math.round(rows / 10);
    const before = await bridge.published(warm);
    const started = performance.now();
    const after = await bridge.published(rows);
    const elapsedMs = performance.now() - started;
    const eventsPerSecond = perSecond(rows - warm, elapsedMs);
    const cpuUs = after.cpuUs - before.cpuUs;
    const peakRssMiB = await bridge.stop();
    const amqplibConfirmed = amqpCeiling.eventsPerSecond;

    return {
      source: plugin,
      upstream: 'amqp',
      rows,
      rowsPerTransaction: txRows,
      payloadBytes: bodyBytes[plugin],
      insertSeconds: round(insertSeconds),
      ceilings: { pgRecvlogical, amqplibConfirmed, amqplibLoopBusy: amqpCeiling.clientLoopBusy },
      bridge: { eventsPerSecond, peakRssMiB, cpuUsPerEvent: round(cpuUs / (rows - warm), 1), cpuShare: round(cpuUs / 1000 / elapsedMs), loopBusy: loopBusy(before, after) },
      ratio: round(eventsPerSecond / Math.min(pgRecvlogical, amqplibConfirmed)),
      ...classifyLimit(pgRecvlogical, amqpCeiling),
      postgres: (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version,
    };
  } finally {
    await admin.deleteExchange(exchange).catch(() => undefined);
    await connection.close();
    await db.end();
    await postgres.destroy();
  }
}
