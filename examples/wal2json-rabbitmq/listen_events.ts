import { isMain, listenAmqp, localServices, runScript } from '@pg-event-bridge/example-support';

// Prints the row changes reaching amq.topic: `public.foo.insert | {"action":"I",...}`.
if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenAmqp({ amqpUrl: localServices().amqpUrl, bindingKey: 'public.#', onLine: (line) => console.log(`[amqp] ${line}`) });
    console.log('[amqp] listening on amq.topic (public.#); Ctrl-C to stop');
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
