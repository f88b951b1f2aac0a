import { isMain, listenAmqp, localServices, runScript } from '@pg-event-bridge/example-support';

// Prints the signups reaching amq.topic: `signup | {"id":1,"email":"user1@example.com"}`.
if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const listener = await listenAmqp({ amqpUrl: localServices().amqpUrl, bindingKey: 'signup', onLine: (line) => console.log(`[amqp] ${line}`) });
    console.log('[amqp] listening on amq.topic (signup); Ctrl-C to stop');
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
