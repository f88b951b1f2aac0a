import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError, createBridge, type Bridge, type BridgeEvent, type Source, type SourceContext } from '../src/index.js';
import { recordingPublisher } from './recording-publisher.js';

// A dead letter that cannot be stored (its table is missing) must be loud and retried, and the
// target must go on once the table exists. Real Postgres; the upstream is an in-process recorder
// that refuses one message for good.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let admin: pg.Client;
const schemas: string[] = [];
const bridges: Bridge[] = [];

beforeAll(async () => {
  admin = new pg.Client(url);
  await admin.connect();
});
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.stop({ timeoutMs: 1000 })));
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});
afterAll(async () => {
  await admin.end();
});

/** The dead_letter table as the schema's migrations create it. */
const createTable = (schema: string) =>
  admin.query(`CREATE TABLE "${schema}".dead_letter (
    id bigserial PRIMARY KEY, event_id text NOT NULL, source text NOT NULL, channel text NOT NULL, upstream text NOT NULL,
    target text NOT NULL, routing_key text NOT NULL DEFAULT '', payload text NOT NULL, headers jsonb, content_type text,
    error_code text NOT NULL, error_message text NOT NULL, attempts integer NOT NULL DEFAULT 1, event_time timestamptz,
    first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(), last_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    position text, raw bytea,
    CONSTRAINT dead_letter_event_target_key UNIQUE (event_id, upstream, target))`);

function recordingLogger() {
  const records: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void records.push({ level, message, fields });
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A source that hands over what the test gives it, so events need no NOTIFY round trip. */
function handSource() {
  let context!: SourceContext;
  const source: Source = {
    name: 'hand',
    async start(ctx) {
      context = ctx;
    },
    async stop() {},
  };
  return { source, get context() {
    return context;
  } };
}

const event = (channel: string, body: string): BridgeEvent => ({ id: randomUUID(), source: channel, routingKey: 'k', body: Buffer.from(body), timestamp: new Date() });

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

async function setUp() {
  const schema = `dl_${randomUUID().slice(0, 8)}`;
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const channel = `ch_${randomUUID().slice(0, 8)}`;
  const sink = recordingPublisher({
    // One message at a time, so the next event waits behind the dead letter being stored.
    ordered: false,
    fail: (e) => (e.body.toString() === 'poison' ? new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[recorder] refused ${e.body.toString()}`) : undefined),
  });
  const logger = recordingLogger();
  const hand = handSource();
  const bridge = createBridge({
    postgres: url,
    upstreams: [{ publisher: sink.publisher, rules: `${channel}->queue:q` }],
    sources: [hand.source],
    logger,
    deadLetter: 'table',
    // The dead-letter table lives in the outbox's schema; there is no outbox there, which it tolerates.
    outbox: { schema, pollIntervalMs: 60_000 },
    notify: { healthCheckIntervalMs: 0 },
    delivery: { retry: { initialDelayMs: 10, maxDelayMs: 50 } },
  });
  bridges.push(bridge);
  const failures: Array<{ attempt: number; code: string }> = [];
  bridge.on('dead-letter-failed', ({ attempt, error }) => failures.push({ attempt, code: error.code }));
  await bridge.start();
  return { schema, channel, sink, logger, hand, bridge, failures };
}

describe('a dead letter that cannot be stored', () => {
  it('is logged (rate-limited), reported and retried while its target waits, and the target goes on once the table exists', async () => {
    const { schema, channel, sink, logger, hand, bridge, failures } = await setUp();
    const poisoned = hand.context.deliver(event(channel, 'poison'));
    const next = hand.context.deliver(event(channel, 'next'));
    // Should the test fail, stopping the bridge rejects both with ERR_BRIDGE_ABORTED.
    for (const pending of [poisoned, next]) pending.catch(() => undefined);

    await until(() => failures.length >= 5, 'five failed attempts to store the dead letter');
    expect(failures.slice(0, 5).map((f) => f.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(failures[0]?.code).toBe('ERR_BRIDGE_POSTGRES');
    const errors = logger.records.filter((r) => r.level === 'error' && /Could not store a dead letter/.test(r.message));
    // Loud, but once for the outage, not once per attempt.
    expect(errors).toHaveLength(1);
    expect(String((errors[0]?.fields.err as Error).message)).toContain(`${schema}.dead_letter`);
    expect(bridge.stats()).toMatchObject({ deadLetterStoreFailing: true, deadLettered: 0, inFlight: 2 });
    expect(bridge.stats().deadLetterFailures).toBeGreaterThanOrEqual(5);
    expect(sink.bodies()).toEqual([]);

    const recovered = new Promise((resolve) => bridge.once('dead-letter-recovered', resolve));
    await createTable(schema);
    await poisoned;
    await next;
    await recovered;
    expect(sink.bodies()).toEqual(['next']);
    expect(bridge.stats()).toMatchObject({ deadLetterStoreFailing: false, deadLettered: 1, inFlight: 0 });
    expect(logger.records.some((r) => r.level === 'info' && /Dead letters are stored again/.test(r.message))).toBe(true);
    const { rows } = await admin.query(`SELECT payload, error_code FROM "${schema}".dead_letter`);
    expect(rows).toEqual([{ payload: 'poison', error_code: 'ERR_BRIDGE_UPSTREAM_REJECTED' }]);
  });

  it('is retried the same way for an event a source could not decode (SourceContext.deadLetter)', async () => {
    const { schema, channel, hand, bridge, failures } = await setUp();
    const stored = hand.context.deadLetter({
      id: 'poison-1',
      source: channel,
      position: 'pid 1',
      raw: Buffer.from([0xff, 0x00, 0xfe]),
      error: new BridgeError('ERR_BRIDGE_DECODE', '[test] cannot decode'),
    });
    stored.catch(() => undefined);
    await until(() => failures.length >= 3, 'three failed attempts');
    expect(bridge.stats().deadLetterStoreFailing).toBe(true);
    await createTable(schema);
    await stored;
    expect(bridge.stats()).toMatchObject({ deadLetterStoreFailing: false, deadLettered: 1 });
    const { rows } = await admin.query(`SELECT position, raw, error_code FROM "${schema}".dead_letter`);
    expect(rows).toEqual([{ position: 'pid 1', raw: Buffer.from([0xff, 0x00, 0xfe]), error_code: 'ERR_BRIDGE_DECODE' }]);
  });
});
