import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** The classic SQS message limit (body plus attributes), and the default here. */
export const SQS_DEFAULT_MESSAGE_BYTES = 262_144;
/** The largest message SQS accepts when the queue's MaximumMessageSize allows it (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SendMessageBatch takes at most 10 entries. */
export const SQS_MAX_BATCH_ENTRIES = 10;

/** Options of {@link createSqsPublisher}. Give either `client` or the connection options. */
export interface SqsPublisherOptions {
  /** An SQS client the application already has. It is not destroyed by `stop()`. */
  readonly client?: SQSClient;
  /** AWS region. @default the SDK's chain: `AWS_REGION`, then the profile's region */
  readonly region?: string;
  /** Endpoint URL, for an emulator or a VPC endpoint (`http://127.0.0.1:4566`). @default AWS's endpoint for the region */
  readonly endpoint?: string;
  /** Static credentials or a credential provider. @default the SDK's chain: environment, profile, SSO, instance role */
  readonly credentials?: SQSClientConfig['credentials'];
  /** Named profile of `~/.aws/config` / `~/.aws/credentials`. @default `AWS_PROFILE`, else `default` */
  readonly profile?: string;
  /** Any other SQS client setting (`maxAttempts`, `requestHandler`...), applied last. */
  readonly clientConfig?: SQSClientConfig;
  /**
   * FIFO queues (`.fifo`): what becomes the MessageGroupId. `channel` keeps every event of a source
   * in one ordered group; `routingKey` orders per key and lets groups run in parallel (an empty key
   * falls back to the channel). @default 'channel'
   */
  readonly fifoGroupBy?: 'channel' | 'routingKey';
  /** Messages per SendMessageBatch call, 1 to 10. @default 10 */
  readonly maxBatchSize?: number;
  /**
   * SendMessageBatch calls in flight per queue. Above 1, order between batches is no longer kept;
   * FIFO queues always use 1. @default 1
   */
  readonly maxConcurrentBatches?: number;
  /** Checks at start that every queue exists, resolving names to URLs. @default true */
  readonly checkTargets?: boolean;
  /**
   * The size limit of one message, body (as sent) plus attributes, and of one batch request. Raise
   * it up to 1048576 only for queues whose MaximumMessageSize allows it. @default 262144
   */
  readonly maxMessageBytes?: number;
  /** The largest body accepted, at most `maxMessageBytes`. @default maxMessageBytes */
  readonly maxPayloadBytes?: number;
}

/** Options after validation, with defaults applied. */
export interface ResolvedSqsOptions extends SqsPublisherOptions {
  readonly fifoGroupBy: 'channel' | 'routingKey';
  readonly maxBatchSize: number;
  readonly maxConcurrentBatches: number;
  readonly checkTargets: boolean;
  readonly maxMessageBytes: number;
  readonly maxPayloadBytes: number;
}

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one. */
export function resolveSqsOptions(options: SqsPublisherOptions): ResolvedSqsOptions {
  const problems = new OptionProblems('sqs');
  const o = (options ?? {}) as SqsPublisherOptions;
  if (o.client !== undefined && (typeof o.client !== 'object' || typeof (o.client as { send?: unknown }).send !== 'function')) {
    problems.add('client', o.client, 'an SQSClient');
  }
  if (o.client !== undefined && (o.region !== undefined || o.endpoint !== undefined || o.credentials !== undefined || o.profile !== undefined || o.clientConfig !== undefined)) {
    problems.add('client', '<SQSClient>', 'either client or region/endpoint/credentials/profile/clientConfig, not both');
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.region))) problems.add('region', o.region, 'an AWS region such as "us-east-1"');
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) problems.add('endpoint', o.endpoint, 'an http(s) URL such as "http://127.0.0.1:4566"');
  if (o.profile !== undefined && (typeof o.profile !== 'string' || o.profile === '')) problems.add('profile', o.profile, 'a profile name');
  if (o.fifoGroupBy !== undefined && o.fifoGroupBy !== 'channel' && o.fifoGroupBy !== 'routingKey') problems.add('fifoGroupBy', o.fifoGroupBy, '"channel" or "routingKey"');
  if (o.maxBatchSize !== undefined && !isPositiveInteger(o.maxBatchSize, SQS_MAX_BATCH_ENTRIES)) problems.add('maxBatchSize', o.maxBatchSize, 'an integer from 1 to 10');
  if (o.maxConcurrentBatches !== undefined && !isPositiveInteger(o.maxConcurrentBatches, 100)) problems.add('maxConcurrentBatches', o.maxConcurrentBatches, 'an integer from 1 to 100');
  if (o.checkTargets !== undefined && typeof o.checkTargets !== 'boolean') problems.add('checkTargets', o.checkTargets, 'true or false');
  if (o.maxMessageBytes !== undefined && !isPositiveInteger(o.maxMessageBytes, SQS_MAX_MESSAGE_BYTES)) problems.add('maxMessageBytes', o.maxMessageBytes, `an integer from 1 to ${SQS_MAX_MESSAGE_BYTES}`);
  const messageLimit = isPositiveInteger(o.maxMessageBytes, SQS_MAX_MESSAGE_BYTES) ? o.maxMessageBytes : SQS_DEFAULT_MESSAGE_BYTES;
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, messageLimit)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to maxMessageBytes (${messageLimit})`);
  problems.throwIfAny();
  return Object.freeze({
    ...o,
    fifoGroupBy: o.fifoGroupBy ?? 'channel',
    maxBatchSize: o.maxBatchSize ?? SQS_MAX_BATCH_ENTRIES,
    maxConcurrentBatches: o.maxConcurrentBatches ?? 1,
    checkTargets: o.checkTargets ?? true,
    maxMessageBytes: messageLimit,
    maxPayloadBytes: o.maxPayloadBytes ?? messageLimit,
  });
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
