import type { UpstreamDefinition } from '@pg-event-bridge/core';
import { awsSettingDocs, credentialsFrom, endpointRegion } from './internal/aws-credentials.js';
import { parseAwsUri } from './internal/aws-uri.js';
import { SettingsReader } from './internal/settings.js';
import { createSnsPublisher } from './sns-publisher.js';

/**
 * The daemon's `awssns` kind (alias `sns`): `uri=aws://us-east-1` (a region) or
 * `uri=aws://host:port` (an endpoint such as an emulator), rules `chan->topic:<topic ARN>`.
 *
 * @example
 * ```ini
 * [upstream.notifications]
 * kind = awssns
 * uri = aws://eu-west-2
 * bridge_channels = orders->topic:arn:aws:sns:eu-west-2:123456789012:orders
 * ```
 */
export const snsUpstream: UpstreamDefinition = {
  kind: 'awssns',
  aliases: ['sns'],
  targetKinds: ['topic'],
  description: 'AWS SNS topics (PublishBatch, message attributes routing_key/channel/event_id, FIFO topics)',
  settings: [
    ...awsSettingDocs,
    { key: 'fifo_group_by', description: 'FIFO topics: MessageGroupId from "channel" or "routingKey".', default: 'channel' },
    { key: 'max_batch_size', description: 'Messages per PublishBatch call, 1 to 10.', default: '10' },
    { key: 'max_concurrent_batches', description: 'PublishBatch calls in flight per topic (above 1, order between batches is not kept; FIFO topics use 1).', default: '1' },
    { key: 'check_targets', description: 'Check at start that every topic exists.', default: 'true' },
  ],
  create(config) {
    const reader = new SettingsReader('sns', config.settings);
    const uri = parseAwsUri('sns', config.uri);
    const credentials = credentialsFrom('sns', reader);
    const region = uri.endpoint !== undefined ? endpointRegion(reader) : (reader.string('region') ?? uri.region);
    return createSnsPublisher({
      region,
      endpoint: uri.endpoint,
      credentials,
      profile: reader.string('profile'),
      fifoGroupBy: reader.oneOf('fifo_group_by', ['channel', 'routingKey'] as const),
      maxBatchSize: reader.integer('max_batch_size'),
      maxConcurrentBatches: reader.integer('max_concurrent_batches'),
      checkTargets: reader.boolean('check_targets'),
    });
  },
};
