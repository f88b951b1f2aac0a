import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSchema } from '../src/index.js';
import { migrations, schemaNames } from '../src/sql/migrations.js';

// Hostile roles against the events schema on the machine's Postgres. Every test uses its own
// roles, schemas and channels and drops them; the events schema is installed under a unique name.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomUUID().slice(0, 8);
const schema = `t_sec_${suffix}`;
const roles: string[] = [];
const schemas: string[] = [schema];
const clients: pg.Client[] = [];
let db: pg.Client;

const asRole = (role: string) => url.replace('postgres@', `${role}@`);

async function connect(target = url): Promise<pg.Client> {
  const client = new pg.Client(target);
  await client.connect();
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** A LOGIN role with no privilege, dropped after the file. */
async function createRole(prefix: string): Promise<string> {
  const role = `t_${prefix}_${randomUUID().slice(0, 8)}`;
  roles.push(role);
  await db.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB`);
  return role;
}

/** A LOGIN role owning a schema of its own, as in the reported attack. */
async function createSchemaOwner(prefix: string): Promise<{ role: string; own: string; client: pg.Client }> {
  const role = await createRole(prefix);
  const own = `${role}_s`;
  schemas.push(own);
  await db.query(`CREATE SCHEMA ${own} AUTHORIZATION ${role}`);
  return { role, own, client: await connect(asRole(role)) };
}

const isSuperuser = async (role: string) => (await db.query<{ rolsuper: boolean }>(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [role])).rows[0]!.rolsuper;
const count = async (table: string, where = 'true', values: unknown[] = [], inSchema = schema) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${inSchema}.${table} WHERE ${where}`, values)).rows[0]!.n);

/**
 * As `client`'s role: an enum whose cast to json runs `ALTER ROLE <role> SUPERUSER` (swallowing the
 * refusal), and a table of that enum with on_row_change() attached.
 */
async function armCastToJson(client: pg.Client, role: string, own: string, events: string, channel: string): Promise<string> {
  await client.query(`
    CREATE TYPE ${own}.mood AS ENUM ('happy');
    CREATE FUNCTION ${own}.mood_to_json(${own}.mood) RETURNS json LANGUAGE plpgsql AS $$
    BEGIN
      BEGIN EXECUTE 'ALTER ROLE ${role} SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
      RETURN '"happy"'::json;
    END $$;
    CREATE CAST (${own}.mood AS json) WITH FUNCTION ${own}.mood_to_json(${own}.mood);
    CREATE TABLE ${own}.diary (id int PRIMARY KEY, mood ${own}.mood);
    CREATE TRIGGER forward AFTER INSERT ON ${own}.diary FOR EACH ROW EXECUTE FUNCTION ${events}.on_row_change('${channel}');`);
  return `${own}.diary`;
}

beforeAll(async () => {
  db = await connect();
  await installSchema(url, { schema });
});
afterAll(async () => {
  for (const client of clients.splice(0).reverse()) if (client !== db) await client.end().catch(() => undefined);
  for (const name of schemas) await db.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  for (const role of roles) await db.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await db.end();
});

describe('privilege escalation through the events schema', () => {
  it("does not run a user's cast to json with the schema owner's rights from on_row_change()", async () => {
    const { role, own, client } = await createSchemaOwner('cast');
    const channel = `sec_${randomUUID().slice(0, 8)}`;
    const table = await armCastToJson(client, role, own, schema, channel);
    await client.query(`INSERT INTO ${table} VALUES (1, 'happy')`);
    expect(await isSuperuser(role)).toBe(false);
    // The change is still queued: the cast ran, with the writer's own rights.
    expect((await db.query(`SELECT payload, headers FROM ${schema}.outbox WHERE channel = $1`, [channel])).rows).toEqual([
      { payload: '{"id":1,"mood":"happy"}', headers: { 'x-table': table, 'x-action': 'insert' } },
    ]);
  });

  it('runs nothing with elevated rights but enqueue() and replay_dead_letters(), each with a pinned search_path', async () => {
    const functions = await db.query<{ name: string; definer: boolean; config: string[] | null }>(
      `SELECT p.oid::regprocedure::text AS name, p.prosecdef AS definer, p.proconfig AS config FROM pg_proc AS p WHERE p.pronamespace = $1::regnamespace ORDER BY 1`,
      [schema],
    );
    expect(functions.rows.filter((f) => f.definer).map((f) => f.name.replace(`${schema}.`, ''))).toEqual([
      'enqueue(text,text,text,jsonb,text)',
      'replay_dead_letters(bigint[],text,text)',
    ]);
    for (const f of functions.rows.filter((row) => !row.name.includes('flush'))) expect(f.config, f.name).toEqual(['search_path=pg_catalog, pg_temp']);
  });

  it('lets PUBLIC call only what an application needs: no replay, no sequences, no tables', async () => {
    const role = await createRole('public');
    const client = await connect(asRole(role));
    await client.query(`SELECT ${schema}.send_message('sec_public', 'ok', 'k', true), ${schema}.enqueue('sec_public', 'ok', 'k', '{"x-tenant":"a"}', 'text/plain')`);
    for (const statement of [
      `SELECT ${schema}.replay_dead_letters()`,
      `SELECT * FROM ${schema}.outbox`,
      `INSERT INTO ${schema}.outbox (channel, payload, replay_of) VALUES ('pgoutput', 'forged', 'x')`,
      `UPDATE ${schema}.outbox SET replay_of = 'x'`,
      `DELETE FROM ${schema}.outbox`,
      `SELECT * FROM ${schema}.dead_letter`,
      `INSERT INTO ${schema}.dead_letter (event_id, source, channel, upstream, target, payload, error_code, error_message) VALUES ('x', 'wal', 'pgoutput', 'u', 't', 'p', 'E', 'm')`,
      `SELECT nextval('${schema}.outbox_id_seq')`,
      `SELECT last_value FROM ${schema}.outbox_id_seq`,
    ]) {
      await expect(client.query(statement), statement).rejects.toThrow(/permission denied/);
    }
  });

  it("moves pg-event-proxy's buffer rows only from a plain table of the installing role, so its triggers cannot run as the installer", async () => {
    const attacker = await createRole('buffer');
    const other = `t_secl_${randomUUID().slice(0, 8)}`;
    schemas.push(other);
    await db.query(`CREATE SCHEMA ${other}; GRANT USAGE ON SCHEMA ${other} TO ${attacker};
      CREATE TABLE ${other}.events (id serial primary key, channel text not null, message text not null, created_on timestamptz not null default now());
      INSERT INTO ${other}.events (channel, message) VALUES ('legacy', 'k|queued');
      ALTER TABLE ${other}.events OWNER TO ${attacker};`);
    const own = `${attacker}_s`;
    schemas.push(own);
    await db.query(`CREATE SCHEMA ${own} AUTHORIZATION ${attacker}`);
    const client = await connect(asRole(attacker));
    await client.query(`
      CREATE FUNCTION ${own}.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN BEGIN EXECUTE 'ALTER ROLE ${attacker} SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END; RETURN OLD; END $$;
      CREATE TRIGGER escalate BEFORE DELETE ON ${other}.events FOR EACH ROW EXECUTE FUNCTION ${own}.escalate();`);
    await installSchema(url, { schema: other });
    expect(await isSuperuser(attacker)).toBe(false);
    expect(await count('events', 'true', [], other)).toBe(1);
    expect(await count('outbox', 'true', [], other)).toBe(0);
  });
});

describe('the reserved WAL channel names', () => {
  it('are refused by send_message, enqueue and on_row_change, naming the channel', async () => {
    const role = await createRole('reserved');
    const client = await connect(asRole(role));
    for (const channel of ['pgoutput', 'wal2json']) {
      await expect(client.query(`SELECT ${schema}.send_message($1, '{"fake":"change"}', 'public.accounts.update', true)`, [channel])).rejects.toThrow(
        new RegExp(`channel '${channel}' is reserved for the WAL source`),
      );
      await expect(client.query(`SELECT ${schema}.send_message($1, 'x', 'public.accounts.update', false)`, [channel])).rejects.toThrow(/is reserved/);
      await expect(client.query(`SELECT ${schema}.send_message($1, 'x', 'k', true, false)`, [channel])).rejects.toThrow(/is reserved/);
      await expect(client.query(`SELECT ${schema}.enqueue($1, 'x', 'k', NULL, NULL)`, [channel])).rejects.toThrow(/is reserved/);
    }
    const table = `${schema}.reserved_${randomUUID().slice(0, 8)}`;
    await db.query(`CREATE TABLE ${table} (id int); CREATE TRIGGER forward AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.on_row_change('pgoutput')`);
    await expect(db.query(`INSERT INTO ${table} VALUES (1)`)).rejects.toThrow(/channel 'pgoutput' is reserved/);
    expect(await count('outbox', `channel IN ('pgoutput', 'wal2json')`)).toBe(0);
  });

  it('refuse header names the bridge sets itself', async () => {
    for (const header of ['x-wal-lsn', 'X-Event-Id', 'x-pg-channel', 'x-routing-key', 'x-outbox-id', 'x-replay-of']) {
      await expect(db.query(`SELECT ${schema}.enqueue('sec_headers', 'x', '', jsonb_build_object($1::text, 'spoof'), NULL)`, [header])).rejects.toThrow(
        new RegExp(`header '${header}' is reserved`),
      );
    }
    await expect(db.query(`SELECT ${schema}.enqueue('sec_headers', 'x', '', '[1]', NULL)`)).rejects.toThrow(/headers must be a JSON object/);
  });
});

describe('NULL arguments of send_message', () => {
  it('send NULL key and message as empty text, and refuse a NULL channel or durable, in both overloads', async () => {
    const channel = `sec_null_${randomUUID().slice(0, 8)}`;
    const listener = await connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? '<null>'));
    await listener.query(`LISTEN ${channel}`);
    await db.query(`SELECT ${schema}.send_message($1, 'msg', NULL), ${schema}.send_message($1, NULL, 'key'), ${schema}.send_message($1, NULL, NULL, false, NULL)`, [channel]);
    const deadline = Date.now() + 10_000;
    while (payloads.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(payloads).toEqual(['|msg', 'key|', '|']);

    await db.query(`SELECT ${schema}.send_message($1, NULL, NULL, true), ${schema}.send_message($1, 'm', NULL, true, NULL)`, [channel]);
    expect((await db.query(`SELECT routing_key, payload FROM ${schema}.outbox WHERE channel = $1 ORDER BY id`, [channel])).rows).toEqual([
      { routing_key: '', payload: '' },
      { routing_key: '', payload: 'm' },
    ]);
    await expect(db.query(`SELECT ${schema}.send_message(NULL, 'm')`)).rejects.toThrow(/needs a channel, got NULL/);
    await expect(db.query(`SELECT ${schema}.send_message(NULL, 'm', 'k', true, false)`)).rejects.toThrow(/needs a channel, got NULL/);
    await expect(db.query(`SELECT ${schema}.send_message($1, 'm', 'k', NULL)`, [channel])).rejects.toThrow(/needs durable true or false, got NULL/);
    await expect(db.query(`SELECT ${schema}.enqueue(NULL, 'm', 'k', NULL, NULL)`)).rejects.toThrow(/must not be NULL/);
    await expect(db.query(`SELECT ${schema}.send_message($1, 'm', repeat('k', 256), true)`, [channel])).rejects.toThrow(/routing key of 256 bytes/);
  });

  it('refuse content types and headers a bridge would have to hold to refuse', async () => {
    const channel = `sec_size_${randomUUID().slice(0, 8)}`;
    await expect(db.query(`SELECT ${schema}.enqueue($1, 'm', 'k', NULL, repeat('c', 200000))`, [channel])).rejects.toThrow(/content type of 200000 bytes is longer than 255/);
    await expect(db.query(`SELECT ${schema}.enqueue($1, 'm', 'k', jsonb_build_object('x-big', repeat('h', 70000)), NULL)`, [channel])).rejects.toThrow(/headers of \d+ bytes are larger than 64 KiB/);
    await expect(db.query(`SELECT ${schema}.enqueue($1, 'm', 'k', '{"a": "b"}', 'application/json')`, [channel])).resolves.toBeDefined();
  });
});

describe('replay_dead_letters', () => {
  it('replays what a broker refused, and leaves dead letters that could not be decoded, counted in a notice', async () => {
    const channel = `sec_replay_${randomUUID().slice(0, 8)}`;
    await db.query(
      `INSERT INTO ${schema}.dead_letter (event_id, source, channel, upstream, target, payload, error_code, error_message, position, raw) VALUES
        ('outbox:1', 'outbox', $1, 'amqp', 'queue:q', 'refused', 'ERR_BRIDGE_UNROUTABLE', 'no queue', NULL, NULL),
        ('0/1/0', 'notify', $1, 'bridge', 'decode:x', '', 'ERR_BRIDGE_DECODE', 'bad framing', '0/1', '\\x00ff'),
        ('0/2/0', 'notify', $1, 'amqp', 'queue:q', 'bytes', 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', 'too large', NULL, '\\xfffe')`,
      [channel],
    );
    const notices: string[] = [];
    const onNotice = (notice: { message?: string }) => notices.push(notice.message ?? '');
    db.on('notice', onNotice);
    try {
      expect((await db.query(`SELECT ${schema}.replay_dead_letters(channel => $1) AS n`, [channel])).rows[0].n).toBe(1);
    } finally {
      db.off('notice', onNotice);
    }
    expect(notices.some((text) => text.includes('2 dead letter(s) were not replayed'))).toBe(true);
    expect((await db.query(`SELECT event_id FROM ${schema}.dead_letter WHERE channel = $1 ORDER BY event_id`, [channel])).rows).toEqual([{ event_id: '0/1/0' }, { event_id: '0/2/0' }]);
    expect((await db.query(`SELECT payload, replay_of, headers FROM ${schema}.outbox WHERE channel = $1`, [channel])).rows).toEqual([{ payload: 'refused', replay_of: 'outbox:1', headers: null }]);
  });
});

describe('upgrading a version 1 schema', () => {
  it('closes the escalation, keeps replays of WAL dead letters and dead-letters rows forged on reserved channels', async () => {
    const old = `t_secv1_${randomUUID().slice(0, 8)}`;
    schemas.push(old);
    const names = schemaNames(old);
    // Version 1 exactly as it was installed: bootstrap, migration 1, its version row.
    await db.query(`BEGIN; CREATE SCHEMA ${old}; CREATE TABLE ${old}.schema_version (version integer PRIMARY KEY, name text NOT NULL, installed_at timestamptz NOT NULL DEFAULT now());
      GRANT SELECT ON ${old}.schema_version TO PUBLIC; ${migrations[0]!.sql(names)}
      INSERT INTO ${old}.schema_version VALUES (1, '001-events-schema'); COMMIT;`);
    await db.query(`SELECT ${old}.send_message('pgoutput', '{"fake":"change"}', 'public.accounts.update', true)`);
    await db.query(`INSERT INTO ${old}.outbox (channel, routing_key, payload, headers) VALUES ('wal2json', 'public.t.insert', '{"real":1}', '{"x-replay-of":"0/16B3748/0","x-wal-lsn":"0/16B3748"}')`);
    await db.query(`SELECT ${old}.send_message('orders', 'kept', 'k', true)`);
    // A bridge role with v1's documented grants.
    const bridgeRole = await createRole('v1bridge');
    await db.query(`GRANT USAGE ON SCHEMA ${old} TO ${bridgeRole}; GRANT SELECT, DELETE ON ${old}.outbox TO ${bridgeRole}`);

    expect((await installSchema(url, { schema: old })).applied).toEqual(['002-least-privilege']);
    expect((await db.query(`SELECT has_sequence_privilege($1, $2, 'SELECT') AS ok`, [bridgeRole, `${old}.outbox_id_seq`])).rows[0].ok).toBe(true);
    expect((await db.query(`SELECT channel, payload, replay_of, headers FROM ${old}.outbox ORDER BY id`)).rows).toEqual([
      { channel: 'wal2json', payload: '{"real":1}', replay_of: '0/16B3748/0', headers: { 'x-wal-lsn': '0/16B3748' } },
      { channel: 'orders', payload: 'kept', replay_of: null, headers: null },
    ]);
    expect((await db.query(`SELECT channel, payload, error_code, position FROM ${old}.dead_letter`)).rows).toEqual([
      { channel: 'pgoutput', payload: '{"fake":"change"}', error_code: 'ERR_BRIDGE_DECODE', position: expect.stringMatching(/^outbox:\d+$/) },
    ]);
    // The forged row is not replayable: it stays, counted in a notice.
    expect((await db.query(`SELECT ${old}.replay_dead_letters() AS n`)).rows[0].n).toBe(0);
    expect(await count('dead_letter', 'true', [], old)).toBe(1);

    const { role, own, client } = await createSchemaOwner('v1');
    const table = await armCastToJson(client, role, own, old, 'after_upgrade');
    await client.query(`INSERT INTO ${table} VALUES (1, 'happy')`);
    expect(await isSuperuser(role)).toBe(false);
    expect(await count('outbox', `channel = 'after_upgrade'`, [], old)).toBe(1);
  });
});
