import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BridgeError, createBridge, createOutboxSource } from '../src/index.js';
import { renderGrantsSql } from '../src/sql/install-schema.js';
import { outboxRowToEvent, type OutboxRowValues } from '../src/sources/outbox-source.js';
import { useEventsSchema } from './outbox-harness.js';
import { recordingPublisher } from './recording-publisher.js';

// Hostile and poison outbox rows, and the outbox's memory bound, on the machine's Postgres. Rows
// are written as the schema owner, the way v1 installs, legacy upgrades or a careless owner could.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const { schema, roles, db, cleanups, drain } = useEventsSchema(url, 't_hostile');

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const channelName = () => `ho_${randomUUID().slice(0, 8)}`;
const left = async (channel: string) => Number((await db.query(`SELECT count(*) AS n FROM ${schema}.outbox WHERE channel = $1`, [channel])).rows[0].n);

describe('events injected into WAL targets', () => {
  it('never delivers a row of a reserved channel that is not a replay, and delivers replays of WAL dead letters with x-replay-of', async () => {
    await db.query(`DELETE FROM ${schema}.outbox WHERE channel = 'pgoutput'`);
    // A fake change written straight into the outbox, as v1's send_message('pgoutput', ...) did.
    await db.query(`INSERT INTO ${schema}.outbox (channel, routing_key, payload) VALUES ('pgoutput', 'public.accounts.update', '{"fake":"change"}')`);
    await db.query(`INSERT INTO ${schema}.dead_letter (event_id, source, channel, upstream, target, routing_key, payload, headers, content_type, error_code, error_message)
      VALUES ('0/16B3748/0', 'wal', 'pgoutput', 'amqp', 'queue:q', 'public.accounts.update', '{"real":"change"}', '{"x-wal-lsn":"0/16B3748","x-wal-action":"update"}', 'application/json', 'ERR_BRIDGE_UNROUTABLE', 'no queue'),
             ('n-1', 'notify', 'pgoutput', 'amqp', 'queue:q', 'k', 'not from WAL', NULL, NULL, 'ERR_BRIDGE_UNROUTABLE', 'no queue')`);
    expect((await db.query(`SELECT ${schema}.replay_dead_letters(channel => 'pgoutput') AS n`)).rows[0].n).toBe(1);
    const { delivered } = await drain(['pgoutput']);
    await until(() => delivered.length === 1, 'the replay');
    await until(async () => (await db.query(`SELECT 1 FROM ${schema}.outbox WHERE replay_of IS NOT NULL`)).rowCount === 0, 'the replay to be deleted');
    // Ids are delivered in order, so the fake (a lower id) would have come first.
    expect(delivered.map((e) => e.body.toString())).toEqual(['{"real":"change"}']);
    expect(delivered[0]!.headers).toMatchObject({ 'x-replay-of': '0/16B3748/0', 'x-wal-lsn': '0/16B3748', 'x-outbox-id': expect.stringMatching(/^\d+$/) });
    expect(await left('pgoutput')).toBe(1);
    await db.query(`DELETE FROM ${schema}.outbox WHERE channel = 'pgoutput'; DELETE FROM ${schema}.dead_letter WHERE event_id = 'n-1'`);
  });

  it("drops headers a row sets with the bridge's own names, and marks every event as the outbox's", async () => {
    const channel = channelName();
    await db.query(`INSERT INTO ${schema}.outbox (channel, payload, headers) VALUES ($1, 'spoof', '{"x-wal-lsn":"0/FAKE","X-Event-Id":"forged","x-replay-of":"forged","x-outbox-id":"1","x-tenant":"acme"}')`, [channel]);
    await db.query(`SELECT ${schema}.send_message($1, 'plain', 'k', true)`, [channel]);
    const { delivered, source } = await drain([channel]);
    await until(() => delivered.length === 2, 'two messages');
    const ids = delivered.map((e) => e.id.slice('outbox:'.length));
    expect(delivered[0]!.headers).toEqual({ 'x-tenant': 'acme', 'x-outbox-id': ids[0] });
    expect(delivered[1]!.headers).toEqual({ 'x-outbox-id': ids[1] });
    expect(source.stats().reservedHeadersDropped).toBe(4);
  });
});

describe('poison outbox rows', () => {
  it('dead-letters each row it cannot deliver faithfully with its bytes and position, deletes it, and delivers the next', async () => {
    const channel = channelName();
    const huge = 'h'.repeat(70 * 1024);
    const rows: Array<[string, string]> = [
      ['first', `'first', NULL, NULL, clock_timestamp(), ''`],
      ['infinity', `'infinity', NULL, NULL, 'infinity', ''`],
      ['-infinity', `'-infinity', NULL, NULL, '-infinity', ''`],
      ['array headers', `'array headers', '[1,2]', NULL, clock_timestamp(), ''`],
      ['scalars', `'scalars', '{"n": 1e40, "b": true, "s": "x"}', NULL, clock_timestamp(), ''`],
      ['nested', `'nested', '{"nested": {"a": 1}}', NULL, clock_timestamp(), ''`],
      ['null header', `'null header', '{"v": null}', NULL, clock_timestamp(), ''`],
      ['crlf header', `'crlf header', '{"v": "a\\r\\nInjected: 1"}', NULL, clock_timestamp(), ''`],
      ['crlf type', `'crlf type', NULL, E'text/plain\\r\\nX: y', clock_timestamp(), ''`],
      ['long key', `'long key', NULL, NULL, clock_timestamp(), repeat('k', 10000)`],
      ['huge headers', `'huge headers', jsonb_build_object('v', '${huge}'), NULL, clock_timestamp(), ''`],
      ['big payload', `repeat('p', 2 * 1024 * 1024), NULL, NULL, clock_timestamp(), ''`],
      ['last', `'last', NULL, NULL, clock_timestamp(), ''`],
    ];
    for (const [, values] of rows) {
      await db.query(`INSERT INTO ${schema}.outbox (channel, payload, headers, content_type, created_at, routing_key) VALUES ($1, ${values})`, [channel]);
    }
    const { delivered, dead, source } = await drain([channel], { maxRowBytes: 1024 * 1024 });
    await until(() => delivered.length + dead.length === rows.length, 'every row delivered or dead-lettered');
    await until(async () => (await left(channel)) === 0, 'the outbox to empty');
    expect(delivered.map((e) => e.body.toString())).toEqual(['first', 'scalars', 'last']);
    expect(delivered[1]!.headers).toMatchObject({ n: '10000000000000000000000000000000000000000', b: 'true', s: 'x' });
    expect(dead.map((p) => (p.raw.length > 100 ? `${p.raw.length} bytes` : p.raw.toString()))).toEqual([
      'infinity', '-infinity', 'array headers', 'nested', 'null header', 'crlf header', 'crlf type', 'long key', 'huge headers', `${64 * 1024} bytes`,
    ]);
    for (const poison of dead) {
      expect(poison.error.code).toBe('ERR_BRIDGE_DECODE');
      expect(poison.id).toMatch(/^outbox:\d+$/);
      expect(poison.position).toBe(poison.id);
      expect(poison.source).toBe(channel);
      expect(poison.error.message).toContain(`Row ${poison.id.slice('outbox:'.length)} of channel "${channel}"`);
    }
    expect(dead[0]!.error.message).toMatch(/created_at/);
    expect(dead[9]!.error.message).toMatch(/2097152 bytes, over the limit of 1048576 \(maxRowBytes\)/);
    expect(source.stats().poisonRows).toBe(10);
  });

  it('turns any row values into an event or a poison event, never throws, and bounds both', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'Infinity', '-Infinity', 'NaN', '1e400', '\r\n', '\u0000', '1712345678.123'));
    const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof(fc.constant(null), arbitrary);
    const maybeWrong = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: fc.anything() as fc.Arbitrary<T> });
    const row = fc.record({
      id: maybeWrong(fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String), text)),
      routingKey: maybeWrong(fc.oneof(text, fc.string({ minLength: 250, maxLength: 300 }))),
      payload: maybeWrong(text),
      payloadBytes: maybeWrong(fc.oneof(fc.nat(), fc.integer())),
      headersType: maybeWrong(nullable(fc.constantFrom('object', 'array', 'string', 'number', 'null'))),
      headersBytes: maybeWrong(nullable(fc.nat({ max: 200_000 }))),
      headerKeys: maybeWrong(nullable(fc.array(nullable(text), { maxLength: 120 }))),
      headerTypes: maybeWrong(nullable(fc.array(nullable(fc.constantFrom('string', 'number', 'boolean', 'null', 'object', 'array')), { maxLength: 120 }))),
      headerValues: maybeWrong(nullable(fc.array(nullable(text), { maxLength: 120 }))),
      contentType: maybeWrong(nullable(text)),
      createdAtEpoch: maybeWrong(nullable(fc.oneof(text, fc.double().map(String)))),
      replayOf: maybeWrong(nullable(text)),
    });
    const aligned = row.map((values) => {
      // Make half the rows consistent, so the success path is exercised as much as the checks.
      if (typeof values.payload !== 'string' || typeof values.payloadBytes !== 'number' || values.payloadBytes % 2 === 0) return values;
      return { ...values, payloadBytes: Buffer.byteLength(values.payload), createdAtEpoch: '1712345678.5' };
    });
    fc.assert(
      fc.property(aligned, fc.integer({ min: 1, max: 1 << 20 }), (values, maxRowBytes) => {
        let result;
        try {
          result = outboxRowToEvent(values as OutboxRowValues, 'fuzz', { maxRowBytes });
        } catch (error) {
          if (!BridgeError.isInstance(error)) throw error;
          return;
        }
        if (result.ok) {
          expect(result.event.body.length).toBeLessThanOrEqual(maxRowBytes);
          expect(Buffer.byteLength(result.event.routingKey)).toBeLessThanOrEqual(255);
          const headers = Object.entries(result.event.headers ?? {});
          expect(headers.length).toBeLessThanOrEqual(102);
          for (const [key, value] of headers) expect(/[\u0000-\u0008\u000a-\u001f\u007f]/.test(key + value)).toBe(false);
          expect(Number.isFinite(result.event.timestamp.getTime())).toBe(true);
        } else {
          expect(result.poison.error.code).toBe('ERR_BRIDGE_DECODE');
          expect(result.poison.raw.length).toBeLessThanOrEqual(4 * 64 * 1024);
          expect(result.poison.error.message.length).toBeLessThan(2000);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('outbox memory', () => {
  it('hands over at most batchBytes of a channel to a target that never accepts, whatever the row count', async () => {
    const channel = channelName();
    const probe = channelName();
    const rowBytes = 1024 * 1024;
    const batchBytes = 4 * rowBytes;
    await db.query(`SELECT ${schema}.send_message($1, repeat('x', $2), '', true) FROM generate_series(1, 40)`, [channel, rowBytes]);
    const { delivered, source } = await drain([channel, probe], { batchBytes }, { accept: false });
    await until(() => delivered.length >= 4, 'the first batch');
    // Two probe messages on another channel, one after the other: the source went round its
    // channels again, twice, and read no more of the first.
    for (const n of [1, 2]) {
      await db.query(`SELECT ${schema}.send_message($1, $2, '', true)`, [probe, `probe-${n}`]);
      await until(() => delivered.some((e) => e.source === probe && e.body.toString() === `probe-${n}`), `probe ${n}`);
    }
    const handed = delivered.filter((e) => e.source === channel);
    const bytes = handed.reduce((sum, e) => sum + e.body.length, 0);
    console.info(`[measured] 40 rows of 1 MiB, batchBytes 4 MiB, target never accepts: ${handed.length} rows (${bytes} bytes) handed over; stats ${JSON.stringify(source.stats())}`);
    expect(handed.length).toBe(4);
    expect(bytes).toBeLessThanOrEqual(batchBytes);
    expect(source.stats().maxChannelBytesUnfinished).toBeLessThanOrEqual(batchBytes + rowBytes);
  });

  it('rejects bad byte options with ERR_BRIDGE_CONFIG, naming each', () => {
    let thrown: unknown;
    try {
      createOutboxSource({ postgres: url, channels: ['c'], batchBytes: 0, maxRowBytes: 2 ** 30, orderWaitMs: -1 });
    } catch (error) {
      thrown = error;
    }
    expect(BridgeError.isInstance(thrown) && thrown.code).toBe('ERR_BRIDGE_CONFIG');
    expect((thrown as Error).message).toMatch(/batchBytes[\s\S]*maxRowBytes[\s\S]*orderWaitMs/);
  });
});

describe('least privilege', () => {
  it('drains as a role with exactly the bridge grants, while an application role can send and do nothing else', async () => {
    const bridgeRole = `t_hb_${randomUUID().slice(0, 8)}`;
    const appRole = `t_ha_${randomUUID().slice(0, 8)}`;
    roles.push(bridgeRole, appRole);
    await db.query(`CREATE ROLE ${bridgeRole} LOGIN; CREATE ROLE ${appRole} LOGIN; ${renderGrantsSql({ schema, bridgeRole, appRole })}`);
    const channel = channelName();
    const app = new pg.Client(url.replace('postgres@', `${appRole}@`));
    await app.connect();
    try {
      const table = `${schema}.app_${randomUUID().slice(0, 8)}`;
      await db.query(`CREATE TABLE ${table} (id int); ALTER TABLE ${table} OWNER TO ${appRole}`);
      await app.query(`CREATE TRIGGER forward AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.on_row_change('${channel}')`);
      await app.query(`SELECT ${schema}.send_message($1, 'sent', 'k', true)`, [channel]);
      await app.query(`INSERT INTO ${table} VALUES (7)`);
      for (const statement of [`SELECT * FROM ${schema}.outbox`, `DELETE FROM ${schema}.outbox`, `SELECT ${schema}.replay_dead_letters()`, `SELECT * FROM ${schema}.dead_letter`]) {
        await expect(app.query(statement), statement).rejects.toThrow(/permission denied/);
      }
    } finally {
      await app.end();
    }
    const { publisher, received: log } = recordingPublisher({
      fail: (event) => (event.body.toString() === 'sent' ? new BridgeError('ERR_BRIDGE_UNROUTABLE', '[recorder] unroutable') : undefined),
    });
    const bridge = createBridge({
      postgres: url.replace('postgres@', `${bridgeRole}@`),
      upstreams: [{ publisher, rules: `${channel}->queue:q` }],
      outbox: { schema, pollIntervalMs: 100 },
      deadLetter: 'table',
    });
    cleanups.push(() => bridge.stop({ timeoutMs: 2000 }));
    await bridge.start();
    await until(() => log.length === 1 && bridge.stats().deadLettered === 1, 'one delivered, one dead-lettered');
    await until(async () => (await left(channel)) === 0, 'the outbox to empty');
    expect(JSON.parse(log[0]!.body.toString())).toEqual({ id: 7 });
  });
});
