/** What the SNS, SQS and Lambda scenarios share: emulator credentials and an SQS probe consumer. */
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { latencyRecorder, type LatencyConsumer } from '../latency.js';

export const awsRegion = 'us-east-1';
export const awsCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Client settings for an emulator at `endpoint` (also the publishers' JSON options). */
export const emulatorConfig = (endpoint: string) => ({ endpoint, region: awsRegion, credentials: awsCredentials });

export async function createQueue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/**
 * Long-polls `queueUrl` with four receivers (one alone falls behind 1,000 messages/s at 10 per
 * call, which would be counted as the bridge's latency) and deletes what it read.
 */
export function consumeQueue(sqs: SQSClient, queueUrl: string): LatencyConsumer {
  const recorder = latencyRecorder();
  const stopping = new AbortController();
  const receive = async () => {
    while (!stopping.signal.aborted) {
      const { Messages = [] } = await sqs
        .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }), { abortSignal: stopping.signal })
        .catch(() => ({ Messages: [] }));
      for (const message of Messages) recorder.record(message.Body ?? '');
      if (Messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    }
  };
  const loops = Array.from({ length: 4 }, receive);
  return {
    latencies: recorder.latencies,
    async stop() {
      stopping.abort();
      await Promise.allSettled(loops);
    },
  };
}
