import { renderGrantsSql, renderSchemaSql } from '@pg-event-bridge/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialBridge, type AdversarialBridge } from '../src/adversarial-bridge.js';

// The daemon runs as exactly the roles docs/security.md gives: an owner installs the events schema
// (not a superuser), the bridge logs in with REPLICATION and the grants renderGrantsSql() prints
// and nothing else, the application with its own grants. Every source must still work end to end,
// and dead letters must still be stored.
let bridge: AdversarialBridge;
let roles: { owner: string; bridge: string; app: string };

let port = 0;

/** Runs `sql` as `user` on the private cluster. */
async function as(user: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', user });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  bridge = await startAdversarialBridge({
    databaseKeys: ['install_schema=off'],
    daemonUri: (postgres) => `postgres://${roles.bridge}@127.0.0.1:${postgres.port}/postgres`,
    prepare: async (db, { id }) => {
      roles = { owner: `${id}_owner`, bridge: `${id}_bridge`, app: `${id}_app` };
      port = Number(db.port);
      await db.query(`CREATE ROLE ${roles.owner} LOGIN NOSUPERUSER; GRANT CREATE ON DATABASE postgres TO ${roles.owner}`);
      await db.query(`CREATE ROLE ${roles.bridge} LOGIN REPLICATION NOSUPERUSER`);
      await db.query(`CREATE ROLE ${roles.app} LOGIN NOSUPERUSER; GRANT CREATE ON SCHEMA public TO ${roles.app}`);
      await as(roles.owner, renderSchemaSql());
      await as(roles.owner, renderGrantsSql({ bridgeRole: roles.bridge, appRole: roles.app }));
    },
  });
}, 90_000);

afterAll(async () => {
  await bridge?.stop();
}, 30_000);

describe('the daemon with least-privilege roles', () => {
  it('forwards NOTIFY, the outbox, pgoutput and wal2json as a bridge role with only its grants', async () => {
    const { rows } = await bridge.db.query<{ rolsuper: boolean; rolreplication: boolean }>(`SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = $1`, [roles.bridge]);
    expect(rows[0]).toEqual({ rolsuper: false, rolreplication: true });
    await bridge.assertAlive();
    await bridge.canary(30_000);
  }, 60_000);

  it('forwards what an application role sends and what its row-change trigger queues', async () => {
    const token = `app-${bridge.id}`;
    await as(roles.app, `CREATE TABLE public.${bridge.id}_orders (id int PRIMARY KEY, token text)`);
    await as(roles.app, `CREATE TRIGGER orders AFTER INSERT ON public.${bridge.id}_orders FOR EACH ROW EXECUTE FUNCTION events.on_row_change('${bridge.channel}')`);
    await as(roles.app, `SELECT events.send_message($1, $2, 'app', true)`, [bridge.channel, `durable ${token}`]);
    await as(roles.app, `INSERT INTO public.${bridge.id}_orders VALUES (1, $1)`, [`trigger ${token}`]);
    for (const text of [`durable ${token}`, `trigger ${token}`]) {
      for (const target of ['amqp', 'webhook'] as const) {
        const arrived = await bridge.arrival((a) => a.target === target && a.route === 'notify' && a.body.includes(text));
        expect(arrived, `${text} to ${target}`).toBeDefined();
      }
    }
  }, 60_000);

  it('stores dead letters as the bridge role', async () => {
    bridge.onHostile('refuse', (_request, response) => {
      response.writeHead(422);
      response.end('no');
    });
    const marker = `hostile:refuse ${bridge.id}`;
    await bridge.db.query(`SELECT events.send_message($1, $2, 'refused', true)`, [bridge.channel, marker]);
    await bridge.canary(30_000);
    const letters = await bridge.deadLetters();
    expect(letters.some((d) => d['upstream'] === 'hook' && String(d['payload']).includes(marker))).toBe(true);
  }, 60_000);

  it('gives the bridge role no access to application tables and no way to write the outbox', async () => {
    const check = async (privilege: string, object: string) =>
      (await bridge.db.query<{ ok: boolean }>(`SELECT has_table_privilege($1, $2, $3) AS ok`, [roles.bridge, object, privilege])).rows[0]!.ok;
    expect(await check('SELECT', `public.${bridge.table}`)).toBe(false);
    expect(await check('INSERT', 'events.outbox')).toBe(false);
    expect(await check('UPDATE', 'events.outbox')).toBe(false);
    expect(await check('DELETE', 'events.outbox')).toBe(true);
  });
});
