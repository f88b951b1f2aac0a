import { randomUUID } from 'node:crypto';
import { startPrivatePostgres, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { consumeFrom } from './amqp-consumer.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

// The shared server runs wal_level=replica, so WAL goes through a private cluster.
let postgres: PrivatePostgres;
beforeAll(async () => {
  postgres = await startPrivatePostgres();
});
afterEach(() => killAllDaemons());
afterAll(() => postgres?.destroy());

it("forwards wal2json changes configured as in pg-event-proxy's generation 1", async () => {
  const exchange = `pgeb-cli-wal-${randomUUID()}`;
  const table = `customer_${randomUUID().slice(0, 8)}`;
  const consumer = await consumeFrom(exchange, '#');
  const db = new pg.Client(postgres.url);
  await db.connect();
  try {
    await db.query(`create table ${table} (id int primary key, name text)`);
    const daemon = spawnDaemon({
      'PGPROXY_LOCAL-POSTGRESQL_URI': postgres.url,
      'PGPROXY_LOCAL-REPLICATION_SLOT': 'cli_wal_test',
      'PGPROXY_LOCAL-WAL2JSON_PARAMS': `\\"format-version\\" '2' , \\"include-types\\" '0'`,
      'PGPROXY_LOCAL-UPSTREAM': 'amqp',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://guest:guest@127.0.0.1:5672//',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': `wal2json->exchange:${exchange}`,
    });
    await daemon.waitForLine(/"msg":"\[cli\] Ready"/);

    await db.query(`insert into ${table} values (1, 'Ada')`);
    const message = await consumer.next(() => true);
    expect(message.fields.routingKey).toBe(`public.${table}.insert`);
    expect(JSON.parse(message.content.toString())).toMatchObject({
      action: 'I',
      schema: 'public',
      table,
      columns: [
        { name: 'id', value: 1 },
        { name: 'name', value: 'Ada' },
      ],
    });

    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  } finally {
    await db.end();
    await consumer.close();
  }
});
