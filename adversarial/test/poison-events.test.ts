import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialBridge, type AdversarialBridge, type Arrival } from '../src/adversarial-bridge.js';
import { AdversarialResults } from '../src/adversarial-results.js';

// Poison rows and payloads for every source, forwarded to RabbitMQ and a webhook by the daemon.
// Each one must be delivered faithfully or dead-lettered, to each target; after each group the
// daemon is alive and a canary sent through every source reaches both targets.
const results = new AdversarialResults('poison-events', 'poison rows and payloads');
let bridge: AdversarialBridge;
const upstreamOf: Record<Arrival['target'], string> = { amqp: 'rabbit', webhook: 'hook' };

beforeAll(async () => {
  bridge = await startAdversarialBridge({
    prepare: async (db, { id }) => {
      await db.query(`CREATE TABLE public.${id}_poison (id serial PRIMARY KEY, marker text, doc jsonb, j json, n numeric, f float8, t timestamptz, b bytea, big int8, txt text)`);
      await db.query(`CREATE TABLE public."${id}_nl\nx" (id serial PRIMARY KEY, marker text)`);
      await db.query(`CREATE TABLE public."${id}_таблица" (id serial PRIMARY KEY, marker text)`);
      await db.query(`ALTER PUBLICATION ${id} ADD TABLE public.${id}_poison, public."${id}_nl\nx", public."${id}_таблица"`);
    },
  });
}, 60_000);

afterAll(async () => {
  await results.write(bridge);
  await bridge?.stop();
}, 30_000);

/**
 * Every poison `marker` sent on `routes` must have reached each target, or be in the dead letters
 * for that target (or for the source, when it could not be decoded). Call after a canary.
 */
async function expectDeliveredOrDeadLettered(markers: readonly string[], routes: readonly string[]): Promise<void> {
  const letters = await bridge.deadLetters();
  const missing: string[] = [];
  for (const marker of markers) {
    for (const route of routes) {
      for (const target of ['amqp', 'webhook'] as const) {
        const delivered = bridge.arrivals.some((a) => a.target === target && a.route === route && a.body.includes(marker));
        const deadLettered = letters.some(
          (d) =>
            (d['upstream'] === upstreamOf[target] || d['upstream'] === 'bridge') &&
            (String(d['payload']).includes(marker) || (Buffer.isBuffer(d['raw']) && d['raw'].includes(marker))),
        );
        if (!delivered && !deadLettered) missing.push(`${marker} via ${route} to ${target}`);
      }
    }
  }
  results.lost(missing.length);
  expect(missing).toEqual([]);
}

async function canary(): Promise<void> {
  await bridge.assertAlive();
  await bridge.canary(30_000);
}

describe('poison events', () => {
  it('NOTIFY payloads: the longest, odd routing keys, bytes a header cannot carry', async () => {
    const m = (n: number) => `notify-poison-${bridge.id}-${n}`;
    const payloads = [
      ['7,999 bytes of multi-byte text', `k|${m(1)} ${'ж'.repeat(3990)}`.slice(0, 3999)],
      ['a key of 255 bytes', `${'k'.repeat(255)}|${m(2)}`],
      ['a key of 256 bytes', `${'k'.repeat(256)}|${m(3)}`],
      ['a key with CR/LF', `a\r\nX-Injected: 1|${m(4)}`],
      ['a non-Latin-1 key (header value)', `ключ.created|${m(5)}`],
      ['a key with U+2028 and NEL', `k\u2028\u0085|${m(6)}`],
      ['only the separator', `|${m(7)}`],
      ['JSON with | inside', `{"a":"x|y","m":"${m(8)}"}`],
      ['a key of control characters', `\u0001\u0002\u001b[31m|${m(9)}`],
    ] as const;
    for (const [name, payload] of payloads) {
      results.input(`NOTIFY: ${name}`);
      await bridge.db.query(`SELECT pg_notify($1, $2)`, [bridge.channel, payload]);
    }
    await canary();
    await expectDeliveredOrDeadLettered(payloads.map((_, i) => m(i + 1)), ['notify']);
  });

  it('outbox rows: impossible timestamps, headers of every JSON shape, spoofed and broken headers, huge keys and bodies', async () => {
    const m = (n: number) => `outbox-poison-${bridge.id}-${n}`;
    const rows: Array<[string, string]> = [
      ['created_at infinity', `INSERT INTO events.outbox (channel, payload, created_at) VALUES ($1, '${m(1)}', 'infinity')`],
      ['created_at -infinity', `INSERT INTO events.outbox (channel, payload, created_at) VALUES ($1, '${m(2)}', '-infinity')`],
      ['headers of numbers, objects, arrays and null', `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(3)}', '{"n": 1, "o": {"a": [1, 2]}, "z": null, "b": true}')`],
      ['headers that are an array', `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(4)}', '[1, 2, 3]')`],
      ["headers spoofing the bridge's own", `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(5)}', '{"x-event-id": "forged", "x-event-source": "pgoutput", "x-wal-lsn": "0/0", "content-type": "text/html"}')`],
      ['a header value with CR/LF', `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(6)}', jsonb_build_object('x-custom', E'a\\r\\nX-Injected: 1'))`],
      ['a content type with CR/LF', `INSERT INTO events.outbox (channel, payload, content_type) VALUES ($1, '${m(7)}', E'text/plain\\r\\nX-Injected: 1')`],
      ['a routing key of 10,000 bytes', `INSERT INTO events.outbox (channel, payload, routing_key) VALUES ($1, '${m(8)}', repeat('r', 10000))`],
      ['a non-Latin-1 routing key', `INSERT INTO events.outbox (channel, payload, routing_key) VALUES ($1, '${m(9)}', 'ключ.insert')`],
      ['a 5 MB body', `INSERT INTO events.outbox (channel, payload) VALUES ($1, '${m(10)}' || repeat('x', 5000000))`],
      ['1,000 header keys', `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(11)}', (SELECT jsonb_object_agg('h' || i, i::text) FROM generate_series(1, 1000) AS i))`],
      ['a header name with spaces and a colon', `INSERT INTO events.outbox (channel, payload, headers) VALUES ($1, '${m(12)}', '{"bad name: x": "v"}')`],
    ];
    for (const [name, sql] of rows) {
      results.input(`outbox: ${name}`);
      await bridge.db.query(sql, [bridge.channel]);
    }
    await bridge.db.query(`SELECT pg_notify('events_outbox', $1)`, [bridge.channel]);
    await canary();
    await expectDeliveredOrDeadLettered(rows.map((_, i) => m(i + 1)), ['notify']);
    const spoofed = bridge.arrivals.find((a) => a.body.includes(m(5)));
    if (spoofed) {
      // A row's headers may not pass for the bridge's own metadata.
      const spoofedHeaders = [spoofed.headers['x-event-id'], spoofed.headers['x-event-source'], spoofed.headers['x-wal-lsn']];
      if (spoofedHeaders.includes('forged') || spoofedHeaders.includes('pgoutput') || spoofedHeaders.includes('0/0')) results.breach();
      expect(spoofedHeaders).not.toContain('forged');
      expect(spoofedHeaders).not.toContain('pgoutput');
    }
  });

  it('outbox rows whose routing key or content type is 100 MB: dead-lettered without the daemon holding them', async () => {
    const m = (n: number) => `outbox-huge-${bridge.id}-${n}`;
    const rows: Array<[string, string]> = [
      ['a content type of 100 MB', `INSERT INTO events.outbox (channel, payload, content_type) VALUES ($1, '${m(1)}', repeat('c', 100000000))`],
      ['a routing key of 100 MB', `INSERT INTO events.outbox (channel, payload, routing_key) VALUES ($1, '${m(2)}', repeat('r', 100000000))`],
    ];
    const baseline = await bridge.rss();
    let peak = baseline;
    const sampler = setInterval(() => void bridge.rss().then((rss) => (peak = Math.max(peak, rss)), () => undefined), 25);
    try {
      for (const [name, sql] of rows) {
        results.input(`outbox: ${name}`);
        await bridge.db.query(sql, [bridge.channel]);
      }
      await bridge.db.query(`SELECT pg_notify('events_outbox', $1)`, [bridge.channel]);
      await canary();
    } finally {
      clearInterval(sampler);
    }
    await expectDeliveredOrDeadLettered(rows.map((_, i) => m(i + 1)), ['notify']);
    const growth = Math.round((peak - baseline) / 1024 / 1024);
    if (growth > 64) results.breach();
    expect(growth, `RSS grew by ${growth} MiB`).toBeLessThan(64);
  }, 90_000);

  it('row changes: 6,000-deep jsonb, numbers JavaScript cannot hold, infinities, odd table names, large values', async () => {
    const table = `public.${bridge.id}_poison`;
    const m = (n: number) => `wal-poison-${bridge.id}-${n}`;
    const changes: Array<[string, string]> = [
      ['jsonb nested 6,000 deep', `INSERT INTO ${table} (marker, doc) VALUES ('${m(1)}', (repeat('[', 6000) || repeat(']', 6000))::jsonb)`],
      ['json nested 6,000 deep', `INSERT INTO ${table} (marker, j) VALUES ('${m(2)}', (repeat('{"a":', 6000) || '1' || repeat('}', 6000))::json)`],
      ['big and precise numbers in json', `INSERT INTO ${table} (marker, j, doc) VALUES ('${m(3)}', '{"id": 1234567890123456789, "amount": 12345678.123456789012345, "big": 1e400}', '{"id": 1234567890123456789, "amount": 12345678.123456789012345}')`],
      ['int8 and numeric beyond 2^53', `INSERT INTO ${table} (marker, big, n) VALUES ('${m(4)}', 9223372036854775807, 123456789012345678901234567890.123456789)`],
      ['NaN and infinities', `INSERT INTO ${table} (marker, n, f, t) VALUES ('${m(5)}', 'NaN', '-Infinity', 'infinity')`],
      ['bytea with NUL and 0xff', `INSERT INTO ${table} (marker, b) VALUES ('${m(6)}', '\\x00ff00')`],
      ['text with quotes, backslashes, U+2028 and control characters', `INSERT INTO ${table} (marker, txt) VALUES ('${m(7)}', E'"\\\\ \\u2028 \\u0001 \\t')`],
      ['a 5 MB text value', `INSERT INTO ${table} (marker, txt) VALUES ('${m(8)}', repeat('y', 5000000))`],
      ['a table name with a newline', `INSERT INTO public."${bridge.id}_nl\nx" (marker) VALUES ('${m(9)}')`],
      ['a non-Latin-1 table name', `INSERT INTO public."${bridge.id}_таблица" (marker) VALUES ('${m(10)}')`],
      ['an update and a delete of a poison row', `UPDATE ${table} SET marker = '${m(11)}' WHERE marker = '${m(1)}'; DELETE FROM ${table} WHERE marker = '${m(11)}'`],
    ];
    for (const [name, sql] of changes) {
      results.input(`row change: ${name}`);
      await bridge.db.query(sql);
    }
    await canary();
    await expectDeliveredOrDeadLettered(changes.slice(0, 10).map((_, i) => m(i + 1)), ['pgoutput', 'wal2json']);

    // Values are carried losslessly: Postgres's own JSON text, no JavaScript number round trip.
    const precise = bridge.arrivals.find((a) => a.route === 'pgoutput' && a.target === 'amqp' && a.body.includes(m(3)));
    expect(precise, 'the row with precise numbers was not delivered on pgoutput').toBeDefined();
    const body = precise!.body.toString();
    for (const exact of ['1234567890123456789', '12345678.123456789012345', '1e400']) {
      if (!body.includes(exact)) results.breach();
      expect(body).toContain(exact);
    }
    const wide = bridge.arrivals.find((a) => a.route === 'pgoutput' && a.target === 'amqp' && a.body.includes(m(4)));
    expect(wide?.body.toString()).toContain('9223372036854775807');
    expect(wide?.body.toString()).toContain('123456789012345678901234567890.123456789');
  });
});
