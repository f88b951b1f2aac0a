import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { usePrivateCluster } from './wal-harness.js';

// The WAL source against a private cluster (wal_level=logical, wal2json): what it forwards, what
// its publication does to the application, and how it survives a dead connection.
const cluster = await usePrivateCluster();
const { testkit, cleanups } = cluster;
const unique = () => randomUUID().slice(0, 8);
const start = cluster.createWalBridge;

describe('logical messages', () => {
  for (const plugin of ['pgoutput', 'wal2json'] as const) {
    it(`${plugin}: forwards only the configured prefixes, marked x-wal-kind: message, never the ones any role can emit`, async () => {
      const table = `msg_${unique()}`;
      await cluster.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
      const { bridge, sink } = start(plugin, { messagePrefixes: ['app.audit'] });
      await bridge.start();
      await cluster.db.query(`SELECT pg_logical_emit_message(true, 'x.update', '{"forged":1}'), pg_logical_emit_message(false, 'app.audit.other', 'no')`);
      await cluster.db.query(`SELECT pg_logical_emit_message(true, 'app.audit', 'yes')`);
      await cluster.db.query(`INSERT INTO ${table} VALUES (1)`);
      await testkit.waitFor(() => sink.received.length >= 2, { timeoutMs: 20_000, what: 'the message and the row' });
      expect(sink.received.map((e) => [e.routingKey, e.headers?.['x-wal-kind']])).toEqual([
        ['message.app.audit', 'message'],
        [`public.${table}.insert`, 'change'],
      ]);
    });
  }

  it('refuses prefixes whose key would look like a row change, and the heartbeat prefix', () => {
    expect(() => start('pgoutput', { messagePrefixes: ['x.update', '', 'pg_event_bridge.heartbeat'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG', message: expect.stringMatching(/messagePrefixes.*"x\.update".*messagePrefixes.*""/) }),
    );
    cleanups.pop();
  });
});

describe('wal2json timestamps', () => {
  it('stamps events with the commit time, not the time the bridge read them', async () => {
    const table = `ts_${unique()}`;
    await cluster.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    const slot = `s_ts_${unique()}`;
    const first = start('wal2json', { slot });
    await first.bridge.start();
    await first.bridge.stop({ timeoutMs: 2000 });
    const { rows } = await cluster.db.query<{ committed: Date }>(`INSERT INTO ${table} VALUES (1) RETURNING now() AS committed`);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the gap between commit and reading is the point
    const second = start('wal2json', { slot });
    await testkit.waitFor(async () => (await cluster.db.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [slot])).rowCount === 0, { what: 'the slot released' });
    await second.bridge.start();
    await testkit.waitFor(() => second.sink.received.length >= 1, { timeoutMs: 20_000, what: 'the row' });
    const event = second.sink.received[0]!;
    expect(Math.abs(event.timestamp.getTime() - rows[0]!.committed.getTime())).toBeLessThan(500);
  });
});

describe('publication', () => {
  it('never makes the application\'s UPDATE or DELETE fail, streams tables with a key, adds new ones, leaves the bridge schema out', async () => {
    const id = unique();
    await cluster.db.query(`CREATE TABLE nokey_${id} (v int); CREATE TABLE keyed_${id} (id int PRIMARY KEY, v int); CREATE SCHEMA IF NOT EXISTS events; CREATE TABLE events.own_${id} (id int PRIMARY KEY)`);
    cleanups.push(() => cluster.db.query(`DROP TABLE events.own_${id}`));
    const { bridge, sink, slot } = start('pgoutput', { publicationRefreshMs: 200 });
    await bridge.start();
    await cluster.db.query(`INSERT INTO nokey_${id} VALUES (1); UPDATE nokey_${id} SET v = 2; DELETE FROM nokey_${id}`);
    await cluster.db.query(`INSERT INTO keyed_${id} VALUES (1, 1); UPDATE keyed_${id} SET v = 2; DELETE FROM keyed_${id}; INSERT INTO events.own_${id} VALUES (1)`);
    await testkit.waitFor(() => sink.received.length >= 3, { timeoutMs: 20_000, what: 'three changes' });
    expect(sink.received.map((e) => e.routingKey)).toEqual([`public.keyed_${id}.insert`, `public.keyed_${id}.update`, `public.keyed_${id}.delete`]);
    const { rows } = await cluster.db.query<{ name: string }>(`SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1 AND tablename LIKE $2`, [`pub_${slot}`, `%${id}`]);
    expect(rows.map((r) => r.name)).toEqual([`public.keyed_${id}`]);

    // A table created later: added at the next refresh; until then its rows are not streamed.
    await cluster.db.query(`CREATE TABLE later_${id} (id int PRIMARY KEY)`);
    await testkit.waitFor(async () => (await cluster.db.query(`SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND tablename = $2`, [`pub_${slot}`, `later_${id}`])).rowCount === 1, {
      timeoutMs: 10_000,
      what: 'the new table published',
    });
    await cluster.db.query(`INSERT INTO later_${id} VALUES (1); UPDATE nokey_${id} SET v = 3`);
    await testkit.waitFor(() => sink.received.length >= 4, { timeoutMs: 20_000, what: 'the new table\'s row' });
    expect(sink.received[3]!.routingKey).toBe(`public.later_${id}.insert`);
  });

  it('converts a FOR ALL TABLES publication an earlier version created, so UPDATE on a table without a key works again', async () => {
    const id = unique();
    const slot = `s_legacy_${id}`;
    await cluster.db.query(`CREATE TABLE legacy_nokey_${id} (v int); CREATE TABLE legacy_keyed_${id} (id int PRIMARY KEY); CREATE PUBLICATION pub_${slot} FOR ALL TABLES`);
    await cluster.db.query(`INSERT INTO legacy_nokey_${id} VALUES (1)`);
    await expect(cluster.db.query(`UPDATE legacy_nokey_${id} SET v = 2`)).rejects.toThrow(/does not have a replica identity/);
    const { bridge, sink } = start('pgoutput', { slot });
    await bridge.start();
    await cluster.db.query(`UPDATE legacy_nokey_${id} SET v = 2`);
    await cluster.db.query(`INSERT INTO legacy_keyed_${id} VALUES (1)`);
    await testkit.waitFor(() => sink.received.length >= 1, { timeoutMs: 20_000, what: 'the keyed row' });
    expect(sink.received.map((e) => e.routingKey)).toEqual([`public.legacy_keyed_${id}.insert`]);
  });
});

describe('dead connection', () => {
  it('notices a blackholed replication connection within receiveTimeoutMs, reconnects when it heals, and loses nothing', async () => {
    const proxy = await testkit.startFaultProxy({ target: { host: '127.0.0.1', port: cluster.postgres.port } });
    cleanups.push(() => proxy.close());
    const table = `dead_${unique()}`;
    await cluster.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    const url = `postgres://postgres@127.0.0.1:${proxy.port}/postgres`;
    const { bridge, sink } = start('pgoutput', { receiveTimeoutMs: 2000, connectTimeoutMs: 1000, heartbeatIntervalMs: 0 }, url);
    await bridge.start();
    await cluster.db.query(`INSERT INTO ${table} SELECT generate_series(1, 100)`);
    await testkit.waitFor(() => sink.received.length >= 100, { timeoutMs: 20_000, what: 'the first rows' });

    const disconnected = new Promise<number>((resolve) => bridge.once('disconnected', () => resolve(Date.now())));
    const since = Date.now();
    proxy.blackhole(true);
    await cluster.db.query(`INSERT INTO ${table} SELECT generate_series(101, 200)`);
    const noticedAfter = (await disconnected) - since;
    expect(noticedAfter).toBeLessThan(4000);
    const connected = new Promise<void>((resolve) => bridge.once('connected', () => resolve()));
    proxy.blackhole(false);
    await connected;
    await cluster.db.query(`INSERT INTO ${table} SELECT generate_series(201, 300)`);
    await testkit.waitFor(() => new Set(sink.bodies().map((b) => JSON.parse(b).data.id)).size >= 300, { timeoutMs: 30_000, what: 'all 300 rows' });
    const ids = [...new Set(sink.bodies().map((b) => JSON.parse(b).data.id as number))];
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    console.log(`blackholed replication connection noticed after ${noticedAfter} ms`);
  });
});
