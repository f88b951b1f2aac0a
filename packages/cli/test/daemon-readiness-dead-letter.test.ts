import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { installSchema } from '@pg-event-bridge/core';
import { findFreePort, waitFor } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, sample } from './metrics-http.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const ready = /"msg":"\[cli\] Ready"/;
const database = `pgeb_dlfail_${randomUUID().slice(0, 8)}`;
const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;

let admin: pg.Client;
let hook: Server;
let hookPort: number;
const accepted: string[] = [];

beforeAll(async () => {
  admin = new pg.Client(adminUrl);
  await admin.connect();
  // A database of its own: the shared one may already have an events schema.
  await admin.query(`CREATE DATABASE ${database}`);
  // The receiver refuses "poison" for good (400) and takes everything else.
  hook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (body.startsWith('poison')) return void response.writeHead(400).end('never');
      accepted.push(body);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookPort = (hook.address() as { port: number }).port;
});

afterAll(async () => {
  await killAllDaemons();
  await new Promise((resolve) => hook.close(resolve));
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

describe('a dead letter that cannot be stored', () => {
  it('is logged, counted and makes /readyz 503 with the reason; ready again once it is stored', async () => {
    const channel = `dlfail_${randomUUID().slice(0, 8)}`;
    const port = await findFreePort();
    const daemon = spawnDaemon({
      'PGPROXY_DATABASE-URI': databaseUrl,
      'PGPROXY_DATABASE-INSTALL_SCHEMA': 'off',
      'PGPROXY_UPSTREAM-HOOKS-KIND': 'webhook',
      'PGPROXY_UPSTREAM-HOOKS-URI': `http://127.0.0.1:${hookPort}/`,
      'PGPROXY_UPSTREAM-HOOKS-BRIDGE_CHANNELS': `${channel}->url:in`,
      'PGPROXY_BRIDGE-METRICS_PORT': String(port),
      'PGPROXY_BRIDGE-LEADER_LOCK': 'off',
      'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '2s',
    });
    await daemon.waitForLine(ready);
    const base = `http://127.0.0.1:${port}`;
    expect((await get(`${base}/readyz`)).status).toBe(200);

    const db = new pg.Client(databaseUrl);
    await db.connect();
    try {
      await db.query('select pg_notify($1, $2)', [channel, 'k|poison 1']);
      await waitFor(async () => (await get(`${base}/readyz`)).status === 503, { timeoutMs: 15_000, what: '/readyz 503 while the dead letter cannot be stored' });
      const readyz = (await get(`${base}/readyz`)).json() as { status: string; missing: string[] };
      expect(readyz.status).toBe('not ready');
      expect(readyz.missing.join('\n')).toMatch(/dead letters of upstream hooks for url:in cannot be stored .*dead_letter/);
      await waitFor(async () => (sample((await get(`${base}/metrics`)).text, 'pg_event_bridge_dead_letter_failures_total', { upstream: 'hooks', target: 'url:in' }) ?? 0) >= 2, {
        timeoutMs: 15_000,
        what: 'the failures counted, retried',
      });
      expect(sample((await get(`${base}/metrics`)).text, 'pg_event_bridge_ready')).toBe(0);
      await daemon.waitForLine(/"level":"error".*Could not store a dead letter/);
      expect(daemon.child.exitCode).toBeNull();

      // The condition clears: the schema appears, the waiting dead letter is stored, the line moves.
      await installSchema(databaseUrl);
      await waitFor(async () => (await get(`${base}/readyz`)).status === 200, { timeoutMs: 30_000, what: '/readyz 200 once the dead letter is stored' });
      const stored = await db.query<{ n: number }>(`select count(*)::int as n from events.dead_letter where payload = 'poison 1' and upstream = 'hooks'`);
      expect(stored.rows[0]!.n).toBe(1);
      await db.query('select pg_notify($1, $2)', [channel, 'k|after']);
      await waitFor(() => accepted.includes('after'), { timeoutMs: 15_000, what: 'the next event delivered' });
    } finally {
      await db.end();
    }
  }, 90_000);
});
