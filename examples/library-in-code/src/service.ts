import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import pg from 'pg';
import { createBridge } from '@pg-event-bridge/core';
import { createAmqpPublisher } from '@pg-event-bridge/upstream-amqp';
import { isMain, localServices, numberFromEnv } from '@pg-event-bridge/example-support';

/**
 * An existing service: it already has a pg.Pool and an amqplib connection, and an HTTP endpoint
 * `POST /signups` that stores a signup and, in the same transaction, NOTIFYs `signups`. The bridge
 * is composed in code on those two connections (no daemon, no extra configuration): the NOTIFY
 * reaches RabbitMQ's amq.topic with routing key `signup` once the transaction commits.
 */
export async function startService(options: { databaseUrl: string; amqpUrl: string; port?: number; log?: (line: string) => void }) {
  const log = options.log ?? console.log;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 5 });
  const connection = await amqp.connect(options.amqpUrl);
  await pool.query('create table if not exists signups (id serial primary key, email text not null, created_at timestamptz not null default now())');

  // The bridge borrows one pool client for LISTEN and opens its own confirm channel on the
  // connection; it closes neither the pool nor the connection.
  const bridge = createBridge({
    postgres: pool,
    upstreams: [{ publisher: createAmqpPublisher({ connection, deliveryMode: 'persistent' }), rules: 'signups->exchange:amq.topic' }],
  });
  bridge.on('published', ({ event, latencyMs }) => log(`bridged ${event.routingKey} in ${latencyMs.toFixed(1)} ms`));
  bridge.on('gap', () => log('NOTIFY gap: the LISTEN connection was lost and restored'));
  await bridge.start();

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/signups') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      signup(Buffer.concat(chunks).toString().trim()).then(
        (id) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id })),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '0.0.0.0', done));

  /** The service's own write path: a row and its event, committed together. */
  async function signup(email: string): Promise<number> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: number }>('insert into signups (email) values ($1) returning id', [email]);
      await client.query('select pg_notify($1, $2)', ['signups', `signup|${JSON.stringify({ id: rows[0]!.id, email })}`]);
      await client.query('commit');
      return rows[0]!.id;
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    signup,
    /** Close order: stop taking requests, drain the bridge, then the app's own connections. */
    async stop() {
      await new Promise<void>((done) => server.close(() => done()));
      await bridge.stop({ timeoutMs: 10_000 });
      await connection.close();
      await pool.end();
    },
  };
}

if (isMain(import.meta.url)) {
  const { databaseUrl, amqpUrl } = localServices();
  const service = await startService({ databaseUrl, amqpUrl, port: numberFromEnv('PORT', 3000) });
  console.log(`service listening on ${service.url.replace('127.0.0.1', '0.0.0.0')}: POST /signups with an e-mail address`);
  const shutdown = () => void service.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
