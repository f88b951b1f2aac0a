import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consumeFrom, type AmqpConsumer } from './amqp-consumer.js';
import { killAllDaemons, spawnDaemon, type DaemonProcess } from './spawn-daemon.js';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const ready = /"msg":"\[cli\] Ready"/;
// A password the daemon is given in failing setups; it must never be printed.
const password = 'n0t-Printed-Ever';

let db: pg.Client;
let dir: string;
const consumers: AmqpConsumer[] = [];

beforeAll(async () => {
  db = new pg.Client(postgresUrl);
  await db.connect();
  dir = await mkdtemp(join(tmpdir(), 'pg-event-bridge-cli-'));
});
afterEach(async () => {
  await killAllDaemons();
  await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
});
afterAll(async () => {
  await db.end();
  await rm(dir, { recursive: true, force: true });
});

const uniqueChannel = () => `cli_${randomUUID().slice(0, 8)}`;
const notify = (channel: string, payload: string) => db.query('select pg_notify($1, $2)', [channel, payload]);
async function consumer(exchange: string, key: string) {
  const created = await consumeFrom(exchange, key);
  consumers.push(created);
  return created;
}
async function stopWithSigterm(daemon: DaemonProcess) {
  daemon.child.kill('SIGTERM');
  return daemon.exited;
}

describe('pg-event-bridge forwards NOTIFY to RabbitMQ', () => {
  it("with pg-event-proxy's generation-1 variables, body and routing key as the seed documents", async () => {
    const channel = uniqueChannel();
    const inbox = await consumer('amq.topic', 'signup');
    const daemon = spawnDaemon({
      'PGPROXY_LOCAL-POSTGRESQL_URI': postgresUrl,
      'PGPROXY_LOCAL-UPSTREAM': 'amqp',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://guest:guest@127.0.0.1:5672//',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': `${channel}->exchange:amq.topic`,
    });
    await daemon.waitForLine(ready);

    await notify(channel, 'signup|A new user signup');
    // amq.topic is shared: pick our message by its text, then check it was delivered exactly.
    const message = await inbox.next((m) => m.content.toString().includes('A new user signup'));
    expect(message.content.toString()).toBe('A new user signup');
    expect(message.fields.routingKey).toBe('signup');
    expect(message.fields.exchange).toBe('amq.topic');

    expect(await stopWithSigterm(daemon)).toEqual({ code: 0, signal: null });
    expect(daemon.output()).not.toContain(':guest@');
  });

  it('with an ini file (generation 2), logging each forwarded message at debug under RUST_LOG', async () => {
    const channel = uniqueChannel();
    const exchange = `pgeb-cli-${randomUUID()}`;
    const inbox = await consumer(exchange, '#');
    const file = join(dir, `${channel}.ini`);
    await writeFile(
      file,
      [
        '[database]',
        `uri=${postgresUrl}`,
        '',
        '[upstream.myamqp]',
        'kind=amqp',
        'uri=amqp://guest:guest@127.0.0.1:5672//',
        `bridge_channels=${channel}->exchange:${exchange}`,
        '',
      ].join('\n'),
    );
    const daemon = spawnDaemon({ RUST_LOG: 'pg_event_proxy=debug' }, [file]);
    await daemon.waitForLine(ready);

    await notify(channel, 'order.created|{"id":1,"note":"a|b"}');
    const message = await inbox.next(() => true);
    expect(message.content.toString()).toBe('{"id":1,"note":"a|b"}');
    expect(message.fields.routingKey).toBe('order.created');
    const logged = JSON.parse(await daemon.waitForLine(/\[cli\] Forwarded/)) as Record<string, unknown>;
    expect(logged).toMatchObject({ level: 'debug', source: channel, target: `exchange:${exchange}`, routingKey: 'order.created' });

    expect((await stopWithSigterm(daemon)).code).toBe(0);
  });

  it('with generation-2 variables only (PGPROXY_DATABASE-URI, PGPROXY_UPSTREAM-<NAME>-*)', async () => {
    const channel = uniqueChannel();
    const exchange = `pgeb-cli-${randomUUID()}`;
    const inbox = await consumer(exchange, 'signup');
    const daemon = spawnDaemon({
      'PGPROXY_DATABASE-URI': postgresUrl,
      'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
      'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
      'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `${channel}->exchange:${exchange}`,
    });
    await daemon.waitForLine(ready);

    await notify(channel, 'signup|A new user signup');
    const message = await inbox.next(() => true);
    expect(message.content.toString()).toBe('A new user signup');

    expect((await stopWithSigterm(daemon)).code).toBe(0);
  });
});

describe('pg-event-bridge refuses bad configuration before connecting (exit 2)', () => {
  const base = {
    'PGPROXY_LOCAL-POSTGRESQL_URI': `postgres://postgres:${password}@127.0.0.1:5432/postgres`,
    'PGPROXY_LOCAL-UPSTREAM': 'amqp',
    'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': `amqp://guest:${password}@127.0.0.1:5672//`,
    'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events->exchange:amq.topic',
  };

  it.each([
    ['malformed BRIDGE_CHANNELS', { 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events:amq.topic' }, /PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS: .*"events:amq\.topic".*events->exchange:amq\.topic/],
    ['an unknown kind', { 'PGPROXY_LOCAL-UPSTREAM': 'kafka' }, /PGPROXY_LOCAL-UPSTREAM = "kafka": unknown upstream kind; known kinds: amqp/],
    ['an unparsable URI', { 'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': `amqp://guest:${password}@127.0.0.1:56x72//` }, /PGPROXY_LOCAL-UPSTREAM_CONFIG-URI = "amqp:\/\/\*\*\*@127\.0\.0\.1:56x72\/\/": not a valid URI/],
    ['a typo in a variable name', { 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANELS': 'x->queue:y' }, /did you mean "bridge_channels"/],
  ])('%s', async (_, override, message) => {
    const daemon = spawnDaemon({ ...base, ...override });
    expect(await daemon.exited).toEqual({ code: 2, signal: null });
    expect(daemon.stderr()).toMatch(message);
    expect(daemon.stderr()).toContain('Nothing was started');
    expect(daemon.output()).not.toContain(password);
  });

  it('a missing ini file', async () => {
    const daemon = spawnDaemon({}, [join(dir, 'nope.ini')]);
    expect((await daemon.exited).code).toBe(2);
    expect(daemon.stderr()).toMatch(/cannot read the configuration file .*nope\.ini/);
  });
});

describe('pg-event-bridge exits 1 with one clear line when it cannot start', () => {
  const env = (overrides: Record<string, string>) => ({
    'PGPROXY_LOCAL-POSTGRESQL_URI': postgresUrl,
    'PGPROXY_LOCAL-UPSTREAM': 'amqp',
    'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://guest:guest@127.0.0.1:5672//',
    'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': `${uniqueChannel()}->exchange:amq.topic`,
    ...overrides,
  });

  it('when the broker is unreachable', async () => {
    const port = await findFreePort();
    const daemon = spawnDaemon(env({ 'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': `amqp://guest:${password}@127.0.0.1:${port}//` }));
    expect((await daemon.exited).code).toBe(1);
    const line = await daemon.waitForLine(/Could not start/);
    expect(JSON.parse(line)).toMatchObject({ level: 'error', code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE' });
    expect(daemon.output()).not.toContain(password);
  });

  it('when the exchange does not exist', async () => {
    const daemon = spawnDaemon(env({ 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': `events->exchange:pgeb-missing-${randomUUID()}` }));
    expect((await daemon.exited).code).toBe(1);
    expect(JSON.parse(await daemon.waitForLine(/Could not start/))).toMatchObject({ code: 'ERR_BRIDGE_TARGET_MISSING' });
  });

  it('when Postgres is unreachable', async () => {
    const port = await findFreePort();
    const daemon = spawnDaemon(env({ 'PGPROXY_LOCAL-POSTGRESQL_URI': `postgres://postgres:${password}@127.0.0.1:${port}/postgres` }));
    expect((await daemon.exited).code).toBe(1);
    expect(JSON.parse(await daemon.waitForLine(/Could not start/))).toMatchObject({ code: 'ERR_BRIDGE_POSTGRES' });
    expect(daemon.output()).not.toContain(password);
  });
});

describe('pg-event-bridge lifecycle and commands', () => {
  it('SIGTERM while idle stops it cleanly with exit 0', async () => {
    const daemon = spawnDaemon({
      'PGPROXY_DATABASE-URI': postgresUrl,
      'PGPROXY_UPSTREAM-MQ-KIND': 'amqp',
      'PGPROXY_UPSTREAM-MQ-URI': 'amqp://guest:guest@127.0.0.1:5672//',
      'PGPROXY_UPSTREAM-MQ-BRIDGE_CHANNELS': `${uniqueChannel()}->exchange:amq.topic`,
      'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '2s',
    });
    await daemon.waitForLine(ready);
    expect(await stopWithSigterm(daemon)).toEqual({ code: 0, signal: null });
    expect(daemon.output()).toMatch(/"msg":"\[cli\] Stopped"/);
  });

  it('check-config prints the effective configuration, secrets hidden, and exits 0', async () => {
    const daemon = spawnDaemon(
      {
        'PGPROXY_LOCAL-POSTGRESQL_URI': `postgres://postgres:${password}@db/app`,
        'PGPROXY_LOCAL-UPSTREAM': 'amqp',
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': `amqp://guest:${password}@rabbit//`,
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events->exchange:amq.topic',
      },
      ['check-config'],
    );
    expect((await daemon.exited).code).toBe(0);
    expect(daemon.output()).toContain('[upstream.local]\nkind = amqp  ; PGPROXY_LOCAL-UPSTREAM\nuri = amqp://guest:***@rabbit//');
    expect(daemon.output()).not.toContain(password);
  });

  it('--version and --help exit 0; an unknown option exits 2', async () => {
    const version = spawnDaemon({}, ['--version']);
    expect((await version.exited).code).toBe(0);
    expect(version.output()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = spawnDaemon({}, ['--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.output()).toContain('PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS');
    expect(help.output()).toContain('kind=amqp');
    const bad = spawnDaemon({}, ['--frobnicate']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain("Unknown option '--frobnicate'");
  });
});
