import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** The largest payload of an asynchronous (`Event`) invocation this publisher sends by default. */
export const LAMBDA_EVENT_PAYLOAD_BYTES = 262_144;
/** The largest payload of a synchronous (`RequestResponse`) invocation: 6 MB. */
export const LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES = 6_291_456;

/** Options of {@link createLambdaPublisher}. Give either `client` or the connection options. */
export interface LambdaPublisherOptions {
  /** A Lambda client the application already has. It is not destroyed by `stop()`. */
  readonly client?: LambdaClient;
  /** AWS region. @default the SDK's chain: `AWS_REGION`, then the profile's region */
  readonly region?: string;
  /** Endpoint URL, for an emulator (`http://127.0.0.1:3002` for serverless-offline). @default AWS's endpoint for the region */
  readonly endpoint?: string;
  /** Static credentials or a credential provider. @default the SDK's chain: environment, profile, SSO, instance role */
  readonly credentials?: LambdaClientConfig['credentials'];
  /** Named profile of `~/.aws/config` / `~/.aws/credentials`. @default `AWS_PROFILE`, else `default` */
  readonly profile?: string;
  /** Any other Lambda client setting (`maxAttempts`, `requestHandler`...), applied last. */
  readonly clientConfig?: LambdaClientConfig;
  /**
   * `Event`: asynchronous; `publish()` resolves once Lambda queued the invocation (202) and the
   * function's own errors are handled by Lambda's retries and destinations. `RequestResponse`:
   * resolves once the function returned; a thrown error is a failure (see `functionErrors`).
   * @default 'Event'
   */
  readonly invocationType?: 'Event' | 'RequestResponse';
  /**
   * What a function error (`RequestResponse` only) does to the event: `dead-letter` (permanent) or
   * `retry` (retryable: the bridge retries with backoff and holds later events). @default 'dead-letter'
   */
  readonly functionErrors?: 'dead-letter' | 'retry';
  /**
   * Events per invocation, 1 to 100. Above 1 the payload is always an array of envelopes, as many
   * as are waiting (no linger), within the payload limit; a failure fails the whole batch. @default 1
   */
  readonly batchSize?: number;
  /**
   * The largest payload (the envelope JSON, or the array) of one invocation.
   * @default 262144 for Event, 6291456 for RequestResponse
   */
  readonly maxInvokePayloadBytes?: number;
  /** The largest event body accepted. @default the invoke payload limit */
  readonly maxPayloadBytes?: number;
  /** Checks at start that every function exists (a DryRun invocation). @default true */
  readonly checkTargets?: boolean;
}

/** Options after validation, with defaults applied. */
export interface ResolvedLambdaOptions extends LambdaPublisherOptions {
  readonly invocationType: 'Event' | 'RequestResponse';
  readonly functionErrors: 'dead-letter' | 'retry';
  readonly batchSize: number;
  readonly maxInvokePayloadBytes: number;
  readonly maxPayloadBytes: number;
  readonly checkTargets: boolean;
}

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one. */
export function resolveLambdaOptions(options: LambdaPublisherOptions): ResolvedLambdaOptions {
  const problems = new OptionProblems('lambda');
  const o = (options ?? {}) as LambdaPublisherOptions;
  if (o.client !== undefined && (typeof o.client !== 'object' || typeof (o.client as { send?: unknown }).send !== 'function')) {
    problems.add('client', o.client, 'a LambdaClient');
  }
  if (o.client !== undefined && (o.region !== undefined || o.endpoint !== undefined || o.credentials !== undefined || o.profile !== undefined || o.clientConfig !== undefined)) {
    problems.add('client', '<LambdaClient>', 'either client or region/endpoint/credentials/profile/clientConfig, not both');
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.region))) problems.add('region', o.region, 'an AWS region such as "us-east-1"');
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) problems.add('endpoint', o.endpoint, 'an http(s) URL such as "http://127.0.0.1:3002"');
  if (o.profile !== undefined && (typeof o.profile !== 'string' || o.profile === '')) problems.add('profile', o.profile, 'a profile name');
  if (o.invocationType !== undefined && o.invocationType !== 'Event' && o.invocationType !== 'RequestResponse') problems.add('invocationType', o.invocationType, '"Event" or "RequestResponse"');
  if (o.functionErrors !== undefined && o.functionErrors !== 'dead-letter' && o.functionErrors !== 'retry') problems.add('functionErrors', o.functionErrors, '"dead-letter" or "retry"');
  if (o.batchSize !== undefined && !isPositiveInteger(o.batchSize, 100)) problems.add('batchSize', o.batchSize, 'an integer from 1 to 100');
  const invocationType = o.invocationType === 'RequestResponse' ? 'RequestResponse' : 'Event';
  const ceiling = invocationType === 'Event' ? LAMBDA_EVENT_PAYLOAD_BYTES * 4 : LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES;
  if (o.maxInvokePayloadBytes !== undefined && !isPositiveInteger(o.maxInvokePayloadBytes, ceiling)) problems.add('maxInvokePayloadBytes', o.maxInvokePayloadBytes, `an integer from 1 to ${ceiling} for ${invocationType}`);
  const invokeLimit = isPositiveInteger(o.maxInvokePayloadBytes, ceiling) ? o.maxInvokePayloadBytes : invocationType === 'Event' ? LAMBDA_EVENT_PAYLOAD_BYTES : LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES;
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, invokeLimit)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to the invoke payload limit (${invokeLimit})`);
  if (o.checkTargets !== undefined && typeof o.checkTargets !== 'boolean') problems.add('checkTargets', o.checkTargets, 'true or false');
  problems.throwIfAny();
  return Object.freeze({
    ...o,
    invocationType,
    functionErrors: o.functionErrors ?? 'dead-letter',
    batchSize: o.batchSize ?? 1,
    maxInvokePayloadBytes: invokeLimit,
    maxPayloadBytes: o.maxPayloadBytes ?? invokeLimit,
    checkTargets: o.checkTargets ?? true,
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
