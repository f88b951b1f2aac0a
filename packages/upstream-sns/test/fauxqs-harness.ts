import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';
import { startFauxqs } from 'fauxqs';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const region = 'us-east-1';

/** A fauxqs emulator on a free loopback port, with SDK clients pointed at it. */
export async function startEmulator() {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sns = new SNSClient({ endpoint, region, credentials });
  const sqs = new SQSClient({ endpoint, region, credentials });
  return {
    endpoint,
    sns,
    sqs,
    async stop() {
      sns.destroy();
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

/** A fresh topic subscribed by a fresh queue with raw message delivery, consumed into an inbox. */
export async function provisionTopic(emulator: Emulator, fifo = false): Promise<TestTarget<SqsMessage> & { topicArn: string }> {
  const name = `bridge-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`;
  const { TopicArn } = await emulator.sns.send(new CreateTopicCommand({ Name: name, Attributes: fifo ? { FifoTopic: 'true' } : {} }));
  const queue = await consumeQueue(emulator, name, fifo);
  await emulator.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue.queueArn, Attributes: { RawMessageDelivery: 'true' } }));
  return {
    topicArn: TopicArn!,
    target: { kind: 'topic', name: TopicArn! },
    inbox: queue.inbox,
    async dispose() {
      await queue.dispose();
      await emulator.sns.send(new DeleteTopicCommand({ TopicArn }));
    },
  };
}
