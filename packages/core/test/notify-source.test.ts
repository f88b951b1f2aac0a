import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, type Bridge } from '../src/index.js';
import { recordingPublisher } from './recording-publisher.js';

// These tests exercise the NOTIFY source against the machine's real Postgres. The upstream is an
// in-process recorder so back-pressure can be controlled; brokers are covered by their packages.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const once = <T>(bridge: Bridge, event: 'gap' | 'disconnected' | 'connected') =>
  new Promise<T>((resolve) => bridge.once(event, resolve as never));

let sender: pg.Client;
const bridges: Bridge[] = [];
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  sender = new pg.Client(url);
  await sender.connect();
  process.on('warning', onWarning);
});
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.stop({ timeoutMs: 1000 })));
});
afterAll(async () => {
  process.off('warning', onWarning);
  await sender.end();
});

function start(rules: string, sink = recordingPublisher(), extra: Partial<Parameters<typeof createBridge>[0]> = {}) {
  const applicationName = `notify-test-${randomUUID()}`;
  const bridge = createBridge({ postgres: { connectionString: url, application_name: applicationName }, upstreams: [{ publisher: sink.publisher, rules }], ...extra });
  bridges.push(bridge);
  return { bridge, sink, applicationName };
}

const notify = (channel: string, payload: string) => sender.query('SELECT pg_notify($1, $2)', [channel, payload]);

describe('NOTIFY source', () => {
  it('forwards key|body with the key split off and the body byte-exact, on a case-sensitive channel', async () => {
    const channel = `Ev_${randomUUID().slice(0, 8)}`;
    const { bridge, sink } = start(`${channel}->queue:q`);
    await bridge.start();
    await notify(channel, 'signup|A new user signup');
    await notify(channel, '|hello');
    await notify(channel, '{"text":"a|b","emoji":"😀"}');
    await sink.waitFor(3);
    expect(sink.received.map((e) => [e.source, e.routingKey, e.body.toString('utf8')])).toEqual([
      [channel, 'signup', 'A new user signup'],
      [channel, '', 'hello'],
      [channel, '', '{"text":"a|b","emoji":"😀"}'],
    ]);
    expect(sink.received[2]?.body).toEqual(Buffer.from('{"text":"a|b","emoji":"😀"}'));
  });

  it('listens on several channels without node-postgres warnings about concurrent queries', async () => {
    const channels = [1, 2, 3].map((n) => `multi_${n}_${randomUUID().slice(0, 8)}`);
    const { bridge, sink } = start(channels.map((c) => `${c}->queue:q`).join(', '));
    await bridge.start();
    for (const channel of channels) await notify(channel, `k|${channel}`);
    await sink.waitFor(3);
    expect(sink.received.map((e) => e.source)).toEqual(channels);
    expect(warnings.filter((w) => /already executing a query/.test(w.message))).toEqual([]);
  });

  it('reconnects after its backend is terminated, LISTENs again and reports the gap', async () => {
    const channel = `gap_${randomUUID().slice(0, 8)}`;
    const { bridge, sink, applicationName } = start(`${channel}->queue:q`, recordingPublisher(), { notify: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } } });
    await bridge.start();
    await notify(channel, 'before');
    await sink.waitFor(1);

    const disconnected = once(bridge, 'disconnected');
    const gap = once<{ channels: string[]; from: Date; to: Date }>(bridge, 'gap');
    await sender.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    await disconnected;
    const report = await gap;
    expect(report.channels).toEqual([channel]);
    expect(report.to.getTime()).toBeGreaterThanOrEqual(report.from.getTime());

    await notify(channel, 'after');
    await sink.waitFor(2);
    expect(sink.received.map((e) => e.body.toString())).toEqual(['before', 'after']);
    expect(bridge.stats().gaps).toBe(1);
  });

  it('stops reading while the upstream is full, then delivers everything in order', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const channel = `bp_${randomUUID().slice(0, 8)}`;
    const { bridge, sink } = start(`${channel}->queue:q`, recordingPublisher({ gate }), { delivery: { maxInFlight: 10 } });
    await bridge.start();
    // 5,000 notifications of 1 KiB, committed at once: far more than the window of 10.
    const total = 5000;
    await sender.query(`SELECT pg_notify($1, 'k|' || lpad(i::text, 1024, '0')) FROM generate_series(1, ${total}) AS i`, [channel]);
    // While the gate is shut the bridge holds its window plus at most one socket read (64 KiB,
    // about 60 of these messages), never the backlog. Sample it for 300 ms.
    const held: number[] = [];
    for (const until = Date.now() + 300; Date.now() < until; ) {
      held.push(bridge.stats().inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(Math.max(...held)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...held)).toBeLessThan(200);
    open();
    await sink.waitFor(total);
    expect(sink.received.map((e) => Number(e.body.toString()))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('reads payloads straight off the socket, byte-exact at 7,999 bytes, while health checks pass between them', async () => {
    const channel = `direct_${randomUUID().slice(0, 8)}`;
    const logged: Array<Record<string, unknown>> = [];
    const logger = { debug: (fields: Record<string, unknown>) => void logged.push(fields), info() {}, warn() {}, error() {} };
    const { bridge, sink } = start(`${channel}->queue:q`, recordingPublisher(), { logger, notify: { healthCheckIntervalMs: 5, healthCheckTimeoutMs: 250 } });
    const disconnected: unknown[] = [];
    bridge.on('disconnected', (report) => disconnected.push(report));
    await bridge.start();
    expect(logged).toContainEqual({ directRead: true });
    // Multi-byte characters cut by socket reads anywhere, messages split across reads, and the
    // health checks' replies arriving between notifications.
    const total = 1500;
    const unit = 'é😀k|';
    const key = (i: number) => `key.${String(i).padStart(4, '0')}`;
    const expected = (i: number) => Buffer.from(`${String(i).padStart(6, '0')}${unit.repeat(998)}`);
    expect(Buffer.byteLength(`${key(total)}|`) + expected(total).length).toBe(7999);
    await sender.query(`SELECT pg_notify($1, 'key.' || lpad(i::text, 4, '0') || '|' || lpad(i::text, 6, '0') || repeat($2, 998)) FROM generate_series(1, ${total}) AS i`, [channel, unit]);
    await sink.waitFor(total);
    const wrong = sink.received.filter((e, index) => e.routingKey !== key(index + 1) || !e.body.equals(expected(index + 1)));
    expect(wrong).toEqual([]);
    // Health checks answered all along: a reply lost in the framer would fail one within 250 ms.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(disconnected).toEqual([]);
    expect(bridge.stats().gaps).toBe(0);
  });

  it('falls back to node-postgres\'s notification event when something else also reads the socket', async () => {
    const channel = `fallback_${randomUUID().slice(0, 8)}`;
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('connect', (client) => (client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream.on('data', () => undefined));
    const logged: Array<Record<string, unknown>> = [];
    const logger = { debug: (fields: Record<string, unknown>) => void logged.push(fields), info() {}, warn() {}, error() {} };
    const sink = recordingPublisher();
    const bridge = createBridge({ postgres: pool, upstreams: [{ publisher: sink.publisher, rules: `${channel}->queue:q` }], logger });
    try {
      await bridge.start();
      expect(logged).toContainEqual({ directRead: false });
      await notify(channel, 'clé|naïve 😀 | rest');
      await notify(channel, '{"a":"x|y"}');
      await sink.waitFor(2);
      expect(sink.received.map((e) => [e.routingKey, e.body.toString('hex')])).toEqual([
        ['clé', Buffer.from('naïve 😀 | rest').toString('hex')],
        ['', Buffer.from('{"a":"x|y"}').toString('hex')],
      ]);
    } finally {
      await bridge.stop({ timeoutMs: 1000 });
      await pool.end();
    }
  });

  it('fails to start with ERR_BRIDGE_POSTGRES when Postgres is unreachable', async () => {
    const bridge = createBridge({ postgres: 'postgres://postgres@127.0.0.1:1/postgres', upstreams: [{ publisher: recordingPublisher().publisher, rules: 'x->queue:q' }] });
    await expect(bridge.start()).rejects.toMatchObject({ code: 'ERR_BRIDGE_POSTGRES' });
  });
});
