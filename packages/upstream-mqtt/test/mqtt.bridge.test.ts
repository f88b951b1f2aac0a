import { createBridge } from '@pg-event-bridge/core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttPublisher } from '../src/index.js';
import { subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('NOTIFY → MQTT through createBridge', () => {
  it('delivers NOTIFY "signup|hello" on events->topic:<name> to <name>.signup', async () => {
    const name = uniqueTopic('events');
    const channel = `pgeb_${name.replace(/-/g, '_')}`;
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const bridge = createBridge({ postgres: postgresUrl, upstreams: [{ publisher: createMqttPublisher(), rules: `${channel}->topic:${name}` }] });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    const client = new pg.Client(postgresUrl);
    await client.connect();
    cleanups.push(() => client.end());
    await client.query('SELECT pg_notify($1, $2)', [channel, 'signup|hello']);
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message?.routingKey).toBe(`${name}.signup`);
    expect(message?.body.toString()).toBe('hello');
    expect(message?.headers).toMatchObject({ 'x-pg-channel': channel, 'x-routing-key': 'signup' });
  });
});
