import { fileURLToPath } from 'node:url';
import { Collected, listenAmqp, localServices, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { startPrivatePostgres, type PrivatePostgres } from '@pg-event-bridge/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateOrders } from '../generate_events.js';

// The no-Docker path, on a private cluster so the events schema the daemon installs stays out of
// the shared server. Orders written while the daemon is down must arrive once it starts.
let postgres: PrivatePostgres;
beforeAll(async () => {
  postgres = await startPrivatePostgres({ walLevel: 'replica' });
});
afterAll(async () => {
  await postgres?.destroy();
});

const start = () =>
  startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': postgres.url, 'PGPROXY_UPSTREAM-MYAMQP-URI': localServices().amqpUrl },
  });

it('forwards trigger rows and durable send_message calls, including those written while the bridge was down', async () => {
  const seen = new Collected();
  const listener = await listenAmqp({ amqpUrl: localServices().amqpUrl, onLine: seen.push });
  // The first start installs the events schema; then the bridge is stopped and orders are placed.
  expect(await (await start()).stop()).toBe(0);
  const tag = runTag();
  await generateOrders({ databaseUrl: postgres.url, count: 2, intervalMs: 0, tag, log: () => {} });
  const daemon = await start();
  try {
    const lines = await seen.waitFor(tag, 6);
    expect(lines.map((line) => line.split(' | ')[0])).toEqual(['orders.insert', 'orders.update', 'note', 'orders.insert', 'orders.update', 'note']);
    expect(JSON.parse(lines[1]!.split(' | ')[1]!)).toMatchObject({ item: `item 1 (${tag})`, status: 'shipped' });
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
  }
});
