import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

// One daemon, one NOTIFY channel, three upstreams of different kinds configured the
// pg-event-proxy way: the same `signup|hello` must reach a subscriber of each on `<name>.signup`.
const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

let db: pg.Client;
let dir: string;

beforeAll(async () => {
  db = new pg.Client(postgresUrl);
  await db.connect();
  dir = await mkdtemp(join(tmpdir(), 'pg-event-bridge-kinds-'));
});
afterAll(async () => {
  await killAllDaemons();
  await db.end();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves with the first value `subscribe` hands to its callback, or fails after 15 s. */
function first<T>(what: string, subscribe: (deliver: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived at ${what}`)), 15_000);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('pg-event-bridge with mqtt, redis and nats upstreams', () => {
  it('delivers NOTIFY signup|hello to a subscriber of <name>.signup on each broker', async () => {
    const id = randomUUID().slice(0, 8);
    const channel = `kinds_${id}`;
    const topic = `events_${id}`;

    const mqttClient = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    await mqttClient.subscribeAsync(`${topic}.signup`, { qos: 1 });
    const viaMqtt = first<[string, string]>('mqtt', (deliver) => mqttClient.on('message', (t, payload) => deliver([t, payload.toString()])));

    const redis = new Redis('redis://127.0.0.1:6379');
    await redis.subscribe(`${topic}.signup`);
    const viaRedis = first<[string, string]>('redis', (deliver) => redis.on('message', (c: string, m: string) => deliver([c, m])));

    const nc = await connectNats({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    const stream = `KINDS_${id}`;
    await jsm.streams.add({ name: stream, subjects: [`${topic}.>`] });
    const consumer = await jetstream(nc).consumers.get(stream);
    const viaNats = consumer.next({ expires: 15_000 });

    const file = join(dir, `${id}.ini`);
    await writeFile(
      file,
      [
        '[database]',
        `uri=${postgresUrl}`,
        '[upstream.mymqtt]',
        'kind=mqtt',
        'uri=tcp://127.0.0.1:1883',
        `bridge_channels=${channel}->topic:${topic}`,
        '[upstream.myredis]',
        'kind=redis',
        'uri=redis://127.0.0.1:6379',
        `bridge_channels=${channel}->topic:${topic}`,
        '[upstream.mynats]',
        'kind=nats',
        'uri=nats://127.0.0.1:4222',
        `bridge_channels=${channel}->subject:${topic}`,
        '',
      ].join('\n'),
    );
    const daemon = spawnDaemon({}, [file]);
    try {
      await daemon.waitForLine(/"msg":"\[cli\] Ready"/);
      await db.query('SELECT pg_notify($1, $2)', [channel, 'signup|hello']);

      expect(await viaMqtt).toEqual([`${topic}.signup`, 'hello']);
      expect(await viaRedis).toEqual([`${topic}.signup`, 'hello']);
      const message = await viaNats;
      expect([message?.subject, message?.string()]).toEqual([`${topic}.signup`, 'hello']);

      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
    } finally {
      await mqttClient.endAsync();
      redis.disconnect();
      await jsm.streams.delete(stream);
      await nc.close();
    }
  });
});
