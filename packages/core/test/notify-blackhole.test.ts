import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, createNotifySource } from '../src/index.js';
import { recordingPublisher } from './recording-publisher.js';

// A blackholed network: the TCP connection opens but no byte ever comes back. The NOTIFY source
// must notice, keep trying (each attempt bounded by its connect timeout) and recover on healing.
const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

/** A TCP proxy to Postgres that can go silent in both directions, on open and new connections alike. */
async function silentProxy() {
  const pairs: Array<{ client: Socket; upstream: Socket }> = [];
  let silent = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted += 1;
    client.on('error', () => undefined);
    const upstream = connect(Number(url.port || 5432), url.hostname);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.push(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    if (silent) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    silence(on: boolean) {
      silent = on;
      for (const { client, upstream } of pairs) {
        if (on) {
          client.pause();
          upstream.pause();
        } else {
          client.resume();
          upstream.resume();
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

const until = async (check: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

let sender: pg.Client;
beforeAll(async () => {
  sender = new pg.Client(url.toString());
  await sender.connect();
});
afterAll(async () => {
  await sender.end();
});

describe('NOTIFY source on a blackholed network', () => {
  it('keeps retrying, each connect bounded by its timeout, and delivers again once the network heals', async () => {
    const proxy = await silentProxy();
    const channel = `bh_${randomUUID().slice(0, 8)}`;
    const { publisher, received } = recordingPublisher();
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    proxied.hostname = '127.0.0.1';
    const bridge = createBridge({
      postgres: proxied.toString(),
      upstreams: [{ publisher, rules: `${channel}->queue:q` }],
      outbox: false,
      notify: { healthCheckIntervalMs: 100, healthCheckTimeoutMs: 300, connectTimeoutMs: 300, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
    });
    const gaps: unknown[] = [];
    bridge.on('gap', (gap) => gaps.push(gap));
    try {
      await bridge.start();
      await sender.query('SELECT pg_notify($1, $2)', [channel, 'before']);
      await until(() => received.length === 1, 'the first notification');

      proxy.silence(true);
      const acceptedBefore = proxy.accepted;
      // Each attempt opens a connection that never answers; without a connect timeout the first would hang for ever.
      await until(() => proxy.accepted >= acceptedBefore + 4, 'four reconnection attempts into the blackhole');
      expect(gaps).toEqual([]);

      proxy.silence(false);
      await until(() => gaps.length === 1, 'the reconnection and its gap report');
      await sender.query('SELECT pg_notify($1, $2)', [channel, 'after']);
      await until(() => received.length === 2, 'the notification after healing');
      expect(received.map((e) => e.body.toString())).toEqual(['before', 'after']);
    } finally {
      await bridge.stop({ timeoutMs: 1000 });
      await proxy.close();
    }
  });

  it('fails to start within its connect timeout instead of hanging in the blackhole', async () => {
    const proxy = await silentProxy();
    proxy.silence(true);
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    proxied.hostname = '127.0.0.1';
    const source = createNotifySource({ postgres: proxied.toString(), channels: ['x'], connectTimeoutMs: 200 });
    const context = {
      deliver: async () => undefined,
      hasCapacity: true,
      waitForCapacity: async () => undefined,
      deadLetter: async () => undefined,
      report() {},
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      signal: new AbortController().signal,
    };
    const started = Date.now();
    await expect(source.start(context)).rejects.toMatchObject({ code: 'ERR_BRIDGE_POSTGRES' });
    expect(Date.now() - started).toBeLessThan(5000);
    await proxy.close();
  });

  it('refuses a reserved WAL source name as a channel', () => {
    expect(() => createNotifySource({ postgres: url.toString(), channels: ['events', 'pgoutput'] })).toThrow(/channels.*pgoutput/s);
  });
});
