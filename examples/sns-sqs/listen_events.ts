import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isMain, runScript } from '@pg-event-bridge/example-support';

/** The queues fauxqs/init.json creates: `default` (SQS rules) and `from-sns` (subscribed to the topic). */
export const queues = ['default', 'from-sns'];

/**
 * Long-polls each queue and reports every message as `queue routing_key | body` (the bridge sets
 * the `routing_key` message attribute; with raw delivery SNS passes it through).
 */
export async function listenEvents(options: { endpoint: string; onLine: (line: string) => void }) {
  const sqs = new SQSClient({
    endpoint: options.endpoint,
    region: process.env['AWS_REGION'] || 'us-east-1',
    credentials: { accessKeyId: process.env['AWS_ACCESS_KEY_ID'] || 'test', secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] || 'test' },
  });
  const stopping = new AbortController();
  const loops = await Promise.all(
    queues.map(async (queue) => {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
      // Wrapped: an async function returning a promise would wait for the loop to end.
      return {
        loop: (async () => {
          while (!stopping.signal.aborted) {
            const { Messages = [] } = await sqs
              .send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }), { abortSignal: stopping.signal })
              .catch((error: unknown) => (stopping.signal.aborted ? { Messages: [] } : Promise.reject(error)));
            for (const message of Messages) options.onLine(`${queue} ${message.MessageAttributes?.['routing_key']?.StringValue ?? ''} | ${message.Body}`);
            if (Messages.length > 0) {
              await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
            }
          }
        })(),
      };
    }),
  );
  return {
    close: async () => {
      stopping.abort();
      await Promise.all(loops.map(({ loop }) => loop));
      sqs.destroy();
    },
  };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const endpoint = process.env['AWS_ENDPOINT_URL'] || 'http://127.0.0.1:4566';
    const listener = await listenEvents({ endpoint, onLine: (line) => console.log(`[sqs] ${line}`) });
    console.log(`[sqs] polling ${queues.join(', ')} at ${endpoint}; Ctrl-C to stop`);
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
