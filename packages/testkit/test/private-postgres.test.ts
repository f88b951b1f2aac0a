import { access } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '../src/index.js';

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('startPrivatePostgres', () => {
  let cluster: PrivatePostgres;
  beforeAll(async () => {
    cluster = await startPrivatePostgres();
  });
  afterAll(() => cluster?.destroy());

  it('runs a logical-replication-ready cluster at its url', async () => {
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    const [settings] = await query(
      cluster.url,
      "select current_setting('wal_level') as wal, current_setting('max_replication_slots') as slots, current_setting('synchronous_commit') as sync",
    );
    expect(settings).toEqual({ wal: 'logical', slots: '20', sync: 'on' });
    const [slot] = await query(cluster.url, "select lsn from pg_create_logical_replication_slot('testkit_slot', 'pgoutput')");
    expect(slot?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await query(cluster.url, "select pg_drop_replication_slot('testkit_slot')");
  });

  it('stops, starts and restarts on the same port, keeping committed data', async () => {
    await query(cluster.url, 'create table kept (n int); insert into kept values (1)');
    await cluster.stop();
    await expect(query(cluster.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.stop();
    await cluster.start();
    await query(cluster.url, 'insert into kept values (2)');
    await cluster.restart();
    await query(cluster.url, 'insert into kept values (3)');
    await cluster.stop('immediate');
    await cluster.start();
    expect(await query(cluster.url, 'select n from kept order by n')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('applies walLevel and extra settings, quoted safely; destroy() removes everything', async () => {
    const other = await startPrivatePostgres({ walLevel: 'replica', settings: { cluster_name: "it's a test" } });
    try {
      const [row] = await query(other.url, "select current_setting('wal_level') as wal, current_setting('cluster_name') as name");
      expect(row).toEqual({ wal: 'replica', name: "it's a test" });
    } finally {
      await other.destroy();
    }
    await expect(access(other.dataDir)).rejects.toThrow(/ENOENT/);
    await expect(query(other.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
  });
});
