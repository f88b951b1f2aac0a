import { isMain, listenAmqp, localServices, runScript } from '@pg-event-bridge/example-support';

// Prints what reaches amq.topic from the outbox: `orders.insert | {"id":1,...}`, `note | order 1 shipped`.
if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenAmqp({ amqpUrl: localServices().amqpUrl, onLine: (line) => console.log(`[amqp] ${line}`) });
    console.log('[amqp] listening on amq.topic (#); Ctrl-C to stop');
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
