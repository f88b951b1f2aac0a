import type { SettingDoc, SettingsReader } from '@pg-event-bridge/core';
import type { AwsBatchOptions } from './aws-batch-options.js';

/**
 * The batching settings of the SNS and SQS upstream kinds, worded for their batch call and target
 * (`awsBatchSettingDocs('PublishBatch', 'topic')`).
 *
 * @example
 * ```ts
 * settings: [...awsSettingDocs, ...awsBatchSettingDocs('SendMessageBatch', 'queue')],
 * ```
 */
export function awsBatchSettingDocs(call: string, target: string): SettingDoc[] {
  return [
    { key: 'fifo_group_by', description: `FIFO ${target}s: MessageGroupId from "channel" or "routingKey".`, default: 'channel' },
    { key: 'max_batch_size', description: `Messages per ${call} call, 1 to 10.`, default: '10' },
    { key: 'max_concurrent_batches', description: `${call} calls in flight per ${target} (above 1, order between batches is not kept; FIFO ${target}s use 1).`, default: '1' },
  ];
}

/**
 * Reads the {@link awsBatchSettingDocs} keys; problems are left in `read` for its `throwIfAny()`.
 *
 * @example
 * ```ts
 * const options = { ...readAwsSettings(config, read), ...readAwsBatchSettings(read) };
 * ```
 */
export function readAwsBatchSettings(read: SettingsReader): AwsBatchOptions {
  return {
    fifoGroupBy: read.oneOf('fifo_group_by', ['channel', 'routingKey'] as const),
    maxBatchSize: read.integer('max_batch_size'),
    maxConcurrentBatches: read.integer('max_concurrent_batches'),
  };
}
