/**
 * The direct relay: the simplest bridge there is, as a baseline. A `pg` client LISTENs on one
 * channel and hands each notification's body straight to the broker's own client (the plan of
 * the ceiling), keeping the plan's batch size and calls in flight, with no rules, no ordering
 * guarantees beyond the plan's, no retries and no back-pressure. Fed the same burst as the
 * bridge, it shows what Postgres and the broker reach together on this machine; fed the paced
 * probe stream, the latency the bridge adds.
 */
import pg from 'pg';
import type { PublishPlan } from './ceilings.js';

export interface Relay {
  /** Resolves once the broker acknowledged `count` events in all, or rejects on the first error. */
  acknowledged(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRelay(postgresUrl: string, channel: string, plan: PublishPlan): Promise<Relay> {
  const listener = new pg.Client({ connectionString: postgresUrl, application_name: 'pg-event-bridge-bench-relay' });
  await listener.connect();
  const queue: Buffer[] = [];
  let failure: unknown;
  let inFlight = 0;
  let sequence = 0;
  let acknowledged = 0;
  let waiter: { count: number; resolve: () => void; reject: (error: unknown) => void } | undefined;
  const check = () => {
    if (!waiter) return;
    if (failure !== undefined) waiter.reject(failure);
    else if (acknowledged >= waiter.count) waiter.resolve();
    else return;
    waiter = undefined;
  };
  const pump = () => {
    while (inFlight < plan.inFlight && queue.length > 0) {
      const batch = queue.splice(0, plan.batchSize);
      const first = sequence;
      sequence += batch.length;
      inFlight += 1;
      plan.send(batch, first).then(
        () => {
          inFlight -= 1;
          acknowledged += batch.length;
          check();
          pump();
        },
        (error: unknown) => {
          inFlight -= 1;
          failure ??= error;
          check();
        },
      );
    }
  };
  listener.on('notification', (message) => {
    const payload = message.payload ?? '';
    queue.push(Buffer.from(payload.slice(payload.indexOf('|') + 1)));
    pump();
  });
  await listener.query(`LISTEN "${channel}"`);
  return {
    acknowledged: (count) =>
      new Promise<void>((resolve, reject) => {
        waiter = { count, resolve, reject };
        check();
      }),
    stop: () => listener.end(),
  };
}
