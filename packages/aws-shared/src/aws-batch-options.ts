import { isPositiveInteger, type OptionProblems } from '@pg-event-bridge/core';
import type { FifoGroupBy } from './fifo-fields.js';

/** SNS PublishBatch and SQS SendMessageBatch take at most 10 entries. */
export const AWS_MAX_BATCH_ENTRIES = 10;

/** The batching options of the SNS and SQS publishers. */
export interface AwsBatchOptions {
  /**
   * FIFO topics and queues (`.fifo`): what becomes the MessageGroupId. `channel` keeps every event
   * of a source in one ordered group; `routingKey` orders per key and lets groups run in parallel
   * (an empty key falls back to the channel). @default 'channel'
   */
  readonly fifoGroupBy?: FifoGroupBy;
  /** Messages per batch call (PublishBatch, SendMessageBatch), 1 to 10. @default 10 */
  readonly maxBatchSize?: number;
  /**
   * Batch calls in flight per topic or queue. Above 1, order between batches is no longer kept;
   * FIFO targets always use 1. @default 1
   */
  readonly maxConcurrentBatches?: number;
}

/** {@link AwsBatchOptions} with defaults applied. */
export interface ResolvedAwsBatchOptions {
  readonly fifoGroupBy: FifoGroupBy;
  readonly maxBatchSize: number;
  readonly maxConcurrentBatches: number;
}

/**
 * Validates the {@link AwsBatchOptions}, adding every problem to `problems`, and applies the
 * defaults.
 *
 * @example
 * ```ts
 * const batching = resolveAwsBatchOptions(problems, options);
 * ```
 */
export function resolveAwsBatchOptions(problems: OptionProblems, o: AwsBatchOptions): ResolvedAwsBatchOptions {
  if (o.fifoGroupBy !== undefined && o.fifoGroupBy !== 'channel' && o.fifoGroupBy !== 'routingKey') problems.add('fifoGroupBy', o.fifoGroupBy, '"channel" or "routingKey"');
  if (o.maxBatchSize !== undefined && !isPositiveInteger(o.maxBatchSize, AWS_MAX_BATCH_ENTRIES)) problems.add('maxBatchSize', o.maxBatchSize, `an integer from 1 to ${AWS_MAX_BATCH_ENTRIES}`);
  if (o.maxConcurrentBatches !== undefined && !isPositiveInteger(o.maxConcurrentBatches, 100)) problems.add('maxConcurrentBatches', o.maxConcurrentBatches, 'an integer from 1 to 100');
  return {
    fifoGroupBy: o.fifoGroupBy ?? 'channel',
    maxBatchSize: o.maxBatchSize ?? AWS_MAX_BATCH_ENTRIES,
    maxConcurrentBatches: o.maxConcurrentBatches ?? 1,
  };
}
