import { Collected, listenAmqp, localServices, runTag } from '@pg-event-bridge/example-support';
import { expect, it } from 'vitest';
import { generateSignups } from '../generate_events.js';
import { startService } from '../src/service.js';

// The no-Docker path: the service on the local Postgres and RabbitMQ, its bridge composed in code.
it('forwards the signups the service commits, over its own pool and amqplib connection', async () => {
  const { databaseUrl, amqpUrl } = localServices();
  const seen = new Collected();
  const listener = await listenAmqp({ amqpUrl, bindingKey: 'signup', onLine: seen.push });
  const bridged: string[] = [];
  const service = await startService({ databaseUrl, amqpUrl, log: (line) => bridged.push(line) });
  try {
    const tag = runTag();
    await generateSignups({ serviceUrl: service.url, count: 4, intervalMs: 0, tag, log: () => {} });
    const lines = await seen.waitFor(tag, 4);
    expect(lines.map((line) => JSON.parse(line.split(' | ')[1]!).email)).toEqual([1, 2, 3, 4].map((i) => `user${i}.${tag}@example.com`));
    expect(lines.every((line) => line.startsWith('signup | '))).toBe(true);
  } finally {
    await service.stop();
    await listener.close();
  }
  expect(bridged.filter((line) => line.startsWith('bridged signup'))).toHaveLength(4);
});
