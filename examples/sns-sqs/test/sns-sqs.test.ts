import { fileURLToPath } from 'node:url';
import { Collected, localServices, notifyEvents, runTag, startDaemon } from '@pg-event-bridge/example-support';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { channels } from '../generate_events.js';
import { listenEvents } from '../listen_events.js';

// The no-Docker path: fauxqs in-process with the compose file's init.json, config.ini as it is,
// its URIs pointed at the emulator and the local Postgres.
const folder = fileURLToPath(new URL('..', import.meta.url));
let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, init: `${folder}fauxqs/init.json` });
});
afterAll(async () => {
  await fauxqs?.stop();
});

it('forwards snschannel through the SNS topic and sqschannel straight to the queue', async () => {
  const { databaseUrl } = localServices();
  const seen = new Collected();
  const listener = await listenEvents({ endpoint: `http://127.0.0.1:${fauxqs.port}`, onLine: seen.push });
  const aws = `aws://127.0.0.1:${fauxqs.port}`;
  const daemon = await startDaemon({
    args: ['config.ini'],
    cwd: folder,
    env: {
      'PGPROXY_DATABASE-URI': databaseUrl,
      'PGPROXY_UPSTREAM-MYSNS-URI': aws,
      'PGPROXY_UPSTREAM-MYSQS-URI': aws,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
  });
  try {
    const tag = runTag();
    await notifyEvents({ databaseUrl, channels, count: 3, intervalMs: 0, tag, log: () => {} });
    const lines = await seen.waitFor(tag, 6);
    expect(lines.filter((line) => line.startsWith('from-sns '))).toEqual([1, 2, 3].map((i) => `from-sns signup | message ${i} (${tag})`));
    expect(lines.filter((line) => line.startsWith('default '))).toEqual([1, 2, 3].map((i) => `default signup | message ${i} (${tag})`));
  } finally {
    expect(await daemon.stop()).toBe(0);
    await listener.close();
  }
});
