import mqtt from 'mqtt';
import { isMain, localServices, runScript } from '@pg-event-bridge/example-support';

/** Subscribes to `events/#` and reports every message as `topic | payload`, like mosquitto_sub -v. */
export async function listenEvents(options: { mqttUrl: string; filter?: string; onLine: (line: string) => void }) {
  const client = await mqtt.connectAsync(options.mqttUrl);
  client.on('message', (topic, payload) => options.onLine(`${topic} | ${payload.toString()}`));
  await client.subscribeAsync(options.filter ?? 'events/#', { qos: 1 });
  return { close: () => client.endAsync() };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenEvents({ mqttUrl: localServices().mqttUrl, onLine: (line) => console.log(`[mqtt] ${line}`) });
    console.log('[mqtt] subscribed to events/#; Ctrl-C to stop');
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
