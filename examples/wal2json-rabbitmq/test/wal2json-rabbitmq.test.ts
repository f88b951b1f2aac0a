import { fileURLToPath } from 'node:url';
import { Collected, listenAmqp, localServices, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { startPrivatePostgres, type PrivatePostgres } from '@pg-event-bridge/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateRowChanges } from '../generate_events.js';

// The no-Docker path: a private cluster with wal_level=logical and wal2json stands in for the
// compose Postgres; config.ini as it is, its URIs pointed at that cluster and the local RabbitMQ.
let postgres: PrivatePostgres;
beforeAll(async () => {
  postgres = await startPrivatePostgres();
});
afterAll(async () => {
  await postgres?.destroy();
});

it('streams inserts and updates of foo to amq.topic as wal2json documents', async () => {
  const { amqpUrl } = localServices();
  const seen = new Collected();
  const listener = await listenAmqp({ amqpUrl, bindingKey: 'public.foo.*', onLine: seen.push });
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': postgres.url, 'PGPROXY_UPSTREAM-MYAMQP-URI': amqpUrl },
  });
  try {
    const tag = runTag();
    await generateRowChanges({ databaseUrl: postgres.url, count: 3, intervalMs: 0, tag, log: () => {} });
    const lines = await seen.waitFor(tag, 6);
    expect(lines.map((line) => line.split(' | ')[0])).toEqual(['insert', 'update', 'insert', 'update', 'insert', 'update'].map((a) => `public.foo.${a}`));
    const [key, body] = lines[1]!.split(' | ');
    expect(key).toBe('public.foo.update');
    expect(JSON.parse(body!)).toMatchObject({ action: 'U', schema: 'public', table: 'foo', columns: expect.arrayContaining([{ name: 'name', value: `row 1 (${tag}) renamed` }]) });
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
  }
});
