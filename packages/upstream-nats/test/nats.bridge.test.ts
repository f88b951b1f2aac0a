import { createBridge } from '@pg-event-bridge/core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsPublisher } from '../src/index.js';
import { natsUrl, provisionStream, uniqueSubject } from './nats-test-helpers.js';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('NOTIFY → NATS JetStream through createBridge', () => {
  it('delivers NOTIFY "signup|hello" on events->subject:<name> to <name>.signup', async () => {
    const stream = await provisionStream(uniqueSubject('events'));
    cleanups.push(() => stream.dispose());
    const name = stream.target.name;
    const channel = `pgeb_${name.replace(/-/g, '_')}`;
    const bridge = createBridge({ postgres: postgresUrl, upstreams: [{ publisher: createNatsPublisher({ url: natsUrl }), rules: `${channel}->subject:${name}` }] });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    const client = new pg.Client(postgresUrl);
    await client.connect();
    cleanups.push(() => client.end());
    await client.query('SELECT pg_notify($1, $2)', [channel, 'signup|hello']);
    const [message] = await stream.inbox.take(1, 10_000);
    expect(message?.routingKey).toBe(`${name}.signup`);
    expect(message?.body.toString()).toBe('hello');
    expect(message?.headers).toMatchObject({ 'x-pg-channel': channel, 'x-routing-key': 'signup' });
  });
});
