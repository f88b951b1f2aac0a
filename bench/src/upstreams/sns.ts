/** NOTIFY → SNS on the fauxqs emulator: PublishBatch, one batch in flight per topic. */
import { CreateTopicCommand, DeleteTopicCommand, PublishBatchCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSnsPublisher, type SnsPublisherOptions } from '@pg-event-bridge/upstream-sns';
import { bridgeAttributes, bridgeMetadata } from '../bridge-metadata.js';
import { burstKey, probeKey } from '../payload.js';
import { consumeQueue, createQueue, emulatorConfig } from '../services/aws-emulator.js';
import type { UpstreamScenario } from './upstream-scenario.js';

export const sns: UpstreamScenario = {
  name: 'sns',
  label: 'SNS topic (fauxqs), MessageId; probe via SQS',
  services: ['fauxqs'],
  events: 10_000,
  async setup({ channels, id, services }) {
    const client = new SNSClient(emulatorConfig(services.fauxqs!));
    const sqsClient = new SQSClient(emulatorConfig(services.fauxqs!));
    const topic = async (name: string) => (await client.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
    // Throughput events go to a topic with no subscription; probe events reach a consumer through
    // an SQS subscription with raw delivery, so their latency includes SNS → SQS in the emulator.
    const sinkArn = await topic(`bench-${id}-sink`);
    const probeArn = await topic(`bench-${id}-probe`);
    const probeQueue = await createQueue(sqsClient, `bench-${id}-probe`);
    await client.send(new SubscribeCommand({ TopicArn: probeArn, Protocol: 'sqs', Endpoint: probeQueue.arn, Attributes: { RawMessageDelivery: 'true' } }));
    return {
      rules: `${channels.burst}->topic:${sinkArn}, ${channels.probe}->topic:${probeArn}`,
      publisherOptions: emulatorConfig(services.fauxqs!) satisfies SnsPublisherOptions,
      client: (to) => ({
        batchSize: 10,
        inFlight: 1,
        describe: 'AWS SDK PublishBatch of 10 with the bridge’s message attributes, one call in flight (the publisher’s default, keeps order)',
        send: async (bodies, first) => {
          const PublishBatchRequestEntries = bodies.map((body, i) => ({
            Id: String(i),
            Message: body.toString(),
            MessageAttributes: bridgeAttributes(bridgeMetadata(channels[to], to === 'burst' ? burstKey : probeKey)),
          }));
          const { Failed = [] } = await client.send(new PublishBatchCommand({ TopicArn: to === 'burst' ? sinkArn : probeArn, PublishBatchRequestEntries }));
          if (Failed.length > 0) throw new Error(`PublishBatch failed from ${first}: ${Failed[0]!.Message}`);
        },
      }),
      consume: async () => consumeQueue(sqsClient, probeQueue.url),
      async dispose() {
        for (const arn of [sinkArn, probeArn]) await client.send(new DeleteTopicCommand({ TopicArn: arn }));
        await sqsClient.send(new DeleteQueueCommand({ QueueUrl: probeQueue.url }));
        client.destroy();
        sqsClient.destroy();
      },
    };
  },
  createPublisher: (options) => createSnsPublisher(options as SnsPublisherOptions),
};
