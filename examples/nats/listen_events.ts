import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { isMain, localServices, runScript } from '@pg-event-bridge/example-support';

/** The stream the bridge publishes into, created (or kept) by {@link listenEvents}. */
export const stream = { name: 'EXAMPLE_EVENTS', subjects: ['example.events', 'example.events.>'] };

/**
 * Creates the JetStream stream when missing, then reads new messages with an ordered consumer and
 * reports each as `subject | body`. Resolves once the stream exists (the bridge needs it).
 */
export async function listenEvents(options: { natsUrl: string; onLine: (line: string) => void }) {
  const nc = await connect({ servers: options.natsUrl.replace(/^nats:\/\//, '') });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(stream.name);
  } catch {
    await jsm.streams.add({ ...stream, max_age: 3_600_000_000_000 /* 1 h in ns */ });
  }
  const consumer = await jetstream(nc).consumers.get(stream.name, { deliver_policy: DeliverPolicy.New });
  const messages = await consumer.consume();
  const reading = (async () => {
    for await (const message of messages) options.onLine(`${message.subject} | ${message.string()}`);
  })();
  return {
    close: async () => {
      await messages.close();
      await reading;
      await nc.close();
    },
  };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenEvents({ natsUrl: localServices().natsUrl, onLine: (line) => console.log(`[nats] ${line}`) });
    console.log(`[nats] reading stream ${stream.name} (${stream.subjects.join(', ')}); Ctrl-C to stop`);
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
