import { isMain, localServices, notifyEvents, numberFromEnv, runScript } from '@pg-event-bridge/example-support';

/** The channels config.ini bridges. */
export const channels = ['amqpchannel'];

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const sent = await notifyEvents({
      databaseUrl: localServices().databaseUrl,
      channels,
      count: numberFromEnv('COUNT', 10),
      intervalMs: numberFromEnv('INTERVAL_MS', 1000),
      signal,
    });
    console.log(`${sent} events sent`);
  });
}
