import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';
import { startFauxqs } from 'fauxqs';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const region = 'us-east-1';

/** A fauxqs emulator on a free loopback port, with SDK clients pointed at it. */
export async function startEmulator() {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({ endpoint, region, credentials });
  return {
    endpoint,
    sqs,
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}
export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/** Decodes what the SNS/SQS publishers send back into the original bytes. */
export function decodeBody(text: string, attributes: Record<string, string>): Buffer {
  if (attributes.body_encoding === 'base64') return Buffer.from(text, 'base64');
  if (attributes.body_encoding === 'empty') return Buffer.alloc(0);
  return Buffer.from(text, 'utf8');
}

/** Received by the test consumer, with the SQS message attributes and FIFO fields. */
export interface SqsMessage extends ReceivedMessage {
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** Creates a queue and a consumer that long-polls it into an inbox. */
export async function consumeQueue(emulator: Emulator, name: string, fifo = false) {
  const created = await emulator.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true' } : {} }),
  );
  const queueUrl = created.QueueUrl!;
  const { Attributes } = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const inbox = new MessageInbox<SqsMessage>();
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const result = await emulator.sqs
        .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }), { abortSignal: stopping.signal })
        .catch((error: unknown) => {
          if (stopping.signal.aborted) return { Messages: [] };
          throw error;
        });
      const messages = result.Messages ?? [];
      for (const message of messages) {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(message.MessageAttributes ?? {})) if (value.StringValue !== undefined) headers[key] = value.StringValue;
        inbox.push({
          body: decodeBody(message.Body ?? '', headers),
          routingKey: headers.routing_key ?? '',
          headers,
          groupId: message.Attributes?.MessageGroupId,
          deduplicationId: message.Attributes?.MessageDeduplicationId,
        });
      }
      if (messages.length > 0) {
        await emulator.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    }
  })();
  return {
    queueUrl,
    queueArn: Attributes!.QueueArn!,
    inbox,
    async dispose() {
      stopping.abort();
      await loop;
      await emulator.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    },
  };
}

/** A fresh queue, consumed into an inbox. Targets name it by `name`, or by URL when `byUrl`. */
export async function provisionQueue(emulator: Emulator, options: { fifo?: boolean; byUrl?: boolean } = {}): Promise<TestTarget<SqsMessage> & { queueUrl: string }> {
  const name = `bridge-${randomUUID().slice(0, 8)}${options.fifo ? '.fifo' : ''}`;
  const queue = await consumeQueue(emulator, name, options.fifo);
  return {
    queueUrl: queue.queueUrl,
    target: { kind: 'queue', name: options.byUrl ? queue.queueUrl : name },
    inbox: queue.inbox,
    dispose: () => queue.dispose(),
  };
}
