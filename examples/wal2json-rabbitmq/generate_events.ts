import pg from 'pg';
import { isMain, localServices, numberFromEnv, pause, runScript } from '@pg-event-bridge/example-support';

/**
 * Inserts `count` rows into `foo` and renames each, one per `intervalMs`: every statement is a
 * change the bridge streams from the WAL (`public.foo.insert`, `public.foo.update`).
 */
export async function generateRowChanges(options: { databaseUrl: string; count?: number; intervalMs?: number; tag?: string; log?: (line: string) => void; signal?: AbortSignal }) {
  const { count = 10, intervalMs = 1000, log = console.log } = options;
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'generate_events' });
  await client.connect();
  try {
    await client.query('create table if not exists foo (id serial primary key, name text not null)');
    for (let i = 1; i <= count && !options.signal?.aborted; i++) {
      const name = options.tag ? `row ${i} (${options.tag})` : `row ${i}`;
      const { rows } = await client.query<{ id: number }>('insert into foo (name) values ($1) returning id', [name]);
      await client.query('update foo set name = $2 where id = $1', [rows[0]!.id, `${name} renamed`]);
      log(`-> insert and update foo ${rows[0]!.id}: ${name}`);
      if (i < count) await pause(intervalMs, options.signal);
    }
  } finally {
    await client.end();
  }
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    await generateRowChanges({ databaseUrl: localServices().databaseUrl, count: numberFromEnv('COUNT', 10), intervalMs: numberFromEnv('INTERVAL_MS', 1000), signal });
  });
}
