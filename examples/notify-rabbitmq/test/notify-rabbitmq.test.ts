import { fileURLToPath } from 'node:url';
import { Collected, listenAmqp, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { expect, it } from 'vitest';
import { channels } from '../generate_events.js';

// The no-Docker path of the README: config.ini as it is, its URIs pointed at the local services.
it('forwards NOTIFYs on amqpchannel to amq.topic with routing key and body', async () => {
  const { databaseUrl, amqpUrl } = localServices();
  const seen = new Collected();
  const listener = await listenAmqp({ amqpUrl, onLine: seen.push });
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': databaseUrl, 'PGPROXY_UPSTREAM-MYAMQP-URI': amqpUrl },
  });
  try {
    const tag = runTag();
    await notifyEvents({ databaseUrl, channels, count: 5, intervalMs: 0, tag, log: () => {} });
    const lines = await seen.waitFor(tag, 5);
    expect(lines).toEqual([1, 2, 3, 4, 5].map((i) => `signup | message ${i} (${tag})`));
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
  }
});
