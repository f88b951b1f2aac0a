import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { TestTarget } from '@pg-event-bridge/testkit';
// The fauxqs emulator and the SQS consumer are the SQS package's test harness; SNS adds topics.
import { consumeQueue, credentials, region, startEmulator as startSqsEmulator, type Emulator as SqsEmulator, type SqsMessage } from '../../upstream-sqs/test/fauxqs-harness.js';

export { credentials, region, type SqsMessage };

/** The SQS harness's emulator, with an SNS client pointed at it as well. */
export interface Emulator extends SqsEmulator {
  readonly sns: SNSClient;
}

/** A fauxqs emulator on a free loopback port, with SNS and SQS clients pointed at it. */
export async function startEmulator(): Promise<Emulator> {
  const base = await startSqsEmulator();
  const sns = new SNSClient({ endpoint: base.endpoint, region, credentials });
  return {
    ...base,
    sns,
    async stop() {
      sns.destroy();
      await base.stop();
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
