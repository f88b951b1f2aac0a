import { fileURLToPath } from 'node:url';
import { Collected, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { findFreePort } from '@pg-event-bridge/testkit';
import { expect, it } from 'vitest';
import { channels } from '../generate_events.js';
import { listenEvents } from '../listen_events.js';

// The no-Docker path: serverless-offline on free ports runs the real handler; config.ini as it
// is, its URIs pointed at it and the local Postgres.
it('invokes the function once per NOTIFY on lambdachannel, in order', async () => {
  const { databaseUrl } = localServices();
  const seen = new Collected();
  const lambdaPort = await findFreePort();
  const functions = await listenEvents({ lambdaPort, httpPort: await findFreePort(), websocketPort: await findFreePort(), host: '127.0.0.1', onLine: seen.push });
  try {
    const daemon = await startDaemon({
      args: ['config.ini'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        'PGPROXY_DATABASE-URI': databaseUrl,
        'PGPROXY_UPSTREAM-MYLAMBDA-URI': `aws://127.0.0.1:${lambdaPort}`,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    });
    try {
      const tag = runTag();
      await notifyEvents({ databaseUrl, channels, count: 3, intervalMs: 0, tag, log: () => {} });
      expect(await seen.waitFor(tag, 3)).toEqual([1, 2, 3].map((i) => `lambdachannel signup | message ${i} (${tag})`));
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  } finally {
    await functions.close();
  }
});
