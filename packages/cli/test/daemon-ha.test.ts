import { randomUUID } from 'node:crypto';
import { installSchema } from '@pg-event-bridge/core';
import { findFreePort, startPrivatePostgres, waitFor, type PrivatePostgres } from '@pg-event-bridge/testkit';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { rabbitUrl } from './amqp-consumer.js';
import { get, sample } from './metrics-http.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

// Leader election and readiness against a private Postgres this file may stop and start.
let postgres: PrivatePostgres;
let db: pg.Client;
beforeAll(async () => {
  postgres = await startPrivatePostgres();
  db = new pg.Client(postgres.url);
  await db.connect();
});
afterEach(async () => {
  await killAllDaemons();
});
afterAll(async () => {
  await db?.end().catch(() => undefined);
  await postgres?.destroy();
});

const ready = /"msg":"\[cli\] Ready"/;
const standby = /"msg":"\[cli\] Standby/;

it('/readyz turns 503 while Postgres is down (the leader lock is lost, the bridge stops) and 200 once it is back', async () => {
  const port = await findFreePort();
  const daemon = spawnDaemon({
    'PGPROXY_DATABASE-URI': postgres.url,
    'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
    'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
    'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `ha_${randomUUID().slice(0, 8)}->exchange:amq.topic`,
    'PGPROXY_BRIDGE-METRICS_PORT': String(port),
    'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '1s',
  });
  const base = `http://127.0.0.1:${port}`;
  await daemon.waitForLine(ready);
  expect((await get(`${base}/readyz`)).status).toBe(200);

  await db.end();
  await postgres.stop('fast');
  try {
    await waitFor(async () => (await get(`${base}/readyz`)).status === 503, { timeoutMs: 15_000, what: '/readyz 503 with Postgres down' });
    const body = (await get(`${base}/readyz`)).json() as { missing: string[] };
    expect(body.missing.length).toBeGreaterThan(0);
    // Alive all the same: a supervisor must not restart it for an outage of Postgres.
    expect((await get(`${base}/healthz`)).status).toBe(200);
    await daemon.waitForLine(/Lost the leader lock connection/);
  } finally {
    await postgres.start();
    db = new pg.Client(postgres.url);
    await db.connect();
  }
  await waitFor(async () => (await get(`${base}/readyz`)).status === 200, { timeoutMs: 20_000, what: '/readyz 200 with Postgres back' });
  expect(sample((await get(`${base}/metrics`)).text, 'pg_event_bridge_source_connected', { source: 'notify' })).toBe(1);
  daemon.child.kill('SIGTERM');
  expect((await daemon.exited).code).toBe(0);
});

it('a standby takes over when the leader is SIGKILLed mid-stream: every WAL row and outbox message delivered, failover time measured', async () => {
  const id = randomUUID().slice(0, 8);
  const table = `ha_${id}`;
  const slot = `ha_${id}`;
  const channel = `ha_${id}`;
  const exchange = `pgeb-ha-${id}`;
  const totalRows = 20_000;
  const perTransaction = 50;

  const connection = await amqp.connect(rabbitUrl);
  const channelMq = await connection.createChannel();
  await channelMq.assertExchange(exchange, 'topic', { durable: false });
  const { queue } = await channelMq.assertQueue('', { exclusive: true });
  await channelMq.bindQueue(queue, exchange, '#');
  const rows = new Map<number, number>();
  const notifications = new Set<number>();
  const outboxed = new Map<number, number>();
  let walMessages = 0;
  let outboxMessages = 0;
  await channelMq.consume(
    queue,
    (message) => {
      if (!message) return;
      if (message.fields.routingKey === 'tick') {
        notifications.add(Number(message.content.toString()));
        return;
      }
      if (message.fields.routingKey === 'durable') {
        const seq = Number(message.content.toString());
        outboxed.set(seq, (outboxed.get(seq) ?? 0) + 1);
        outboxMessages += 1;
        return;
      }
      // pgoutput publishes every table, the outbox's own inserts and deletes too: only ours count.
      if (message.fields.routingKey !== `public.${table}.insert`) return;
      const row = (JSON.parse(message.content.toString()) as { data: { id: number } }).data.id;
      rows.set(row, (rows.get(row) ?? 0) + 1);
      walMessages += 1;
    },
    { noAck: true },
  );

  const ports = [await findFreePort(), await findFreePort()];
  const env = (port: number, extra: Record<string, string> = {}) => ({
    'PGPROXY_DATABASE-URI': postgres.url,
    'PGPROXY_DATABASE-REPLICATION_SLOT': slot,
    'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
    'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
    'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `pgoutput->exchange:${exchange}, ${channel}->exchange:${exchange}`,
    'PGPROXY_BRIDGE-METRICS_PORT': String(port),
    ...extra,
  });
  const writer = new pg.Client(postgres.url);
  await writer.connect();
  try {
    await installSchema(postgres.url);
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, payload text)`);
    const leader = spawnDaemon(env(ports[0]!));
    await leader.waitForLine(ready);
    // The standby logs every forwarded message (debug), so its first publish has a timestamp.
    const follower = spawnDaemon(env(ports[1]!, { LOG_LEVEL: 'debug' }));
    await follower.waitForLine(standby);
    const standbyReady = await get(`http://127.0.0.1:${ports[1]}/readyz`);
    expect(standbyReady.status).toBe(503);
    expect(standbyReady.json()).toMatchObject({ status: 'standby', role: 'standby' });
    expect((await get(`http://127.0.0.1:${ports[1]}/healthz`)).status).toBe(200);

    // The stream: transactions of 50 rows, one NOTIFY and one durable (outbox) message each, back
    // to back, until 20,000 rows.
    let sent = 0;
    let ticks = 0;
    const stream = (async () => {
      for (let from = 1; from <= totalRows; from += perTransaction) {
        await writer.query(`INSERT INTO ${table} SELECT i, md5(i::text) FROM generate_series($1::int, $2::int) AS i`, [from, from + perTransaction - 1]);
        await writer.query('SELECT pg_notify($1, $2)', [channel, `tick|${ticks}`]);
        await writer.query(`SELECT events.send_message($1, $2, 'durable', true)`, [channel, String(ticks)]);
        ticks += 1;
        sent = from + perTransaction - 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    await waitFor(() => rows.size >= 5_000, { timeoutMs: 30_000, what: '5,000 rows through the leader' });
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    const rowsAtKill = rows.size;
    const sentAtKill = sent;
    const tickAtKill = ticks;
    expect((await leader.exited).signal).toBe('SIGKILL');

    const readyLine = await follower.waitForLine(ready, 20_000);
    const firstForward = await follower.waitForLine(/"msg":"\[cli\] Forwarded"/, 20_000);
    const readyMs = Date.parse((JSON.parse(readyLine) as { time: string }).time) - killedAt;
    const firstPublishMs = Date.parse((JSON.parse(firstForward) as { time: string }).time) - killedAt;

    await stream;
    await waitFor(() => rows.size === totalRows, { timeoutMs: 60_000, what: 'every row after the failover' });
    await waitFor(() => outboxed.size === ticks, { timeoutMs: 30_000, what: 'every outbox message after the failover' });
    const duplicates = walMessages - totalRows;
    const outboxDuplicates = outboxMessages - ticks;
    const lostTicks = Array.from({ length: ticks }, (_, i) => i).filter((tick) => !notifications.has(tick));
    console.info(
      `[measured] failover after SIGKILL of the leader (leader_poll_interval 1s): standby Ready after ${readyMs} ms, first publish after ${firstPublishMs} ms; ` +
        `WAL: all ${totalRows} rows delivered (${rowsAtKill} before the kill, ${sentAtKill} written by then), ${duplicates} duplicates; ` +
        `outbox: all ${ticks} messages delivered, ${outboxDuplicates} duplicates; ` +
        `NOTIFY: ${lostTicks.length} of ${ticks} notifications lost in the window (plain NOTIFY is at-most-once; ${tickAtKill} sent before the kill)`,
    );
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: totalRows }, (_, i) => i + 1));
    expect([...outboxed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: ticks }, (_, i) => i));
    expect(firstPublishMs).toBeGreaterThan(0);

    const metrics = (await get(`http://127.0.0.1:${ports[1]}/metrics`)).text;
    expect(sample(metrics, 'pg_event_bridge_leader')).toBe(1);
    expect(sample(metrics, 'pg_event_bridge_replication_slot_lag_bytes', { slot })).toBeGreaterThanOrEqual(0);
    follower.child.kill('SIGTERM');
    expect((await follower.exited).code).toBe(0);
  } finally {
    await killAllDaemons();
    await writer.end();
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [slot]).catch(() => undefined);
    await channelMq.deleteExchange(exchange);
    await connection.close();
  }
});
