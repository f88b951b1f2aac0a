import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError, createBridge, installSchema, renderSchemaSql, schemaVersion, type Bridge, type BridgeEvent, type Publisher } from '../src/index.js';
import { renderGrantsSql } from '../src/sql/install-schema.js';
import { useEventsSchema } from './outbox-harness.js';
import { recordingPublisher, type RecordingPublisherOptions } from './recording-publisher.js';

// The events schema and the outbox source against the machine's real Postgres. Each run installs
// its own schema (never the shared `events`), and drops it afterwards. The upstream is an
// in-process recorder; RabbitMQ end to end is in packages/upstream-amqp/test/outbox-to-amqp.test.ts.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const { schema, roles, db } = useEventsSchema(url, 't_outbox');

interface Received {
  readonly event: BridgeEvent;
  readonly by: string;
}

/** Records what it publishes into `log`, marked `by`; `fail` decides per event whether to throw instead. */
function recorder(log: Received[], by = 'recorder', fail?: RecordingPublisherOptions['fail']): Publisher {
  return recordingPublisher({ fail, onPublished: (event) => log.push({ event, by }) }).publisher;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const bridges: Bridge[] = [];

function start(rules: string, publisher: Publisher, extra: Partial<Parameters<typeof createBridge>[0]> = {}, postgres: string | pg.ClientConfig = url): Bridge {
  const bridge = createBridge({
    postgres,
    upstreams: [{ publisher, rules }],
    outbox: { schema, pollIntervalMs: 200 },
    ...extra,
  });
  bridges.push(bridge);
  return bridge;
}

const channelName = () => `ob_${randomUUID().slice(0, 8)}`;
const count = async (table: string, where = 'true', values: unknown[] = []) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table} WHERE ${where}`, values)).rows[0]!.n);

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.stop({ timeoutMs: 2000 })));
});

describe('installSchema', () => {
  it('applies each migration once, also when several bridges install at the same moment', async () => {
    const other = `t_install_${randomUUID().slice(0, 8)}`;
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => installSchema(url, { schema: other })));
      expect(results.flatMap((result) => result.applied)).toEqual(['001-events-schema', '002-least-privilege']);
      expect(results.every((result) => result.version === schemaVersion)).toBe(true);
      const versions = await db.query(`SELECT version, name FROM ${other}.schema_version ORDER BY version`);
      expect(versions.rows).toEqual([
        { version: 1, name: '001-events-schema' },
        { version: 2, name: '002-least-privilege' },
      ]);
      expect((await installSchema(url, { schema: other })).applied).toEqual([]);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
    }
  });

  it('prints SQL that installs the same schema and can be run twice', async () => {
    const other = `t_print_${randomUUID().slice(0, 8)}`;
    try {
      const sql = renderSchemaSql({ schema: other });
      expect(sql).toContain(`CREATE OR REPLACE FUNCTION "${other}".send_message(channel text, message text, routing_key text DEFAULT '', durable boolean DEFAULT false)`);
      await db.query(sql);
      await db.query(sql);
      expect((await installSchema(url, { schema: other })).applied).toEqual([]);
      await db.query(`SELECT "${other}".send_message('c', 'm', 'k', true)`);
      expect(Number((await db.query(`SELECT count(*) AS n FROM "${other}".outbox`)).rows[0].n)).toBe(1);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
    }
  });

  it("takes over pg-event-proxy's helpers: its queued rows move to the outbox and its call forms keep working", async () => {
    const other = `t_legacy_${randomUUID().slice(0, 8)}`;
    try {
      // The shape of pg-event-proxy-example's postgres/1_events.sql.
      await db.query(`CREATE SCHEMA ${other};
        CREATE TABLE ${other}.events (id serial primary key, channel text not null, message text not null, created_on timestamptz not null default now());
        CREATE FUNCTION ${other}.send_message(channel text, message text, routing_key text default '', durable boolean default false, skip_flush boolean default false) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO ${other}.events (channel, message) VALUES (channel, routing_key || '|' || message); END $$;
        SELECT ${other}.send_message('legacy', 'first', 'k1', true);
        SELECT ${other}.send_message('legacy', 'second|with bar', '', true);`);
      await installSchema(url, { schema: other });
      const rows = await db.query(`SELECT channel, routing_key, payload FROM ${other}.outbox ORDER BY id`);
      expect(rows.rows).toEqual([
        { channel: 'legacy', routing_key: 'k1', payload: 'first' },
        { channel: 'legacy', routing_key: '', payload: 'second|with bar' },
      ]);
      expect(Number((await db.query(`SELECT count(*) AS n FROM ${other}.events`)).rows[0].n)).toBe(0);
      // Two to five arguments all resolve: no ambiguity with the old five-argument function.
      await db.query(`SELECT ${other}.send_message('legacy', 'a'), ${other}.send_message('legacy', 'b', 'k'), ${other}.send_message('legacy', 'c', 'k', true), ${other}.send_message('legacy', 'd', 'k', true, false), ${other}.flush()`);
      expect(Number((await db.query(`SELECT count(*) AS n FROM ${other}.outbox`)).rows[0].n)).toBe(4);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
    }
  });
});

describe('send_message', () => {
  it('without durable sends NOTIFY "key|message", as pg-event-proxy did', async () => {
    const channel = channelName();
    const listener = new pg.Client(url);
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (message) => payloads.push(message.payload ?? ''));
      await listener.query(`LISTEN ${channel}`);
      await db.query(`SELECT ${schema}.send_message($1, 'hello'), ${schema}.send_message($1, 'world', 'greeting')`, [channel]);
      await until(() => payloads.length === 2, 'two notifications');
      expect(payloads).toEqual(['|hello', 'greeting|world']);
      expect(await count('outbox', 'channel = $1', [channel])).toBe(0);
    } finally {
      await listener.end();
    }
  });

  it('can be called by a role with no privilege at all, which still cannot read or change the outbox', async () => {
    const app = `t_app_${randomUUID().slice(0, 8)}`;
    roles.push(app);
    await db.query(`CREATE ROLE ${app} NOLOGIN`);
    const client = new pg.Client(url);
    await client.connect();
    try {
      await client.query(`SET ROLE ${app}`);
      await client.query(`SELECT ${schema}.send_message('unprivileged', 'sent by the app', 'k', true)`);
      await expect(client.query(`SELECT * FROM ${schema}.outbox`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`DELETE FROM ${schema}.outbox`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`SELECT ${schema}.replay_dead_letters()`)).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
    expect(await count('outbox', `channel = 'unprivileged' AND payload = 'sent by the app'`)).toBe(1);
  });
});

describe('the outbox source', () => {
  it('delivers durable messages in id order per channel, never one whose transaction rolled back, and deletes them', async () => {
    const [a, b] = [channelName(), channelName()];
    // Queued before any bridge runs, plus one rolled back.
    await db.query(`SELECT ${schema}.send_message($1, 'a' || i, 'ka', true), ${schema}.send_message($2, 'b' || i, 'kb', true) FROM generate_series(1, 300) AS i`, [a, b]);
    await db.query('BEGIN');
    await db.query(`SELECT ${schema}.send_message($1, 'rolled back', 'ka', true)`, [a]);
    await db.query('ROLLBACK');

    const log: Received[] = [];
    const bridge = start(`${a}->queue:qa, ${b}->queue:qb`, recorder(log));
    await bridge.start();
    // And more while it runs, in transactions of 50.
    for (let from = 301; from <= 600; from += 50) {
      await db.query(`SELECT ${schema}.send_message($1, 'a' || i, 'ka', true), ${schema}.send_message($2, 'b' || i, 'kb', true) FROM generate_series($3::int, $4::int) AS i`, [a, b, from, from + 49]);
    }
    await until(() => log.length >= 1200, '1,200 messages');
    await until(async () => (await count('outbox', 'channel = ANY ($1)', [[a, b]])) === 0, 'the outbox to empty');
    const bodies = (channel: string) => log.filter((r) => r.event.source === channel).map((r) => r.event.body.toString());
    expect(bodies(a)).toEqual(Array.from({ length: 600 }, (_, i) => `a${i + 1}`));
    expect(bodies(b)).toEqual(Array.from({ length: 600 }, (_, i) => `b${i + 1}`));
    expect(log.some((r) => r.event.body.toString() === 'rolled back')).toBe(false);
    const first = log.find((r) => r.event.source === a)!.event;
    expect(first.id).toMatch(/^outbox:\d+$/);
    expect(first.routingKey).toBe('ka');
    expect(bridge.stats()).toMatchObject({ received: 1200, published: 1200 });
  });

  it('sends a row change through the trigger intact, 100 kB included, with include/exclude and the old row on delete', async () => {
    const channel = channelName();
    const table = `${schema}.rows_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text, big text, secret text)`);
    await db.query(`CREATE TRIGGER forward AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.on_row_change('${channel}', 'exclude=secret')`);
    const log: Received[] = [];
    const bridge = start(`${channel}->queue:rows`, recorder(log));
    await bridge.start();

    const big = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('').replaceAll('\\', '/');
    await db.query(`INSERT INTO ${table} VALUES (1, 'first', $1, 'hidden')`, [big]);
    await db.query(`UPDATE ${table} SET name = 'renamed' WHERE id = 1`);
    await db.query(`DELETE FROM ${table} WHERE id = 1`);
    await until(() => log.length === 3, 'three row changes');
    const [insert, update, remove] = log.map((r) => r.event);
    expect(insert!.body.length).toBeGreaterThan(100_000);
    expect(JSON.parse(insert!.body.toString())).toEqual({ id: 1, name: 'first', big });
    expect([insert!.routingKey, update!.routingKey, remove!.routingKey].map((key) => key.replace(/^rows_\w+/, 'T'))).toEqual(['T.insert', 'T.update', 'T.delete']);
    expect(JSON.parse(update!.body.toString()).name).toBe('renamed');
    expect(JSON.parse(remove!.body.toString())).toMatchObject({ id: 1, name: 'renamed' });
    expect(insert!.contentType).toBe('application/json');
    expect(insert!.headers).toMatchObject({ 'x-action': 'insert' });
  });

  it('rejects a trigger argument it does not know, naming it', async () => {
    const table = `${schema}.bad_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int)`);
    await db.query(`CREATE TRIGGER forward AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.on_row_change('c', 'inclde=id')`);
    await expect(db.query(`INSERT INTO ${table} VALUES (1)`)).rejects.toThrow(/unknown trigger argument 'inclde=id'/);
  });

  it('dead-letters a refused message into the table, goes on, and replays it once the fault is fixed', async () => {
    const channel = channelName();
    let refuse = true;
    const log: Received[] = [];
    const publisher = recorder(log, 'r', (event) =>
      refuse && event.body.toString() === 'poison' ? new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', '[recorder] too large', { retryable: false }) : undefined,
    );
    const bridge = start(`${channel}->queue:q`, publisher, { deadLetter: 'table' });
    await bridge.start();
    await db.query(`SELECT ${schema}.send_message($1, m, 'k', true) FROM unnest(ARRAY['one', 'poison', 'two']) AS m`, [channel]);
    await until(() => log.length === 2 && bridge.stats().deadLettered === 1, 'two published, one dead-lettered');
    expect(log.map((r) => r.event.body.toString())).toEqual(['one', 'two']);
    const letters = await db.query(`SELECT * FROM ${schema}.dead_letter WHERE channel = $1`, [channel]);
    expect(letters.rows).toHaveLength(1);
    expect(letters.rows[0]).toMatchObject({ source: 'outbox', upstream: 'recorder', target: 'queue:q', routing_key: 'k', payload: 'poison', error_code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', attempts: 1 });
    expect(letters.rows[0].event_id).toMatch(/^outbox:\d+$/);
    await until(async () => (await count('outbox', 'channel = $1', [channel])) === 0, 'the outbox to empty');

    refuse = false;
    expect((await db.query(`SELECT ${schema}.replay_dead_letters(channel => $1) AS n`, [channel])).rows[0].n).toBe(1);
    await until(() => log.length === 3, 'the replayed message');
    expect(log[2]!.event.body.toString()).toBe('poison');
    expect(log[2]!.event.headers?.['x-replay-of']).toBe(letters.rows[0].event_id);
    expect(await count('dead_letter', 'channel = $1', [channel])).toBe(0);
  });

  it('with two bridges draining one outbox, delivers every message once and each channel in order', async () => {
    const channels = [channelName(), channelName(), channelName(), channelName()];
    const rules = channels.map((channel, i) => `${channel}->queue:q${i}`).join(', ');
    const log: Received[] = [];
    const one = start(rules, recorder(log, 'one'), { outbox: { schema, batchSize: 50, pollIntervalMs: 200 } });
    const two = start(rules, recorder(log, 'two'), { outbox: { schema, batchSize: 50, pollIntervalMs: 200 } });
    await Promise.all([one.start(), two.start()]);
    const perChannel = 1000;
    // Sent while both run, in many small transactions, so channels go idle and get taken again.
    for (let from = 1; from <= perChannel; from += 100) {
      await db.query(`SELECT ${schema}.send_message(c, i::text, '', true) FROM generate_series($2::int, $3::int) AS i, unnest($1::text[]) AS c ORDER BY i`, [channels, from, from + 99]);
    }
    await until(() => log.length >= channels.length * perChannel, 'every message');
    await until(async () => (await count('outbox', 'channel = ANY ($1)', [channels])) === 0, 'the outbox to empty');
    expect(log).toHaveLength(channels.length * perChannel);
    for (const channel of channels) {
      expect(log.filter((r) => r.event.source === channel).map((r) => Number(r.event.body.toString()))).toEqual(Array.from({ length: perChannel }, (_, i) => i + 1));
    }
    const byBridge = { one: log.filter((r) => r.by === 'one').length, two: log.filter((r) => r.by === 'two').length };
    const keys = (by: string) => new Set(log.filter((r) => r.by === by).map((r) => r.event.id));
    const viaTwo = keys('two');
    const both = [...keys('one')].filter((id) => viaTwo.has(id)).length;
    expect(both).toBe(0);
    console.info(`[measured] two bridges, ${log.length} messages on ${channels.length} channels: ${byBridge.one} via one, ${byBridge.two} via two, ${both} to both`);
  });

  it('drains as a role holding only the documented grants', async () => {
    const bridgeRole = `t_bridge_${randomUUID().slice(0, 8)}`;
    roles.push(bridgeRole);
    await db.query(`CREATE ROLE ${bridgeRole} LOGIN; ${renderGrantsSql({ schema, bridgeRole })}`);
    const channel = channelName();
    await db.query(`SELECT ${schema}.send_message($1, 'm' || i, '', true) FROM generate_series(1, 20) AS i`, [channel]);
    const log: Received[] = [];
    const publisher = recorder(log, 'r', (event) => (event.body.toString() === 'm7' ? new BridgeError('ERR_BRIDGE_UNROUTABLE', '[recorder] unroutable') : undefined));
    const bridge = start(`${channel}->queue:q`, publisher, { deadLetter: 'table' }, url.replace('postgres@', `${bridgeRole}@`));
    await bridge.start();
    await until(() => log.length === 19 && bridge.stats().deadLettered === 1, 'nineteen published and one dead letter');
    await until(async () => (await count('outbox', 'channel = $1', [channel])) === 0, 'the outbox to empty');
    expect(await count('dead_letter', 'channel = $1', [channel])).toBe(1);
  });
});
