import type { SNSClient, SNSClientConfig } from '@aws-sdk/client-sns';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** SNS refuses messages (body plus message attributes) over 256 KiB. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** PublishBatch takes at most 10 entries. */
export const SNS_MAX_BATCH_ENTRIES = 10;

/** Options of {@link createSnsPublisher}. Give either `client` or the connection options. */
export interface SnsPublisherOptions {
  /** An SNS client the application already has. It is not destroyed by `stop()`. */
  readonly client?: SNSClient;
  /** AWS region. @default the SDK's chain: `AWS_REGION`, then the profile's region */
  readonly region?: string;
  /** Endpoint URL, for an emulator or a VPC endpoint (`http://127.0.0.1:4566`). @default AWS's endpoint for the region */
  readonly endpoint?: string;
  /** Static credentials or a credential provider. @default the SDK's chain: environment, profile, SSO, instance role */
  readonly credentials?: SNSClientConfig['credentials'];
  /** Named profile of `~/.aws/config` / `~/.aws/credentials`. @default `AWS_PROFILE`, else `default` */
  readonly profile?: string;
  /** Any other SNS client setting (`maxAttempts`, `requestHandler`...), applied last. */
  readonly clientConfig?: SNSClientConfig;
  /**
   * FIFO topics (`.fifo`): what becomes the MessageGroupId. `channel` keeps every event of a source
   * in one ordered group; `routingKey` orders per key and lets groups run in parallel (an empty key
   * falls back to the channel). @default 'channel'
   */
  readonly fifoGroupBy?: 'channel' | 'routingKey';
  /** Messages per PublishBatch call, 1 to 10. @default 10 */
  readonly maxBatchSize?: number;
  /**
   * PublishBatch calls in flight per topic. Above 1, order between batches is no longer kept;
   * FIFO topics always use 1. @default 1
   */
  readonly maxConcurrentBatches?: number;
  /** Checks at start that every topic exists (GetTopicAttributes). @default true */
  readonly checkTargets?: boolean;
  /**
   * The largest body accepted, at most 262144. Larger bodies, and messages whose encoded body plus
   * attributes exceed 256 KiB, fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE. @default 262144
   */
  readonly maxPayloadBytes?: number;
}

/** Options after validation, with defaults applied. */
export interface ResolvedSnsOptions extends SnsPublisherOptions {
  readonly fifoGroupBy: 'channel' | 'routingKey';
  readonly maxBatchSize: number;
  readonly maxConcurrentBatches: number;
  readonly checkTargets: boolean;
  readonly maxPayloadBytes: number;
}

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one. */
export function resolveSnsOptions(options: SnsPublisherOptions): ResolvedSnsOptions {
  const problems = new OptionProblems('sns');
  const o = (options ?? {}) as SnsPublisherOptions;
  if (o.client !== undefined && (typeof o.client !== 'object' || typeof (o.client as { send?: unknown }).send !== 'function')) {
    problems.add('client', o.client, 'an SNSClient');
  }
  if (o.client !== undefined && (o.region !== undefined || o.endpoint !== undefined || o.credentials !== undefined || o.profile !== undefined || o.clientConfig !== undefined)) {
    problems.add('client', '<SNSClient>', 'either client or region/endpoint/credentials/profile/clientConfig, not both');
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.region))) problems.add('region', o.region, 'an AWS region such as "us-east-1"');
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) problems.add('endpoint', o.endpoint, 'an http(s) URL such as "http://127.0.0.1:4566"');
  if (o.profile !== undefined && (typeof o.profile !== 'string' || o.profile === '')) problems.add('profile', o.profile, 'a profile name');
  if (o.fifoGroupBy !== undefined && o.fifoGroupBy !== 'channel' && o.fifoGroupBy !== 'routingKey') problems.add('fifoGroupBy', o.fifoGroupBy, '"channel" or "routingKey"');
  if (o.maxBatchSize !== undefined && !isPositiveInteger(o.maxBatchSize, SNS_MAX_BATCH_ENTRIES)) problems.add('maxBatchSize', o.maxBatchSize, 'an integer from 1 to 10');
  if (o.maxConcurrentBatches !== undefined && !isPositiveInteger(o.maxConcurrentBatches, 100)) problems.add('maxConcurrentBatches', o.maxConcurrentBatches, 'an integer from 1 to 100');
  if (o.checkTargets !== undefined && typeof o.checkTargets !== 'boolean') problems.add('checkTargets', o.checkTargets, 'true or false');
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, SNS_MAX_MESSAGE_BYTES)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to ${SNS_MAX_MESSAGE_BYTES}`);
  problems.throwIfAny();
  return Object.freeze({
    ...o,
    fifoGroupBy: o.fifoGroupBy ?? 'channel',
    maxBatchSize: o.maxBatchSize ?? SNS_MAX_BATCH_ENTRIES,
    maxConcurrentBatches: o.maxConcurrentBatches ?? 1,
    checkTargets: o.checkTargets ?? true,
    maxPayloadBytes: o.maxPayloadBytes ?? SNS_MAX_MESSAGE_BYTES,
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
