import type { SNSClient, SNSClientConfig } from '@aws-sdk/client-sns';
import { AWS_MAX_BATCH_ENTRIES, resolveAwsBatchOptions, resolveAwsPublisherOptions, type AwsBatchOptions, type AwsPublisherOptions, type ResolvedAwsBatchOptions } from '@pg-event-bridge/aws-shared';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** SNS refuses messages (body plus message attributes) over 256 KiB. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** PublishBatch takes at most 10 entries. */
export const SNS_MAX_BATCH_ENTRIES = AWS_MAX_BATCH_ENTRIES;

/**
 * Options of {@link createSnsPublisher}. Give either `client` (an SNSClient) or the connection
 * options. `checkTargets` checks every topic with GetTopicAttributes; `maxBatchSize` counts
 * messages per PublishBatch call.
 */
export interface SnsPublisherOptions extends AwsPublisherOptions<SNSClient, SNSClientConfig>, AwsBatchOptions {
  /**
   * The largest body accepted, at most 262144. Larger bodies, and messages whose encoded body plus
   * attributes exceed 256 KiB, fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. @default 262144
   */
  readonly maxPayloadBytes?: number;
}

/** Options after validation, with defaults applied. */
export interface ResolvedSnsOptions extends Omit<SnsPublisherOptions, keyof ResolvedAwsBatchOptions>, ResolvedAwsBatchOptions {
  readonly checkTargets: boolean;
  readonly maxPayloadBytes: number;
}

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one. */
export function resolveSnsOptions(options: SnsPublisherOptions): ResolvedSnsOptions {
  const problems = new OptionProblems('sns');
  const o = (options ?? {}) as SnsPublisherOptions;
  const shared = resolveAwsPublisherOptions(problems, o, 'an SNSClient', 'http://127.0.0.1:4566');
  const batching = resolveAwsBatchOptions(problems, o);
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, SNS_MAX_MESSAGE_BYTES)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to ${SNS_MAX_MESSAGE_BYTES}`);
  problems.throwIfAny();
  return Object.freeze({ ...o, ...shared, ...batching, maxPayloadBytes: o.maxPayloadBytes ?? SNS_MAX_MESSAGE_BYTES });
}
