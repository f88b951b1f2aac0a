import { waitFor } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialBridge, type AdversarialBridge } from '../src/adversarial-bridge.js';
import { AdversarialResults } from '../src/adversarial-results.js';

// A plain LOGIN role that owns one schema, and nothing else, attacks the events schema and the
// WAL targets while the daemon runs as a superuser. After every attack: the role is still not a
// superuser, no forged event reached a WAL target, the daemon is alive and a canary sent through
// every source reaches both targets.
const results = new AdversarialResults('hostile-sql', 'hostile SQL roles');
let bridge: AdversarialBridge;
let role: string;
let evil: pg.Client;

beforeAll(async () => {
  bridge = await startAdversarialBridge({
    prepare: async (db, { id }) => {
      role = `${id}_evil`;
      await db.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
      await db.query(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`);
    },
  });
  evil = new pg.Client({ host: bridge.postgres.host, port: bridge.postgres.port, database: 'postgres', user: role });
  await evil.connect();
}, 60_000);

afterAll(async () => {
  await results.write(bridge);
  await evil?.end().catch(() => undefined);
  await bridge?.stop();
}, 30_000);

/** Runs `sql` as the attacker; resolves with the error message, or undefined when it succeeded. */
async function attack(name: string, sql: string, values: unknown[] = []): Promise<string | undefined> {
  results.input(name);
  try {
    await evil.query(sql, values);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function isSuperuser(): Promise<boolean> {
  const { rows } = await bridge.db.query<{ rolsuper: boolean }>(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [role]);
  return rows[0]!.rolsuper;
}

/** After an attack: no escalation, the daemon alive, a canary through every source. */
async function afterAttack(): Promise<void> {
  if (await isSuperuser()) {
    results.breach();
    await bridge.db.query(`ALTER ROLE ${role} NOSUPERUSER`);
    throw new Error(`${role} became a superuser`);
  }
  await bridge.assertAlive();
  await bridge.canary();
}

/** Fails if any WAL target received a body containing `token`. Call after a canary went through. */
function expectNoForgery(token: string): void {
  const forged = bridge.arrivals.filter((a) => (a.route === 'pgoutput' || a.route === 'wal2json') && a.body.includes(token));
  if (forged.length > 0) results.breach();
  expect(forged.map((a) => `${a.target}/${a.route}: ${a.body.toString().slice(0, 120)}`)).toEqual([]);
}

describe('a LOGIN role that owns one schema', () => {
  it('cannot become superuser through a cast to json that on_row_change() evaluates', async () => {
    const s = role;
    await attack('enum with a user-defined cast to json', `
      CREATE TYPE ${s}.mood AS ENUM ('calm');
      CREATE FUNCTION ${s}.mood_json(${s}.mood) RETURNS json LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER ROLE ${role} SUPERUSER'; RETURN '"calm"'::json; END $$;
      CREATE CAST (${s}.mood AS json) WITH FUNCTION ${s}.mood_json(${s}.mood);
      CREATE TABLE ${s}.t (id int, m ${s}.mood, ms ${s}.mood[]);
      CREATE TRIGGER t AFTER INSERT OR UPDATE OR DELETE ON ${s}.t FOR EACH ROW EXECUTE FUNCTION events.on_row_change('${bridge.channel}');`);
    await attack('insert a row through the trigger', `INSERT INTO ${s}.t VALUES (1, 'calm', NULL)`);
    await attack('insert an array of the enum', `INSERT INTO ${s}.t VALUES (2, NULL, ARRAY['calm']::${s}.mood[])`);
    await attack('insert through the include= column path', `
      CREATE TABLE ${s}.t2 (id int, m ${s}.mood);
      CREATE TRIGGER t2 AFTER INSERT ON ${s}.t2 FOR EACH ROW EXECUTE FUNCTION events.on_row_change('${bridge.channel}', 'include=id,m');
      INSERT INTO ${s}.t2 VALUES (1, 'calm');`);
    await attack('a domain whose CHECK escalates', `
      CREATE FUNCTION ${s}.escalate(int) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER ROLE ${role} SUPERUSER'; RETURN true; END $$;
      CREATE DOMAIN ${s}.checked AS int CHECK (${s}.escalate(VALUE));
      CREATE TABLE ${s}.t3 (id ${s}.checked);
      CREATE TRIGGER t3 AFTER INSERT ON ${s}.t3 FOR EACH ROW EXECUTE FUNCTION events.on_row_change('${bridge.channel}');
      INSERT INTO ${s}.t3 VALUES (1);`);
    await attack('search_path objects shadowing pg_catalog', `
      CREATE FUNCTION ${s}.row_to_json(record) RETURNS json LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER ROLE ${role} SUPERUSER'; RETURN '{}'::json; END $$;
      SET search_path = ${s}, pg_catalog;
      SELECT events.send_message('${bridge.channel}', 'shadow', 'k', true);
      RESET search_path;`);
    await afterAttack();
  }, 90_000);

  it('cannot write, read or delete the bridge\'s tables or create objects in its schema', async () => {
    const denied = [
      await attack('INSERT INTO events.outbox', `INSERT INTO events.outbox (channel, payload) VALUES ('${bridge.channel}', 'direct insert')`),
      await attack('DELETE FROM events.outbox', `DELETE FROM events.outbox`),
      await attack('SELECT events.dead_letter', `SELECT * FROM events.dead_letter`),
      await attack('replay_dead_letters()', `SELECT events.replay_dead_letters()`),
      await attack('CREATE FUNCTION in events', `CREATE FUNCTION events.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'`),
      await attack('CREATE TRIGGER on events.outbox', `CREATE TRIGGER mine AFTER INSERT ON events.outbox FOR EACH ROW EXECUTE FUNCTION events.on_row_change()`),
      await attack('ALTER FUNCTION send_message', `ALTER FUNCTION events.send_message(text, text, text, boolean) SECURITY INVOKER`),
    ];
    expect(denied.map((message) => message !== undefined)).toEqual(denied.map(() => true));
    await afterAttack();
    expect(bridge.arrivals.some((a) => a.body.includes('direct insert'))).toBe(false);
  }, 90_000);

  it('cannot inject row changes into the WAL targets', async () => {
    const fake = `{"action":"U","schema":"public","table":"accounts","columns":[{"name":"balance","value":1000000}],"forged":"${role}"}`;
    await attack('send_message(pgoutput, durable)', `SELECT events.send_message('pgoutput', $1, 'public.accounts.update', true)`, [fake]);
    await attack('send_message(wal2json, durable)', `SELECT events.send_message('wal2json', $1, 'public.accounts.update', true)`, [fake]);
    await attack('send_message(pgoutput, NOTIFY)', `SELECT events.send_message('pgoutput', $1, 'public.accounts.update')`, [fake]);
    await attack('pg_notify(pgoutput)', `SELECT pg_notify('pgoutput', $1)`, [fake]);
    await attack('on_row_change(pgoutput) trigger', `
      CREATE TABLE ${role}.accounts (id int, forged text);
      CREATE TRIGGER fake AFTER INSERT ON ${role}.accounts FOR EACH ROW EXECUTE FUNCTION events.on_row_change('pgoutput');
      INSERT INTO ${role}.accounts VALUES (1, '${role}');`);
    await attack('pg_logical_emit_message, transactional', `SELECT pg_logical_emit_message(true, 'public.accounts.update', $1)`, [fake]);
    await attack('pg_logical_emit_message, not transactional', `SELECT pg_logical_emit_message(false, 'x.update', $1)`, [fake]);
    await attack('pg_logical_emit_message with the heartbeat prefix', `SELECT pg_logical_emit_message(true, 'pg_event_bridge.heartbeat', $1)`, [fake]);
    await attack('wake-up channel junk', `SELECT pg_notify('events_outbox', 'pgoutput'), pg_notify('events_outbox', repeat('x', 7000))`);
    await afterAttack();
    // The canary went through the WAL stream after every forged write: none may be there.
    expectNoForgery(role);
  }, 90_000);

  it('cannot stall a channel silently by squatting its advisory lock', async () => {
    results.input("squat a channel's advisory lock");
    const squatter = new pg.Client({ host: bridge.postgres.host, port: bridge.postgres.port, database: 'postgres', user: role });
    await squatter.connect();
    const status = async () => {
      const response = await fetch(`http://127.0.0.1:${bridge.metricsPort}/status.json`);
      return (await response.json()) as { ready: boolean; notReady: string[] };
    };
    const token = `squatted-${role}`;
    try {
      // Any role may take any advisory lock: this is the one a bridge takes to drain the channel.
      await squatter.query(`SELECT pg_advisory_lock(${0x70656200}, hashtext('events.' || $1::text))`, [bridge.channel]);
      await bridge.db.query(`SELECT events.send_message($1, $2, 'k', true)`, [bridge.channel, token]);
      await waitFor(async () => (await status()).notReady.some((reason) => reason.includes(`outbox channel ${bridge.channel} cannot be drained`)), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: 'the daemon to report the squatted channel as not ready',
      });
      expect(bridge.output()).toMatch(new RegExp(`${bridge.channel}.{0,4} cannot be drained: its lock is held by backend \\d+ of role ${role}`));
    } finally {
      await squatter.end();
    }
    // The lock goes with the session: the message follows, and the daemon is ready again.
    expect(await bridge.arrival((a) => a.target === 'amqp' && a.body.toString() === token, 20_000)).toBeDefined();
    await waitFor(async () => (await status()).ready, { timeoutMs: 20_000, intervalMs: 200, what: 'the daemon to be ready again' });
    await afterAttack();
  }, 90_000);

  it('gets what it asked for from send_message with NULL arguments, or a clear error', async () => {
    const token = `null-key-${role}`;
    expect(await attack('send_message(ch, msg, NULL)', `SELECT events.send_message($1, $2, NULL)`, [bridge.channel, token])).toBeUndefined();
    const arrived = await bridge.arrival((a) => a.route === 'notify' && a.target === 'webhook' && a.body.toString() === token);
    expect(arrived?.body.toString()).toBe(token);
    const nullDurable = `null-durable-key-${role}`;
    expect(await attack('send_message(ch, msg, NULL, true)', `SELECT events.send_message($1, $2, NULL, true)`, [bridge.channel, nullDurable])).toBeUndefined();
    expect((await bridge.arrival((a) => a.route === 'notify' && a.target === 'amqp' && a.body.toString() === nullDurable))?.body.toString()).toBe(nullDurable);
    const nullChannel = await attack('send_message(NULL, msg)', `SELECT events.send_message(NULL, 'x')`);
    expect(nullChannel).toMatch(/channel/i);
    const nullDurableFlag = await attack('send_message(ch, msg, k, NULL)', `SELECT events.send_message($1, 'x', 'k', NULL)`, [bridge.channel]);
    if (nullDurableFlag !== undefined) expect(nullDurableFlag).toMatch(/durable/i);
    await afterAttack();
  }, 90_000);
});
