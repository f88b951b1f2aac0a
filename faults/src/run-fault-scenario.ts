import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startFaultProxy, type PrivatePostgres } from '@pg-event-bridge/testkit';
import pg from 'pg';
import type { FaultBroker } from './fault-brokers.js';

export const sourceKinds = ['notify', 'wal', 'outbox'] as const;
export type SourceKind = (typeof sourceKinds)[number];
export const faultKinds = ['cut', 'blackhole', 'broker-restart', 'postgres-restart', 'bridge-kill'] as const;
export type FaultKind = (typeof faultKinds)[number];

/** What one scenario measured. */
export interface FaultResult {
  readonly source: SourceKind;
  readonly broker: FaultBroker['kind'];
  readonly fault: FaultKind;
  readonly faults: number;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly seconds: number;
  /** How the fault was applied when it could not be applied literally. */
  readonly note?: string;
}

export interface FaultScenario {
  readonly postgres: PrivatePostgres;
  readonly broker: FaultBroker;
  readonly source: SourceKind;
  readonly fault: FaultKind;
  /** @default 2000 */
  readonly events?: number;
  /** @default 3 */
  readonly faults?: number;
}

const batchSize = 50;
const batchIntervalMs = 100;
const bin = join(dirname(createRequire(import.meta.url).resolve('@pg-event-bridge/cli/package.json')), 'dist', 'bin.js');

/**
 * Runs the daemon with one source and one broker, sends a steady stream (50 events every 100 ms),
 * applies `faults` faults of one kind spread over the stream, then counts what reached the broker.
 */
export async function runFaultScenario(scenario: FaultScenario): Promise<FaultResult> {
  const { postgres, broker, source, fault } = scenario;
  const events = scenario.events ?? 2000;
  const faults = scenario.faults ?? 3;
  const id = randomUUID().slice(0, 8);
  const name = `f_${source}_${id}`;
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'faults-'));
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
  const collector = await broker.provision(name);
  let db = await connect(postgres.url);
  let note: string | undefined;

  const ruleSource = source === 'wal' ? 'pgoutput' : name;
  if (source === 'wal') await db.query(`CREATE TABLE ${name} (id int PRIMARY KEY); CREATE PUBLICATION ${name} FOR TABLE ${name}`);
  const config = join(dir, 'bridge.ini');
  await writeFile(
    config,
    [
      '[database]',
      `uri=${postgres.url}`,
      ...(source === 'wal' ? [`replication_slot=${name}`, `publication=${name}`] : []),
      '[upstream.faults]',
      ...broker.upstream(proxy.port, ruleSource, name),
      '',
    ].join('\n'),
  );

  let daemon = await startDaemon(config);
  const send = async (from: number, to: number) => {
    const statements: Record<SourceKind, string> = {
      notify: `SELECT pg_notify($1, 'k|' || i) FROM generate_series($2::int, $3::int) AS i`,
      wal: `INSERT INTO ${name} SELECT i FROM generate_series($2::int, $3::int) AS i WHERE $1::text IS NOT NULL`,
      outbox: `SELECT events.send_message($1, i::text, 'k', true) FROM generate_series($2::int, $3::int) AS i`,
    };
    // Like an application, retry a batch that failed (Postgres restarting) until it commits.
    for (;;) {
      try {
        await db.query(statements[source], [name, from, to]);
        return;
      } catch {
        await delay(200);
        db = await connect(postgres.url).catch(() => db);
      }
    }
  };

  const inject = async (): Promise<void> => {
    switch (fault) {
      case 'cut':
        proxy.cut();
        return;
      case 'blackhole':
        proxy.blackhole(true);
        await delay(1500);
        proxy.blackhole(false);
        return;
      case 'broker-restart':
        if (broker.restart) return broker.restart();
        // The shared RabbitMQ must stay up for other tests, and Mosquitto does not keep its queue
        // across restarts here: refuse and drop the bridge's connections instead.
        note = 'connections refused for 1.5 s and cut, instead of a restart';
        proxy.refuse(true);
        proxy.cut();
        await delay(1500);
        proxy.refuse(false);
        return;
      case 'postgres-restart':
        await postgres.restart();
        return;
      case 'bridge-kill':
        daemon.kill('SIGKILL');
        await new Promise((resolve) => daemon.once('exit', resolve));
        daemon = await startDaemon(config);
        return;
    }
  };

  try {
    const every = Math.floor(events / (faults + 1));
    let nextFault = every;
    let injected = 0;
    for (let from = 1; from <= events; from += batchSize) {
      await send(from, Math.min(events, from + batchSize - 1));
      if (from + batchSize - 1 >= nextFault && injected < faults) {
        injected += 1;
        nextFault += every;
        await inject();
      }
      await delay(batchIntervalMs);
    }

    // Wait until everything arrived, or nothing more arrives for 5 s (NOTIFY loses by design).
    const sequence = sequenceOf(source);
    let bodies = await collector.collect();
    let lastCount = -1;
    let quietSince = performance.now();
    for (;;) {
      bodies = await collector.collect();
      const distinct = new Set(bodies.map(sequence)).size;
      if (distinct >= events) break;
      if (bodies.length !== lastCount) {
        lastCount = bodies.length;
        quietSince = performance.now();
      } else if (performance.now() - quietSince > 5000) break;
      await delay(250);
    }
    const seen = new Set<number>();
    let outOfOrder = 0;
    let previous = 0;
    for (const body of bodies) {
      const value = sequence(body);
      if (seen.has(value)) continue;
      seen.add(value);
      if (value < previous) outOfOrder += 1;
      previous = value;
    }
    if (process.env.FAULT_DEBUG) {
      const missing = Array.from({ length: events }, (_, i) => i + 1).filter((n) => !seen.has(n));
      console.info(`[debug] missing ${JSON.stringify(missing.slice(0, 60))}`);
    }
    return {
      source,
      broker: broker.kind,
      fault,
      faults,
      sent: events,
      received: bodies.length,
      lost: events - seen.size,
      duplicates: bodies.length - seen.size,
      outOfOrder,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      ...(note && { note }),
    };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => (daemon.exitCode === null ? daemon.once('exit', resolve) : resolve(undefined)));
    await proxy.close();
    await collector.close();
    if (source === 'wal') await db.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1`, [name]).catch(() => undefined);
    await db.end().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

function sequenceOf(source: SourceKind): (body: Buffer) => number {
  if (source === 'wal') return (body) => (JSON.parse(body.toString()) as { data: { id: number } }).data.id;
  return (body) => Number(body.toString());
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Starts the built daemon and resolves once it logged that it is ready. */
async function startDaemon(config: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, config], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in 20 s:\n${output.slice(-2000)}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"[cli] Ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${output.slice(-2000)}`));
    });
  });
  child.stdout!.resume();
  return child;
}
