import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findFreePort, startPrivatePostgres, waitFor, type PrivatePostgres } from '@pg-event-bridge/testkit';
import amqp from 'amqplib';
import pg from 'pg';

const bin = join(dirname(createRequire(import.meta.url).resolve('@pg-event-bridge/cli/package.json')), 'dist', 'bin.js');
const rabbitUrl = 'amqp://guest:guest@127.0.0.1:5672';

/** The rule sources every target of the adversarial bridge is fed from. */
export const sourceNames = ['notify', 'outbox', 'pgoutput', 'wal2json'] as const;
export type SourceName = (typeof sourceNames)[number];

/** One message as a target received it. */
export interface Arrival {
  readonly target: 'amqp' | 'webhook';
  /** The route: `notify` for the channel (NOTIFY and outbox), `pgoutput`, `wal2json`. */
  readonly route: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * How the webhook receiver answers a request whose body contains `hostile:<mode>`. Every other
 * request gets 200 with an empty body.
 */
export type HostileAnswer = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

/** The daemon under attack, its Postgres, its two targets, and the checks every case ends with. */
export interface AdversarialBridge {
  readonly id: string;
  readonly postgres: PrivatePostgres;
  /** A superuser connection to the private cluster. */
  readonly db: pg.Client;
  /** The NOTIFY channel (also the outbox channel) the rules forward. */
  readonly channel: string;
  /** A table whose changes the WAL rules forward (`id serial primary key, note text`). */
  readonly table: string;
  readonly metricsPort: number;
  /** Everything the targets received so far. */
  readonly arrivals: readonly Arrival[];
  /** The daemon's output so far. */
  output(): string;
  /** The daemon's process id. */
  readonly pid: number;
  /** The daemon's resident memory, in bytes (from /proc). */
  rss(): Promise<number>;
  /** Number of times the daemon process has exited on its own. */
  readonly exits: number;
  /** Canaries that did not arrive in full. */
  readonly canariesLost: number;
  /** Answers requests whose body contains `hostile:<mode>` with `answer`. */
  onHostile(mode: string, answer: HostileAnswer): void;
  /**
   * Sends one event through every source (NOTIFY, a durable send, a row change) and waits until
   * each reached both targets. Rejects naming what did not arrive. Returns the canary's token.
   */
  canary(timeoutMs?: number): Promise<string>;
  /** Fails unless the daemon is running and answers /healthz. */
  assertAlive(): Promise<void>;
  /** Waits for an arrival matching `predicate`; resolves with undefined after `timeoutMs`. */
  arrival(predicate: (arrival: Arrival) => boolean, timeoutMs?: number): Promise<Arrival | undefined>;
  /** Rows of events.dead_letter. */
  deadLetters(): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

export interface AdversarialBridgeOptions {
  /** Extra `[bridge]` keys (`metrics_token=...`). */
  readonly bridgeKeys?: readonly string[];
  /** Extra keys of the webhook upstream. */
  readonly webhookKeys?: readonly string[];
  /** Extra `[database]` keys. */
  readonly databaseKeys?: readonly string[];
  /** The database URI the daemon uses. @default the private cluster's superuser */
  readonly daemonUri?: (postgres: PrivatePostgres) => string;
  /** Runs on the private cluster before the daemon starts (roles, grants). */
  readonly prepare?: (db: pg.Client, names: { id: string; channel: string; table: string }) => Promise<void>;
}

/**
 * Starts a private Postgres (wal_level=logical, wal2json), a RabbitMQ consumer, a webhook receiver
 * and the built daemon with rules from a NOTIFY/outbox channel and both WAL plugins to a queue and
 * a webhook URL each.
 */
export async function startAdversarialBridge(options: AdversarialBridgeOptions = {}): Promise<AdversarialBridge> {
  const id = `adv_${randomUUID().slice(0, 8)}`;
  const channel = `${id}_chan`;
  const table = `${id}_rows`;
  const postgres = await startPrivatePostgres();
  const db = new pg.Client(postgres.url);
  await db.connect();
  await db.query(`CREATE TABLE public.${table} (id serial PRIMARY KEY, note text)`);
  await db.query(`CREATE PUBLICATION ${id} FOR TABLE public.${table}`);
  await options.prepare?.(db, { id, channel, table });

  const arrivals: Arrival[] = [];
  const listeners = new Set<() => void>();
  const arrive = (arrival: Arrival) => {
    arrivals.push(arrival);
    for (const listener of [...listeners]) listener();
  };

  // AMQP: one durable-less queue per route, consumed here.
  const connection = await amqp.connect(rabbitUrl);
  const channelAmqp = await connection.createChannel();
  for (const route of ['notify', 'pgoutput', 'wal2json']) {
    const queue = `${id}_${route}`;
    await channelAmqp.assertQueue(queue, { durable: false, autoDelete: false });
    await channelAmqp.consume(queue, (message) => {
      if (message) arrive({ target: 'amqp', route, body: message.content, headers: { ...message.properties.headers, 'message-id': message.properties.messageId } });
    }, { noAck: true });
  }

  // Webhook receiver: 200 for everything but bodies naming a hostile mode.
  const hostile = new Map<string, HostileAnswer>();
  const attempts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const mode = /hostile:([a-z0-9-]+)/.exec(body.toString('latin1'))?.[1];
      const answer = mode ? hostile.get(mode) : undefined;
      if (answer) {
        const attempt = (attempts.get(mode!) ?? 0) + 1;
        attempts.set(mode!, attempt);
        answer(request, response, attempt);
        if (response.statusCode < 300) arrive({ target: 'webhook', route: (request.url ?? '/').slice(1), body, headers: request.headers });
        return;
      }
      arrive({ target: 'webhook', route: (request.url ?? '/').slice(1), body, headers: request.headers });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hookPort = (server.address() as AddressInfo).port;

  const metricsPort = await findFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'adversarial-'));
  const config = join(dir, 'bridge.ini');
  await writeFile(
    config,
    [
      '[database]',
      `uri=${options.daemonUri ? options.daemonUri(postgres) : postgres.url}`,
      `replication_slot=${id}`,
      `publication=${id}`,
      `wal2json_params="format-version" '2', "include-types" '0', "add-tables" 'public.*'`,
      ...(options.databaseKeys ?? []),
      '[bridge]',
      `metrics_port=${metricsPort}`,
      'leader_lock=off',
      'shutdown_timeout=2s',
      ...(options.bridgeKeys ?? []),
      '[upstream.rabbit]',
      'kind=amqp',
      'uri=amqp://guest:guest@127.0.0.1:5672//',
      `bridge_channels=${channel}->queue:${id}_notify, pgoutput->queue:${id}_pgoutput, wal2json->queue:${id}_wal2json`,
      '[upstream.hook]',
      'kind=webhook',
      `uri=http://127.0.0.1:${hookPort}/`,
      'timeout_ms=2000',
      `bridge_channels=${channel}->url:notify, pgoutput->url:pgoutput, wal2json->url:wal2json`,
      ...(options.webhookKeys ?? []),
      '',
    ].join('\n'),
  );

  let output = '';
  let exits = 0;
  let stopping = false;
  let child: ChildProcess;
  const startDaemon = () => {
    child = spawn(process.execPath, [bin, config], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output = keepTail(output + chunk.toString())));
    child.stderr!.on('data', (chunk: Buffer) => (output = keepTail(output + chunk.toString())));
    child.once('exit', () => {
      if (!stopping) exits += 1;
    });
  };
  startDaemon();

  /** The status code of a probe path, or 0 when the daemon does not answer within 2 s. */
  const probe = async (path: '/healthz' | '/readyz'): Promise<number> => {
    try {
      const response = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  };
  await waitFor(async () => (await probe('/readyz')) === 200, { timeoutMs: 30_000, intervalMs: 100, what: 'the daemon to be ready' }).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${output}`);
  });

  const arrival = (predicate: (a: Arrival) => boolean, timeoutMs = 15_000): Promise<Arrival | undefined> =>
    new Promise((resolve) => {
      const check = () => {
        const found = arrivals.find(predicate);
        if (!found) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        resolve(undefined);
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  let canaries = 0;
  let canariesLost = 0;
  const bridge: AdversarialBridge = {
    id,
    postgres,
    db,
    channel,
    table,
    metricsPort,
    arrivals,
    output: () => output,
    get pid() {
      return child.pid!;
    },
    async rss() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    get exits() {
      return exits;
    },
    get canariesLost() {
      return canariesLost;
    },
    onHostile(mode, answer) {
      hostile.set(mode, answer);
    },
    async canary(timeoutMs = 20_000) {
      const token = `canary-${id}-${++canaries}`;
      await db.query(`SELECT pg_notify($1, $2)`, [channel, `canary|notify ${token}`]);
      await db.query(`SELECT events.send_message($1, $2, 'canary', true)`, [channel, `outbox ${token}`]);
      await db.query(`INSERT INTO public.${table} (note) VALUES ($1)`, [`wal ${token}`]);
      const expected: Array<[Arrival['target'], string, string]> = [];
      for (const target of ['amqp', 'webhook'] as const) {
        expected.push([target, 'notify', `notify ${token}`], [target, 'notify', `outbox ${token}`], [target, 'pgoutput', `wal ${token}`], [target, 'wal2json', `wal ${token}`]);
      }
      const missing: string[] = [];
      await Promise.all(
        expected.map(async ([target, route, text]) => {
          const found = await arrival((a) => a.target === target && a.route === route && a.body.includes(text), timeoutMs);
          if (!found) missing.push(`${text} via ${route} to ${target}`);
        }),
      );
      if (missing.length > 0) canariesLost += 1;
      if (missing.length > 0) throw new Error(`canary ${token} did not arrive: ${missing.join('; ')}\n--- daemon output (tail) ---\n${output.slice(-4000)}`);
      return token;
    },
    async assertAlive() {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the daemon exited (${child.exitCode ?? child.signalCode}):\n${output.slice(-4000)}`);
      const status = await probe('/healthz');
      if (status !== 200) throw new Error(`/healthz answered ${status}:\n${output.slice(-4000)}`);
    },
    arrival,
    async deadLetters() {
      return (await db.query(`SELECT * FROM events.dead_letter ORDER BY id`)).rows;
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      for (const route of ['notify', 'pgoutput', 'wal2json']) await channelAmqp.deleteQueue(`${id}_${route}`).catch(() => undefined);
      await connection.close().catch(() => undefined);
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await db.end().catch(() => undefined);
      await postgres.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return bridge;
}

function keepTail(text: string): string {
  return text.length > 200_000 ? text.slice(-100_000) : text;
}
