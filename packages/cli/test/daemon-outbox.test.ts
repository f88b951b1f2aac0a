import { randomUUID } from 'node:crypto';
import { migrations, schemaVersion } from '@pg-event-bridge/core';
import { startPrivatePostgres, waitFor, type PrivatePostgres } from '@pg-event-bridge/testkit';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, runDaemon, upstreams } from '../src/index.js';
import { rabbitUrl } from './amqp-consumer.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

// The outbox through the built daemon: the schema installed at start, the install-sql and
// replay-dead-letters commands, and at-least-once delivery across a SIGKILL mid-drain.
let postgres: PrivatePostgres;
let db: pg.Client;
beforeAll(async () => {
  postgres = await startPrivatePostgres({ walLevel: 'replica' });
  db = new pg.Client(postgres.url);
  await db.connect();
});
afterAll(async () => {
  await killAllDaemons();
  await db?.end();
  await postgres?.destroy();
});

function collect() {
  const out: string[] = [];
  return { sink: { write: (text: string) => out.push(text) }, text: () => out.join('') };
}

const outboxRows = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events.outbox')).rows[0]!.n);

describe('install-sql and replay-dead-letters', () => {
  it('prints the SQL for review without any configuration', async () => {
    const stdout = collect();
    const code = await runDaemon({ argv: ['install-sql', '--print'], env: {}, stdout: stdout.sink, stderr: collect().sink });
    expect(code).toBe(0);
    expect(stdout.text()).toMatch(new RegExp(`^-- pg-event-bridge: the 'events' schema, version ${schemaVersion}\\.`));
    expect(stdout.text()).toContain('CREATE OR REPLACE FUNCTION "events".send_message(');
  });

  it('installs the schema in the configured database, once, and says so', async () => {
    const env = { 'PGPROXY_DATABASE-URI': postgres.url };
    const first = collect();
    expect(await runDaemon({ argv: ['install-sql'], env, stdout: first.sink, stderr: collect().sink })).toBe(0);
    const second = collect();
    expect(await runDaemon({ argv: ['install-sql'], env, stdout: second.sink, stderr: collect().sink })).toBe(0);
    const applied = migrations.map((migration) => migration.name).join(', ');
    expect([first.text(), second.text()].join('')).toBe(`Installed the events schema, version ${schemaVersion} (${applied}).\nThe events schema is up to date (version ${schemaVersion}).\n`);
    const replay = collect();
    expect(await runDaemon({ argv: ['replay-dead-letters', '--channel', 'nothing-there'], env, stdout: replay.sink, stderr: collect().sink })).toBe(0);
    expect(replay.text()).toBe('Queued 0 dead letter(s) in events.outbox; a running bridge delivers them.\n');
  });

  it('reads [database] install_schema, on by default', () => {
    const env = {
      'PGPROXY_DATABASE-URI': 'postgres://app@db/app',
      'PGPROXY_UPSTREAM-R-KIND': 'amqp',
      'PGPROXY_UPSTREAM-R-URI': 'amqp://r//',
      'PGPROXY_UPSTREAM-R-BRIDGE_CHANNELS': 'events->exchange:amq.topic',
    };
    expect(loadConfig({ env, definitions: upstreams }).database.installSchema).toBe(true);
    expect(loadConfig({ env: { ...env, 'PGPROXY_DATABASE-INSTALL_SCHEMA': 'off' }, definitions: upstreams }).database.installSchema).toBe(false);
    expect(() => loadConfig({ env: { ...env, 'PGPROXY_DATABASE-INSTALL_SCHEMA': 'sometimes' }, definitions: upstreams })).toThrow(
      'PGPROXY_DATABASE-INSTALL_SCHEMA = "sometimes": write on or off.',
    );
  });
});

describe('the daemon draining the outbox', () => {
  it('delivers every durable message after a SIGKILL mid-drain and a restart, in order, dead letters in the table', async () => {
    const id = randomUUID().slice(0, 8);
    const exchange = `pgeb-outbox-kill-${id}`;
    const channel = `orders_${id}`;
    const total = 20_000;

    const connection = await amqp.connect(rabbitUrl);
    const amqpChannel = await connection.createChannel();
    await amqpChannel.assertExchange(exchange, 'topic', { durable: false });
    const { queue } = await amqpChannel.assertQueue('', { exclusive: true });
    // Routing key "k.poison" reaches no queue: unroutable, so it is dead-lettered.
    await amqpChannel.bindQueue(queue, exchange, 'k.ok');
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    let received = 0;
    await amqpChannel.consume(
      queue,
      (message) => {
        if (!message) return;
        const n = Number(message.content.toString());
        received += 1;
        if (!seen.has(n)) {
          seen.add(n);
          firstSeen.push(n);
        }
      },
      { noAck: true },
    );

    const env = {
      'PGPROXY_DATABASE-URI': postgres.url,
      'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
      'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
      'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `${channel}->exchange:${exchange}`,
    };
    try {
      const first = spawnDaemon(env);
      await first.waitForLine(/"msg":"\[cli\] Ready"/);
      await db.query(`SELECT events.send_message($1, 'poison', 'k.poison', true)`, [channel]);
      for (let from = 1; from <= total; from += 1000) {
        await db.query(`SELECT events.send_message($1, i::text, 'k.ok', true) FROM generate_series($2::int, $3::int) AS i`, [channel, from, from + 999]);
      }
      await waitFor(() => seen.size >= 5000, { timeoutMs: 30_000, what: '5,000 messages before the kill' });
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      const beforeKill = seen.size;
      const leftAfterKill = await outboxRows();
      expect(leftAfterKill).toBeGreaterThan(0);

      const second = spawnDaemon(env);
      await second.waitForLine(/"msg":"\[cli\] Ready"/);
      await waitFor(async () => (await outboxRows()) === 0, { timeoutMs: 60_000, what: 'the outbox to empty after the restart' });
      await waitFor(() => seen.size === total, { timeoutMs: 10_000, what: 'every message at the consumer' });
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);

      expect(firstSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const duplicates = received - total;
      console.info(`[measured] outbox SIGKILL after ${beforeKill} of ${total} messages (${leftAfterKill} rows left): all ${total} delivered in order, ${duplicates} duplicates`);
      // Only rows handed over and not yet deleted can come twice: at most two batches of 500.
      expect(duplicates).toBeLessThanOrEqual(1000);
      const letters = await db.query(`SELECT source, channel, upstream, target, routing_key, payload, error_code FROM events.dead_letter`);
      expect(letters.rows).toEqual([{ source: 'outbox', channel, upstream: 'rabbit', target: `exchange:${exchange}`, routing_key: 'k.poison', payload: 'poison', error_code: 'ERR_BRIDGE_UNROUTABLE' }]);
    } finally {
      await killAllDaemons();
      await amqpChannel.deleteExchange(exchange);
      await connection.close();
    }
  });
});
