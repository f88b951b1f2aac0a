import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { AWS_MAX_BATCH_ENTRIES, resolveAwsBatchOptions, resolveAwsPublisherOptions, type AwsBatchOptions, type AwsPublisherOptions, type ResolvedAwsBatchOptions } from '@pg-event-bridge/aws-shared';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** The classic SQS message limit (body plus attributes), and the default here. */
export const SQS_DEFAULT_MESSAGE_BYTES = 262_144;
/** The largest message SQS accepts when the queue's MaximumMessageSize allows it (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SendMessageBatch takes at most 10 entries. */
export const SQS_MAX_BATCH_ENTRIES = AWS_MAX_BATCH_ENTRIES;

/**
 * Options of {@link createSqsPublisher}. Give either `client` (an SQSClient) or the connection
 * options. `checkTargets` resolves every queue name to its URL at start (GetQueueUrl, or
 * GetQueueAttributes for a URL); `maxBatchSize` counts messages per SendMessageBatch call.
 */
export interface SqsPublisherOptions extends AwsPublisherOptions<SQSClient, SQSClientConfig>, AwsBatchOptions {
  /**
   * The size limit of one message, body (as sent) plus attributes, and of one batch request. Raise
   * it up to 1048576 only for queues whose MaximumMessageSize allows it. @default 262144
   */
  readonly maxMessageBytes?: number;
  /** The largest body accepted, at most `maxMessageBytes`. @default maxMessageBytes */
  readonly maxPayloadBytes?: number;
}

/** Options after validation, with defaults applied. */
export interface ResolvedSqsOptions extends Omit<SqsPublisherOptions, keyof ResolvedAwsBatchOptions>, ResolvedAwsBatchOptions {
  readonly checkTargets: boolean;
  readonly maxMessageBytes: number;
  readonly maxPayloadBytes: number;
}

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one. */
export function resolveSqsOptions(options: SqsPublisherOptions): ResolvedSqsOptions {
  const problems = new OptionProblems('sqs');
  const o = (options ?? {}) as SqsPublisherOptions;
  const shared = resolveAwsPublisherOptions(problems, o, 'an SQSClient', 'http://127.0.0.1:4566');
  const batching = resolveAwsBatchOptions(problems, o);
  if (o.maxMessageBytes !== undefined && !isPositiveInteger(o.maxMessageBytes, SQS_MAX_MESSAGE_BYTES)) problems.add('maxMessageBytes', o.maxMessageBytes, `an integer from 1 to ${SQS_MAX_MESSAGE_BYTES}`);
  const messageLimit = isPositiveInteger(o.maxMessageBytes, SQS_MAX_MESSAGE_BYTES) ? o.maxMessageBytes : SQS_DEFAULT_MESSAGE_BYTES;
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, messageLimit)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to maxMessageBytes (${messageLimit})`);
  problems.throwIfAny();
  return Object.freeze({ ...o, ...shared, ...batching, maxMessageBytes: messageLimit, maxPayloadBytes: o.maxPayloadBytes ?? messageLimit });
}
