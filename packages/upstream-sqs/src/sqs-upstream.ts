import type { UpstreamDefinition } from '@pg-event-bridge/core';
import { awsSettingDocs, credentialsFrom, endpointRegion } from './internal/aws-credentials.js';
import { parseAwsUri } from './internal/aws-uri.js';
import { SettingsReader } from './internal/settings.js';
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
    { key: 'fifo_group_by', description: 'FIFO queues: MessageGroupId from "channel" or "routingKey".', default: 'channel' },
    { key: 'max_batch_size', description: 'Messages per SendMessageBatch call, 1 to 10.', default: '10' },
    { key: 'max_concurrent_batches', description: 'SendMessageBatch calls in flight per queue (above 1, order between batches is not kept; FIFO queues use 1).', default: '1' },
    { key: 'check_targets', description: 'Check at start that every queue exists (GetQueueUrl / GetQueueAttributes).', default: 'true' },
    { key: 'max_message_bytes', description: 'Size limit of one message (body plus attributes), up to 1048576 for queues that allow it.', default: '262144' },
  ],
  create(config) {
    const reader = new SettingsReader('sqs', config.settings);
    const uri = parseAwsUri('sqs', config.uri);
    const credentials = credentialsFrom('sqs', reader);
    const region = uri.endpoint !== undefined ? endpointRegion(reader) : (reader.string('region') ?? uri.region);
    return createSqsPublisher({
      region,
      endpoint: uri.endpoint,
      credentials,
      profile: reader.string('profile'),
      fifoGroupBy: reader.oneOf('fifo_group_by', ['channel', 'routingKey'] as const),
      maxBatchSize: reader.integer('max_batch_size'),
      maxConcurrentBatches: reader.integer('max_concurrent_batches'),
      checkTargets: reader.boolean('check_targets'),
      maxMessageBytes: reader.integer('max_message_bytes'),
    });
  },
};
