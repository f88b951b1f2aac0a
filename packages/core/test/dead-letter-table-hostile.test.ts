import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError, createDeadLetterTable, type DeadLetter, type DeadLetterTable } from '../src/index.js';

// Whatever a dead letter holds, storing it must succeed: a store that fails for the letter's
// content is retried for ever and holds its target (and a WAL slot) behind it. Real Postgres.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `dlh_${randomUUID().slice(0, 8)}`;
const legacySchema = `dlh_${randomUUID().slice(0, 8)}`;

let admin: pg.Client;
let table: DeadLetterTable;

const columns = `id bigserial PRIMARY KEY, event_id text NOT NULL, source text NOT NULL, channel text NOT NULL, upstream text NOT NULL,
    target text NOT NULL, routing_key text NOT NULL DEFAULT '', payload text NOT NULL, headers jsonb, content_type text,
    error_code text NOT NULL, error_message text NOT NULL, attempts integer NOT NULL DEFAULT 1, event_time timestamptz,
    first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(), last_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT dead_letter_event_target_key UNIQUE (event_id, upstream, target)`;

beforeAll(async () => {
  admin = new pg.Client(url);
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".dead_letter (${columns}, position text, raw bytea)`);
  await admin.query(`CREATE SCHEMA "${legacySchema}"; CREATE TABLE "${legacySchema}".dead_letter (${columns})`);
  table = createDeadLetterTable({ postgres: url, schema });
});
afterAll(async () => {
  await table.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${legacySchema}" CASCADE`);
  await admin.end();
});

function letter(overrides: { id?: string; body?: Buffer; routingKey?: string; headers?: Record<string, string>; timestamp?: Date; message?: string; target?: string; attempts?: number; position?: string } = {}): DeadLetter {
  return {
    event: {
      id: overrides.id ?? randomUUID(),
      source: 'orders',
      routingKey: overrides.routingKey ?? 'k',
      body: overrides.body ?? Buffer.from('body'),
      ...(overrides.headers && { headers: overrides.headers }),
      timestamp: overrides.timestamp ?? new Date(),
    },
    upstream: 'recorder',
    target: { kind: 'queue', name: overrides.target ?? 'q' },
    error: new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', overrides.message ?? 'refused'),
    attempts: overrides.attempts ?? 1,
    ...(overrides.position !== undefined && { position: overrides.position }),
  };
}

const row = async (id: string, from = schema) =>
  (await admin.query(`SELECT payload, raw, position, routing_key, headers, error_message, event_time, attempts, target FROM "${from}".dead_letter WHERE event_id = $1`, [id])).rows[0];

describe('createDeadLetterTable with hostile content', () => {
  it('keeps a body that is not valid UTF-8 or contains NUL byte-exact in raw, with a readable payload', async () => {
    const bodies = [Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('a\u0000b'), Buffer.from([0xc3])];
    for (const body of bodies) {
      const l = letter({ body });
      await table.store(l);
      const stored = await row(l.event.id);
      expect(stored.raw).toEqual(body);
      expect(stored.payload).not.toContain('\u0000');
    }
    const text = letter({ body: Buffer.from('{"a":"é😀"}') });
    await table.store(text);
    expect(await row(text.event.id)).toMatchObject({ payload: '{"a":"é😀"}', raw: null, position: null });
  });

  it('keeps the bytes and position of an event a source could not decode, even when they are text', async () => {
    const l = letter({ body: Buffer.from('plain'), position: '0/16B3748' });
    await table.store(l);
    expect(await row(l.event.id)).toMatchObject({ payload: 'plain', raw: Buffer.from('plain'), position: '0/16B3748' });
  });

  it('stores NUL in headers, routing keys and errors, 10 KB routing keys, 1 MB errors, long target names, invalid dates and huge attempt counts', async () => {
    const l = letter({
      routingKey: `k\u0000${'r'.repeat(10_000)}`,
      headers: { 'x-a\u0000': 'v\u0000', lone: '\ud800' },
      message: `bad\u0000${'e'.repeat(1 << 20)}`,
      target: 'https://example.test/'.padEnd(5000, 'p'),
      timestamp: new Date(Number.NaN),
      attempts: 2 ** 40,
    });
    await table.store(l);
    await table.store(l);
    const stored = await row(l.event.id);
    expect(stored.routing_key).toBe(`k\ufffd${'r'.repeat(10_000)}`);
    expect(stored.headers).toEqual({ 'x-a\ufffd': 'v\ufffd', lone: '\ufffd' });
    expect(stored.error_message.startsWith('bad\ufffdeee')).toBe(true);
    expect(stored.error_message.length).toBeLessThan(20_000);
    expect(stored.event_time).toBeNull();
    expect(stored.attempts).toBe(2_147_483_647);
    // Shortened to fit the unique key, and still the same row when stored again.
    expect(stored.target.length).toBeLessThan(400);
  });

  it('stores any event the fuzzer makes', async () => {
    const anyText = fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udc00', '\r\n', '|'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
          routingKey: anyText,
          headers: fc.dictionary(anyText, anyText, { maxKeys: 3 }),
          message: anyText,
          target: anyText,
          position: fc.option(anyText, { nil: undefined }),
          timestamp: fc.date({ noInvalidDate: false }),
        }),
        async (fields) => {
          const l = letter(fields);
          await table.store(l);
          const stored = await row(l.event.id);
          if (stored.raw !== null) expect(stored.raw).toEqual(fields.body);
          else expect(Buffer.from(stored.payload).equals(fields.body)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('still stores into a table from before the position and raw columns', async () => {
    const legacy = createDeadLetterTable({ postgres: url, schema: legacySchema });
    try {
      const l = letter({ body: Buffer.from([0xff, 0x00]), position: 'p' });
      await legacy.store(l);
      await legacy.store(letter());
      const { rows } = await admin.query(`SELECT payload FROM "${legacySchema}".dead_letter WHERE event_id = $1`, [l.event.id]);
      expect(rows).toEqual([{ payload: '\ufffd\ufffd' }]);
    } finally {
      await legacy.close();
    }
  });
});
