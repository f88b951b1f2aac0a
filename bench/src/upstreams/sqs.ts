/** NOTIFY → SQS on the fauxqs emulator: SendMessageBatch, one batch in flight per queue. */
import { DeleteQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsPublisher, type SqsPublisherOptions } from '@pg-event-bridge/upstream-sqs';
import { bridgeAttributes, bridgeMetadata } from '../bridge-metadata.js';
import { burstKey, probeKey } from '../payload.js';
import { consumeQueue, createQueue, emulatorConfig } from '../services/aws-emulator.js';
import type { UpstreamScenario } from './upstream-scenario.js';

export const sqs: UpstreamScenario = {
  name: 'sqs',
  label: 'SQS queue (fauxqs), MessageId',
  services: ['fauxqs'],
  events: 10_000,
  async setup({ channels, id, services }) {
    const client = new SQSClient(emulatorConfig(services.fauxqs!));
    const sink = await createQueue(client, `bench-${id}-sink`);
    const probe = await createQueue(client, `bench-${id}-probe`);
    return {
      rules: `${channels.burst}->queue:${sink.url}, ${channels.probe}->queue:${probe.url}`,
      publisherOptions: emulatorConfig(services.fauxqs!) satisfies SqsPublisherOptions,
      client: (to) => ({
        batchSize: 10,
        inFlight: 1,
        describe: 'AWS SDK SendMessageBatch of 10 with the bridge’s message attributes, one call in flight (the publisher’s default, keeps order)',
        send: async (bodies, first) => {
          const Entries = bodies.map((body, i) => ({
            Id: String(i),
            MessageBody: body.toString(),
            MessageAttributes: bridgeAttributes(bridgeMetadata(channels[to], to === 'burst' ? burstKey : probeKey)),
          }));
          const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl: (to === 'burst' ? sink : probe).url, Entries }));
          if (Failed.length > 0) throw new Error(`SendMessageBatch failed from ${first}: ${Failed[0]!.Message}`);
        },
      }),
      consume: async () => consumeQueue(client, probe.url),
      async dispose() {
        for (const queue of [sink, probe]) await client.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
        client.destroy();
      },
    };
  },
  createPublisher: (options) => createSqsPublisher(options as SqsPublisherOptions),
};
