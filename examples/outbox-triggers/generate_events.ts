import pg from 'pg';
import { isMain, localServices, numberFromEnv, pause, runScript } from '@pg-event-bridge/example-support';

/** The table, its trigger (durable: rows go through events.outbox, no 8000-byte NOTIFY limit). */
const setup = `
  create table if not exists orders (id serial primary key, item text not null, status text not null default 'new');
  create or replace trigger orders_events after insert or update or delete on orders
    for each row execute function events.on_row_change('orderevents');
`;

/**
 * Places `count` orders and ships each (two row changes through the trigger), plus one
 * `events.send_message(..., durable => true)` per order, pg-event-proxy's durable call. Everything
 * lands in the outbox in the writing transaction; the bridge forwards it even if it was down.
 */
export async function generateOrders(options: { databaseUrl: string; count?: number; intervalMs?: number; tag?: string; log?: (line: string) => void; signal?: AbortSignal }) {
  const { count = 10, intervalMs = 1000, log = console.log } = options;
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'generate_events' });
  await client.connect();
  try {
    await client.query(setup);
    for (let i = 1; i <= count && !options.signal?.aborted; i++) {
      const item = options.tag ? `item ${i} (${options.tag})` : `item ${i}`;
      await client.query('begin');
      const { rows } = await client.query<{ id: number }>('insert into orders (item) values ($1) returning id', [item]);
      await client.query(`update orders set status = 'shipped' where id = $1`, [rows[0]!.id]);
      await client.query(`select events.send_message('orderevents', $1, 'note', true)`, [`order ${rows[0]!.id} shipped: ${item}`]);
      await client.query('commit');
      log(`-> order ${rows[0]!.id}: ${item}`);
      if (i < count) await pause(intervalMs, options.signal);
    }
  } finally {
    await client.end();
  }
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    await generateOrders({ databaseUrl: localServices().databaseUrl, count: numberFromEnv('COUNT', 10), intervalMs: numberFromEnv('INTERVAL_MS', 1000), signal });
  });
}
