import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, chown, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBridge, type Bridge } from '@pg-event-bridge/core';
import { startFaultProxy, startPrivatePostgres, waitFor, type FaultProxy, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl } from './rabbit.js';

// NOTIFY → bridge → RabbitMQ end to end, with publisher confirms, through real servers.
const sharedPostgres = 'postgres://postgres@127.0.0.1:5432/postgres';

let rabbit: Rabbit;
let db: pg.Client;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  rabbit = await Rabbit.open();
  db = new pg.Client(sharedPostgres);
  await db.connect();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await db.end();
  await rabbit.close();
});

function bridgeFor(postgres: string, amqpUrl: string, rules: string, extra: Partial<Parameters<typeof createBridge>[0]> = {}): Bridge {
  const bridge = createBridge({ postgres, upstreams: [{ publisher: createAmqpPublisher({ url: amqpUrl }), rules }], ...extra });
  cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
  return bridge;
}

async function exchangeTarget() {
  const target = await rabbit.provision('exchange');
  cleanups.push(() => target.dispose());
  return target;
}

const channelName = () => `e2e_${randomUUID().slice(0, 8)}`;

describe('NOTIFY to RabbitMQ', () => {
  it('delivers 50,000 NOTIFYs sent while the bridge runs, all of them, in order', async () => {
    const { target, inbox } = await exchangeTarget();
    const channel = channelName();
    const bridge = bridgeFor(sharedPostgres, rabbitUrl, `${channel}->exchange:${target.name}`);
    await bridge.start();

    const total = 50_000;
    // Ten transactions of 5,000, so notifications arrive while earlier ones are in flight.
    for (let from = 1; from <= total; from += 5000) {
      await db.query(`SELECT pg_notify($1, 'n.' || (i % 7) || '|' || i) FROM generate_series($2::int, $3::int) AS i`, [channel, from, from + 4999]);
    }
    const messages = await inbox.take(total, 60_000);
    expect(messages.map((m) => Number(m.body.toString()))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(messages.slice(0, 8).map((m) => m.routingKey)).toEqual(['n.1', 'n.2', 'n.3', 'n.4', 'n.5', 'n.6', 'n.0', 'n.1']);
    // A consumer may see a message before the bridge's confirm for it arrives.
    await waitFor(() => bridge.stats().published === total, { what: 'every publisher confirm' });
    expect(bridge.stats()).toMatchObject({ received: total, published: total, deadLettered: 0, inFlight: 0 });
  });

  it('reconnects to RabbitMQ by itself when the connection is cut mid-stream and loses nothing it received', async () => {
    const { target, inbox } = await exchangeTarget();
    const proxy: FaultProxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
    cleanups.push(() => proxy.close());
    const channel = channelName();
    const bridge = bridgeFor(sharedPostgres, `amqp://guest:guest@127.0.0.1:${proxy.port}//`, `${channel}->exchange:${target.name}`, {
      delivery: { retry: { initialDelayMs: 20, maxDelayMs: 200 } },
    });
    await bridge.start();

    const total = 6000;
    const sent = (async () => {
      for (let from = 1; from <= total; from += 500) {
        await db.query(`SELECT pg_notify($1, 'k|' || i) FROM generate_series($2::int, $3::int) AS i`, [channel, from, from + 499]);
      }
    })();
    // Cut twice while messages flow: after the first and the third thousand arrived.
    await waitFor(() => inbox.size >= 1000, { timeoutMs: 30_000, what: 'the first thousand messages' });
    proxy.cut();
    await waitFor(() => inbox.size >= 3000, { timeoutMs: 30_000, what: 'three thousand messages' });
    proxy.cut();
    await sent;

    const received = await waitForDistinct(inbox, total);
    expect(received.firstSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(bridge.stats().retried).toBeGreaterThan(0);
    expect(proxy.accepted).toBeGreaterThanOrEqual(3);
  });

  describe('when Postgres restarts', () => {
    let postgres: PrivatePostgres;
    beforeAll(async () => {
      postgres = await startPrivatePostgres({ walLevel: 'replica' });
    });
    afterAll(() => postgres.destroy());

    it('LISTENs again, reports the gap and forwards what is sent afterwards', async () => {
      const { target, inbox } = await exchangeTarget();
      const channel = channelName();
      const bridge = bridgeFor(postgres.url, rabbitUrl, `${channel}->exchange:${target.name}`, { notify: { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } } });
      const gaps: unknown[] = [];
      bridge.on('gap', (gap) => gaps.push(gap));
      await bridge.start();

      const send = async (payload: string) => {
        const client = new pg.Client(postgres.url);
        await client.connect();
        await client.query('SELECT pg_notify($1, $2)', [channel, payload]);
        await client.end();
      };
      await send('before|1');
      expect((await inbox.take(1))[0]?.body.toString()).toBe('1');

      const reconnected = new Promise((resolve) => bridge.once('gap', resolve));
      await postgres.restart();
      await reconnected;
      await send('after|2');
      const [after] = await inbox.take(1, 20_000);
      expect([after?.routingKey, after?.body.toString()]).toEqual(['after', '2']);
      expect(gaps).toHaveLength(1);
      expect(bridge.stats().gaps).toBe(1);
    });
  });

  describe('over TLS to Postgres', () => {
    let postgres: PrivatePostgres;
    beforeAll(async () => {
      postgres = await startPrivatePostgres({ walLevel: 'replica' });
      // A self-signed certificate in the data directory (the server's default file names), owned
      // by the server's user, then ssl switched on with a reload.
      const [key, crt] = [join(postgres.dataDir, 'server.key'), join(postgres.dataDir, 'server.crt')];
      await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost']);
      const { uid, gid } = await stat(postgres.dataDir);
      for (const file of [key, crt]) {
        await chown(file, uid, gid);
        await chmod(file, 0o600);
      }
      const admin = new pg.Client(postgres.url);
      await admin.connect();
      await admin.query('ALTER SYSTEM SET ssl = on');
      await admin.query('SELECT pg_reload_conf()');
      await admin.end();
    });
    afterAll(() => postgres.destroy());

    it('reads notifications off the TLS socket byte-exact, the largest included', async () => {
      const { target, inbox } = await exchangeTarget();
      const channel = channelName();
      const tls = { connectionString: postgres.url, ssl: { rejectUnauthorized: false } };
      const logged: Array<Record<string, unknown>> = [];
      const logger = { debug: (fields: Record<string, unknown>) => void logged.push(fields), info() {}, warn() {}, error() {} };
      const bridge = createBridge({ postgres: tls, logger, upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules: `${channel}->exchange:${target.name}` }] });
      cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
      await bridge.start();
      expect(logged).toContainEqual({ directRead: true });

      const largest = `k|${'é😀'.repeat(1332)}xxxxx`; // 7,999 bytes, the most NOTIFY carries
      expect(Buffer.byteLength(largest)).toBe(7999);
      const client = new pg.Client(tls);
      await client.connect();
      try {
        const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid IN (SELECT pid FROM pg_stat_activity WHERE query LIKE $1)', ['LISTEN%']);
        expect(rows).toEqual([{ ssl: true }]);
        await client.query(`SELECT pg_notify($1, 'n|' || i) FROM generate_series(1, 200) AS i`, [channel]);
        await client.query('SELECT pg_notify($1, $2)', [channel, largest]);
      } finally {
        await client.end();
      }
      const messages = await inbox.take(201);
      expect(messages.slice(0, 200).map((m) => m.body.toString())).toEqual(Array.from({ length: 200 }, (_, i) => String(i + 1)));
      expect(messages[200]?.routingKey).toBe('k');
      expect(messages[200]?.body.equals(Buffer.from(largest.slice(2)))).toBe(true);
    });
  });
});

/** Reads messages until `count` distinct bodies arrived; returns them in order of first arrival. */
async function waitForDistinct(inbox: { take(n: number, t?: number): Promise<Array<{ body: Buffer }>>; size: number }, count: number) {
  const seen = new Set<number>();
  const firstSeen: number[] = [];
  let duplicates = 0;
  const deadline = Date.now() + 60_000;
  while (seen.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${count} distinct messages arrived`);
    const batch = await inbox.take(Math.max(1, inbox.size), 30_000);
    for (const message of batch) {
      const value = Number(message.body.toString());
      if (seen.has(value)) duplicates += 1;
      else {
        seen.add(value);
        firstSeen.push(value);
      }
    }
  }
  return { firstSeen, duplicates };
}
