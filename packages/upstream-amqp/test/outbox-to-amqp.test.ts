import { randomUUID } from 'node:crypto';
import { createBridge, installSchema, type Bridge } from '@pg-event-bridge/core';
import { startFaultProxy, startPrivatePostgres, waitFor, type FaultProxy, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl, type AmqpReceived } from './rabbit.js';

// Outbox → bridge → RabbitMQ end to end: durable sends survive the bridge and the broker being
// down, and Postgres restarting mid-drain. A private cluster, so it can be restarted.
let postgres: PrivatePostgres;
let rabbit: Rabbit;
let db: pg.Client;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [postgres, rabbit] = await Promise.all([startPrivatePostgres({ walLevel: 'replica' }), Rabbit.open()]);
  await installSchema(postgres.url);
  db = new pg.Client(postgres.url);
  db.on('error', () => undefined);
  await db.connect();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await db?.end().catch(() => undefined);
  await rabbit?.close();
  await postgres?.destroy();
});

function bridgeFor(amqpUrl: string, rules: string): Bridge {
  const bridge = createBridge({
    postgres: postgres.url,
    upstreams: [{ publisher: createAmqpPublisher({ url: amqpUrl }), rules }],
    delivery: { retry: { initialDelayMs: 20, maxDelayMs: 300 } },
    outbox: { pollIntervalMs: 250, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
  });
  cleanups.push(() => bridge.stop({ timeoutMs: 1000 }));
  return bridge;
}

async function exchangeTarget() {
  const target = await rabbit.provision('exchange');
  cleanups.push(() => target.dispose());
  return target;
}

const channelName = () => `durable_${randomUUID().slice(0, 8)}`;

/** Sends `count` durable messages `<prefix><n>` on each channel, interleaved, `perTx` per transaction. */
async function send(client: pg.Client, channels: readonly string[], from: number, to: number, perTx = 100): Promise<void> {
  for (let start = from; start <= to; start += perTx) {
    await client.query(`SELECT events.send_message(c, c || ':' || i, 'k.' || i % 3, true) FROM generate_series($2::int, $3::int) AS i, unnest($1::text[]) AS c ORDER BY i`, [
      channels,
      start,
      Math.min(to, start + perTx - 1),
    ]);
  }
}

/** Per channel, the message numbers in order of first arrival, and how many arrived twice. */
function firstArrivals(messages: readonly AmqpReceived[]) {
  const seen = new Set<string>();
  const perChannel = new Map<string, number[]>();
  let duplicates = 0;
  for (const message of messages) {
    const body = message.body.toString();
    if (seen.has(body)) {
      duplicates += 1;
      continue;
    }
    seen.add(body);
    const [channel, n] = body.split(':') as [string, string];
    perChannel.set(channel, [...(perChannel.get(channel) ?? []), Number(n)]);
  }
  return { perChannel, duplicates, distinct: seen.size };
}

/** Everything the inbox received so far, in order (the inbox hands each message out once). */
function collector(inbox: { size: number; take(count: number): Promise<AmqpReceived[]> }) {
  const all: AmqpReceived[] = [];
  return async () => {
    if (inbox.size > 0) all.push(...(await inbox.take(inbox.size)));
    return all;
  };
}

const outboxRows = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events.outbox')).rows[0]!.n);

describe('outbox to RabbitMQ', () => {
  it('delivers durable messages sent while the bridge was stopped and while the broker was down, in order per channel', async () => {
    const { target, inbox } = await exchangeTarget();
    const proxy: FaultProxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
    cleanups.push(() => proxy.close());
    const amqpUrl = `amqp://guest:guest@127.0.0.1:${proxy.port}//`;
    const channels = [channelName(), channelName()];
    const rules = channels.map((channel) => `${channel}->exchange:${target.name}`).join(', ');
    const perChannel = 1500;
    const received = collector(inbox);

    // 1. No bridge running.
    await send(db, channels, 1, 500);
    const first = bridgeFor(amqpUrl, rules);
    await first.start();
    await waitFor(async () => (await received()).length >= 100, { timeoutMs: 20_000, what: 'the drain to begin' });

    // 2. The broker goes away mid-drain; more is sent; then the bridge stops too.
    proxy.refuse(true);
    proxy.cut();
    await send(db, channels, 501, 1000);
    await waitFor(() => first.stats().retried > 0, { timeoutMs: 20_000, what: 'a failed publish' });
    await first.stop({ timeoutMs: 200 });
    // 3. Both down.
    await send(db, channels, 1001, perChannel);
    expect(await outboxRows()).toBeGreaterThan(2000);

    // 4. Both back.
    proxy.refuse(false);
    const second = bridgeFor(amqpUrl, rules);
    await second.start();
    await waitFor(async () => (await outboxRows()) === 0, { timeoutMs: 30_000, what: 'the outbox to empty' });
    await waitFor(async () => firstArrivals(await received()).distinct === channels.length * perChannel, { timeoutMs: 10_000, what: 'every message at the consumer' });

    const { perChannel: arrivals, duplicates } = firstArrivals(await received());
    for (const channel of channels) expect(arrivals.get(channel)).toEqual(Array.from({ length: perChannel }, (_, i) => i + 1));
    console.info(`[measured] broker cut and bridge stopped mid-drain: ${channels.length * perChannel} delivered, ${duplicates} duplicates`);
  });

  it('sends a 100 kB row change from the trigger to the broker intact', async () => {
    const { target, inbox } = await exchangeTarget();
    const channel = channelName();
    const table = `big_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, doc text, note text)`);
    await db.query(`CREATE TRIGGER forward AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION events.on_row_change('${channel}', 'include=id,doc')`);
    const bridge = bridgeFor(rabbitUrl, `${channel}->exchange:${target.name}`);
    await bridge.start();

    // 100,000 characters that JSON must escape here and there, multi-byte ones included.
    const doc = Array.from({ length: 100_000 }, (_, i) => (i % 997 === 0 ? '"' : i % 499 === 0 ? 'é' : i % 251 === 0 ? '\n' : String.fromCharCode(97 + (i % 26)))).join('');
    await db.query(`INSERT INTO ${table} VALUES (7, $1, 'left out')`, [doc]);
    const [message] = await inbox.take(1, 20_000);
    expect(message!.routingKey).toBe(`${table}.insert`);
    expect(message!.body.length).toBeGreaterThan(100_000);
    expect(JSON.parse(message!.body.toString('utf8'))).toEqual({ id: 7, doc });
    expect(message!.properties.messageId).toMatch(/^outbox:\d+$/);
    expect(message!.properties.contentType).toBe('application/json');
  });

  it('goes on draining after Postgres restarts mid-drain, losing nothing', async () => {
    const { target, inbox } = await exchangeTarget();
    const channel = channelName();
    const bridge = bridgeFor(rabbitUrl, `${channel}->exchange:${target.name}`);
    const reconnected = new Promise<void>((resolve) => {
      let lost = false;
      bridge.on('disconnected', ({ source }) => source === 'outbox' && (lost = true));
      bridge.on('connected', ({ source }) => source === 'outbox' && lost && resolve());
    });
    await bridge.start();
    const total = 4000;
    const received = collector(inbox);
    await send(db, [channel], 1, total, 1000);
    await waitFor(async () => (await received()).length >= 200, { timeoutMs: 20_000, what: 'the drain to begin' });
    await postgres.restart();
    await reconnected;
    await db.end().catch(() => undefined);
    db = new pg.Client(postgres.url);
    await db.connect();
    await waitFor(async () => (await outboxRows()) === 0, { timeoutMs: 30_000, what: 'the outbox to empty' });
    await waitFor(async () => firstArrivals(await received()).distinct === total, { timeoutMs: 10_000, what: 'every message at the consumer' });
    const { perChannel, duplicates } = firstArrivals(await received());
    expect(perChannel.get(channel)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    console.info(`[measured] Postgres restarted mid-drain: ${total} delivered, ${duplicates} duplicates`);
  });
});
