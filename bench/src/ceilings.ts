/**
 * The raw ceilings a pair is compared with, each measured alone:
 *   - the source: a pg client LISTENing and counting notifications sent as fast as Postgres emits
 *     them (WAL's pg_recvlogical ceiling lives in wal-amqp.ts);
 *   - the broker: its own client publishing bodies of the same size, with the bridge's metadata
 *     (bridge-metadata.ts), the same acknowledgement level and the same in-flight shape as the
 *     bridge's publisher.
 */
import pg from 'pg';
import { round, timeRate } from './measure.js';
import { makeBody } from './payload.js';
import type { NotifySender } from './notify-sender.js';

/** How an upstream's own client publishes: `send` resolves when the broker acknowledged the batch. */
export interface PublishPlan {
  /** Messages per call (10 for PublishBatch/SendMessageBatch, else 1). */
  readonly batchSize: number;
  /** Calls awaiting acknowledgement at once. */
  readonly inFlight: number;
  /** Publishes `bodies`; `first` is the sequence number of the first (unique ids). */
  send(bodies: readonly Buffer[], first: number): Promise<void>;
  /** A sentence for the report: client, acknowledgement, in-flight shape. */
  readonly describe: string;
}

/** What bounds the lower of a pair's ceilings, and the ratio issue 8 asks of the bridge there. */
export type Limit = 'postgres' | 'node-client' | 'broker';

/**
 * `postgres` when the source's ceiling is the lower, else `node-client` when the broker's Node
 * client kept its event loop busy ≥ 90 % of the time publishing alone, else `broker`. The target
 * ratio is 0.5 where the Node client is the limit and 0.8 elsewhere.
 */
export function classifyLimit(sourceCeiling: number, broker: BrokerCeiling): { limit: Limit; target: number } {
  const limit: Limit = sourceCeiling < broker.eventsPerSecond ? 'postgres' : broker.clientLoopBusy >= 0.9 ? 'node-client' : 'broker';
  return { limit, target: limit === 'node-client' ? 0.5 : 0.8 };
}

/** How fast the broker's client publishes alone, and how busy it keeps its own process. */
export interface BrokerCeiling {
  readonly eventsPerSecond: number;
  /** Share of the time the client's event loop was busy (not waiting for I/O): near 1, the Node client is the limit. */
  readonly clientLoopBusy: number;
  /** Cores the client's process kept busy, its helper threads (GC, I/O) included. */
  readonly clientCpuShare: number;
  /** CPU time of the client's process per event, in µs. */
  readonly clientCpuUsPerEvent: number;
}

/**
 * The broker's client alone, publishing `count` bodies of `size` bytes, the best of `rounds` runs
 * (the bridge gets the best of as many).
 */
export async function brokerCeiling(plan: PublishPlan, count: number, size: number, rounds: number): Promise<BrokerCeiling> {
  const body = makeBody(size, 0);
  // Warm-up (JIT, connection, the emulator's first calls), as the bridge gets; not timed.
  await publishWindowed(plan, Math.max(plan.batchSize, Math.round(count / 10)), body);
  let best: BrokerCeiling | undefined;
  for (let round = 0; round < rounds; round++) {
    const run = await timedCeiling(plan, count, body);
    if (!best || run.eventsPerSecond > best.eventsPerSecond) best = run;
  }
  return best!;
}

async function timedCeiling(plan: PublishPlan, count: number, body: Buffer): Promise<BrokerCeiling> {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  const eventsPerSecond = await timeRate(count, () => publishWindowed(plan, count, body));
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuUs = used.user + used.system;
  const clientLoopBusy = round(performance.eventLoopUtilization(loop).utilization);
  return { eventsPerSecond, clientLoopBusy, clientCpuShare: round(cpuUs / 1000 / elapsedMs), clientCpuUsPerEvent: round(cpuUs / count, 1) };
}

function publishWindowed(plan: PublishPlan, count: number, body: Buffer): Promise<void> {
  return (
      new Promise<void>((resolve, reject) => {
        let next = 0;
        let inFlight = 0;
        let done = 0;
        const pump = () => {
          while (next < count && inFlight < plan.inFlight) {
            const batch = Math.min(plan.batchSize, count - next);
            const first = next;
            next += batch;
            inFlight += 1;
            plan.send(new Array<Buffer>(batch).fill(body), first).then(() => {
              inFlight -= 1;
              done += batch;
              if (done === count) resolve();
              else pump();
            }, reject);
          }
        };
        pump();
      })
  );
}

/** Events per second one LISTENing pg client receives while `sender` bursts `count` NOTIFYs. */
export async function notifyCeiling(postgresUrl: string, sender: NotifySender, count: number, size: number): Promise<number> {
  const channel = `bench_ceiling_${process.pid}`;
  const listener = new pg.Client({ connectionString: postgresUrl, application_name: 'pg-event-bridge-bench-listener' });
  await listener.connect();
  await listener.query(`LISTEN "${channel}"`);
  try {
    let received = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    listener.on('notification', () => {
      received += 1;
      if (received === count) resolveAll();
    });
    return await timeRate(count, async () => {
      await sender.burst(channel, count, size);
      await all;
    });
  } finally {
    await listener.end();
  }
}
