import { Redis } from 'ioredis';
import { isMain, localServices, runScript } from '@pg-event-bridge/example-support';

/**
 * Pattern-subscribes to `events.*` and reports `channel | message`, what pg-event-proxy-example's
 * `redis-cli monitor` showed. The same events also land in the stream `events-stream`
 * (`redis-cli XRANGE events-stream - +`).
 */
export async function listenEvents(options: { redisUrl: string; pattern?: string; onLine: (line: string) => void }) {
  const client = new Redis(options.redisUrl, { lazyConnect: true });
  await client.connect();
  client.on('pmessage', (_pattern: string, channel: string, message: string) => options.onLine(`${channel} | ${message}`));
  await client.psubscribe(options.pattern ?? 'events.*');
  return { close: async () => void (await client.quit()) };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenEvents({ redisUrl: localServices().redisUrl, onLine: (line) => console.log(`[redis] ${line}`) });
    console.log('[redis] subscribed to events.*; Ctrl-C to stop');
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
