import { awsBatchSettingDocs, awsSettingDocs, readAwsBatchSettings, readAwsSettings } from '@pg-event-bridge/aws-shared';
import { SettingsReader, type UpstreamDefinition } from '@pg-event-bridge/core';
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
    ...awsBatchSettingDocs('PublishBatch', 'topic'),
    { key: 'check_targets', description: 'Check at start that every topic exists.', default: 'true' },
  ],
  create(config) {
    const read = new SettingsReader(config);
    const options = { ...readAwsSettings(config, read), ...readAwsBatchSettings(read), checkTargets: read.boolean('check_targets') };
    read.throwIfAny();
    return createSnsPublisher(options);
  },
};
