import { fileURLToPath } from 'node:url';
import { Collected, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { expect, it } from 'vitest';
import { channels } from '../generate_events.js';
import { listenEvents } from '../listen_events.js';

// The no-Docker path of the README: config.ini as it is, its URIs pointed at the local services.
it('forwards NOTIFYs on mqttchannel to events/<routing key> with QoS 1', async () => {
  const { databaseUrl, mqttUrl } = localServices();
  const seen = new Collected();
  const listener = await listenEvents({ mqttUrl, onLine: seen.push });
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': databaseUrl, 'PGPROXY_UPSTREAM-MYMQTT-URI': mqttUrl },
  });
  try {
    const tag = runTag();
    await notifyEvents({ databaseUrl, channels, count: 5, intervalMs: 0, tag, log: () => {} });
    expect(await seen.waitFor(tag, 5)).toEqual([1, 2, 3, 4, 5].map((i) => `events/signup | message ${i} (${tag})`));
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
  }
});
