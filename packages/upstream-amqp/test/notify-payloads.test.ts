import { randomUUID } from 'node:crypto';
import { createBridge, type Bridge } from '@pg-event-bridge/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpPublisher } from '../src/index.js';
import { Rabbit, rabbitUrl, type AmqpReceived } from './rabbit.js';

// The bad-input corpus for NOTIFY payloads: each one is either delivered byte-exact with the
// documented routing key, or refused by Postgres itself — and the bridge keeps running either way.
const url = 'postgres://postgres@127.0.0.1:5432/postgres';
let rabbit: Rabbit;
let db: pg.Client;
let bridge: Bridge;
let inbox: { take(n: number, t?: number): Promise<AmqpReceived[]> };
let dispose: () => Promise<void>;
const channel = `payloads_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  rabbit = await Rabbit.open();
  const provisioned = await rabbit.provision('exchange');
  inbox = provisioned.inbox;
  dispose = provisioned.dispose;
  bridge = createBridge({ postgres: url, upstreams: [{ publisher: createAmqpPublisher({ url: rabbitUrl }), rules: `${channel}->exchange:${provisioned.target.name}` }] });
  await bridge.start();
  db = new pg.Client(url);
  await db.connect();
});
afterAll(async () => {
  await bridge.stop();
  await db.end();
  await dispose();
  await rabbit.close();
});

const maxPayload = 'x'.repeat(7999); // Postgres' limit: 8000 bytes including the terminator
const cases: Array<[string, string, string, string]> = [
  ['empty', '', '', ''],
  ['only a bar', '|', '', ''],
  ['bars everywhere', 'k|a|b||c|', 'k', 'a|b||c|'],
  ['JSON with bars', '{"cmd":"a|b","list":["|"]}', '', '{"cmd":"a|b","list":["|"]}'],
  ['prose with a bar', 'hello world | goodbye', '', 'hello world | goodbye'],
  ['multi-byte UTF-8', 'clé.é|naïve 😀 ✓', 'clé.é', 'naïve 😀 ✓'],
  ['control characters', 'k|line1\nline2\ttab\r', 'k', 'line1\nline2\ttab\r'],
  ['7999 bytes, the most NOTIFY carries', maxPayload, '', maxPayload],
  ['key of 255 bytes', `${'k'.repeat(255)}|b`, 'k'.repeat(255), 'b'],
  ['key of 256 bytes is not a key', `${'k'.repeat(256)}|b`, '', `${'k'.repeat(256)}|b`],
];

describe('NOTIFY payload corpus', () => {
  it.each(cases)('%s: delivered byte-exact with the documented key', async (_name, payload, key, body) => {
    await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    const [message] = await inbox.take(1);
    expect(message?.routingKey).toBe(key);
    expect(message?.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('a payload over 7999 bytes or with invalid UTF-8 is refused by Postgres, and the bridge carries on', async () => {
    await expect(db.query('SELECT pg_notify($1, $2)', [channel, 'x'.repeat(8000)])).rejects.toThrow(/payload string too long/);
    await expect(db.query(`SELECT pg_notify($1, convert_from('\\xc328'::bytea, 'UTF8'))`, [channel])).rejects.toThrow(/invalid byte sequence/);
    await db.query('SELECT pg_notify($1, $2)', [channel, 'still|alive']);
    const [message] = await inbox.take(1);
    expect([message?.routingKey, message?.body.toString()]).toEqual(['still', 'alive']);
    expect(bridge.stats()).toMatchObject({ deadLettered: 0, gaps: 0 });
  });
});
