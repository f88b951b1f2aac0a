import { fileURLToPath } from 'node:url';
import { Collected, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { expect, it } from 'vitest';
import { channels } from '../generate_events.js';
import { listenEvents } from '../listen_events.js';

// The no-Docker path of the README: config.ini as it is, the receiver on a free port.
it('POSTs NOTIFYs on webhookchannel to the receiver, signed with the configured secret', async () => {
  const { databaseUrl } = localServices();
  const seen = new Collected();
  const receiver = await listenEvents({ port: 0, host: '127.0.0.1', onLine: seen.push });
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { 'PGPROXY_DATABASE-URI': databaseUrl, 'PGPROXY_UPSTREAM-MYHOOKS-URI': `http://127.0.0.1:${receiver.port}/` },
  });
  try {
    const tag = runTag();
    await notifyEvents({ databaseUrl, channels, count: 5, intervalMs: 0, tag, log: () => {} });
    expect(await seen.waitFor(tag, 5)).toEqual([1, 2, 3, 4, 5].map((i) => `POST /events signup | message ${i} (${tag})`));
  } finally {
    expect(await daemon.stop()).toBe(0);
    await receiver.close();
  }
});
