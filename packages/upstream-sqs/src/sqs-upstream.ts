import { awsBatchSettingDocs, awsSettingDocs, readAwsBatchSettings, readAwsSettings } from '@pg-event-bridge/aws-shared';
import { SettingsReader, type UpstreamDefinition } from '@pg-event-bridge/core';
import { createSqsPublisher } from './sqs-publisher.js';

/**
 * The daemon's `awssqs` kind (alias `sqs`): `uri=aws://us-east-1` (a region) or
 * `uri=aws://host:port` (an endpoint such as an emulator), rules `chan->queue:<queue name, URL or ARN>`.
 *
 * @example
 * ```ini
 * [upstream.notifications]
 * kind = awssqs
 * uri = aws://eu-west-2
 * bridge_channels = orders->queue:orders, audit->queue:audit.fifo
 * ```
 */
export const sqsUpstream: UpstreamDefinition = {
  kind: 'awssqs',
  aliases: ['sqs'],
  targetKinds: ['queue'],
  description: 'AWS SQS queues (SendMessageBatch, message attributes routing_key/channel/event_id, FIFO queues)',
  settings: [
    ...awsSettingDocs,
    ...awsBatchSettingDocs('SendMessageBatch', 'queue'),
    { key: 'check_targets', description: 'Check at start that every queue exists (GetQueueUrl / GetQueueAttributes).', default: 'true' },
    { key: 'max_message_bytes', description: 'Size limit of one message (body plus attributes), up to 1048576 for queues that allow it.', default: '262144' },
  ],
  create(config) {
    const read = new SettingsReader(config);
    const options = {
      ...readAwsSettings(config, read),
      ...readAwsBatchSettings(read),
      checkTargets: read.boolean('check_targets'),
      maxMessageBytes: read.integer('max_message_bytes'),
    };
    read.throwIfAny();
    return createSqsPublisher(options);
  },
};
