import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Collected, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { expect, it } from 'vitest';
import { channels } from '../generate_events.js';
import { listenEvents } from '../listen_events.js';

// The no-Docker path of the README: config.ini as it is, its URIs pointed at the local services.
it('forwards NOTIFYs on redischannel to pub/sub events.<routing key> and to the stream', async () => {
  const { databaseUrl, redisUrl } = localServices();
  const seen = new Collected();
  const listener = await listenEvents({ redisUrl, onLine: seen.push });
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': databaseUrl, 'PGPROXY_UPSTREAM-MYREDIS-URI': redisUrl },
  });
  const redis = new Redis(redisUrl);
  try {
    const tag = runTag();
    await notifyEvents({ databaseUrl, channels, count: 5, intervalMs: 0, tag, log: () => {} });
    expect(await seen.waitFor(tag, 5)).toEqual([1, 2, 3, 4, 5].map((i) => `events.signup | message ${i} (${tag})`));
    const entries = await redis.xrevrange('events-stream', '+', '-', 'COUNT', 50);
    expect(entries.filter(([, fields]) => fields.some((value) => value.includes(tag)))).toHaveLength(5);
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
    await redis.quit();
  }
});
