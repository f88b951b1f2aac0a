import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';
import { resolveAwsPublisherOptions, type AwsPublisherOptions } from '@pg-event-bridge/aws-shared';
import { OptionProblems, isPositiveInteger } from '@pg-event-bridge/core';

/** The largest payload of an asynchronous (`Event`) invocation this publisher sends by default. */
export const LAMBDA_EVENT_PAYLOAD_BYTES = 262_144;
/** The largest payload of a synchronous (`RequestResponse`) invocation: 6 MB. */
export const LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES = 6_291_456;

/**
 * Options of {@link createLambdaPublisher}. Give either `client` (a LambdaClient) or the
 * connection options (`endpoint`: `http://127.0.0.1:3002` for serverless-offline). `checkTargets`
 * checks every function with a DryRun invocation.
 */
export interface LambdaPublisherOptions extends AwsPublisherOptions<LambdaClient, LambdaClientConfig> {
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
  // A synchronous invocation lasts as long as the function runs.
  const shared = resolveAwsPublisherOptions(problems, o, 'a LambdaClient', 'http://127.0.0.1:3002', { requestTimeoutMs: 120_000 });
  if (o.invocationType !== undefined && o.invocationType !== 'Event' && o.invocationType !== 'RequestResponse') problems.add('invocationType', o.invocationType, '"Event" or "RequestResponse"');
  if (o.functionErrors !== undefined && o.functionErrors !== 'dead-letter' && o.functionErrors !== 'retry') problems.add('functionErrors', o.functionErrors, '"dead-letter" or "retry"');
  if (o.batchSize !== undefined && !isPositiveInteger(o.batchSize, 100)) problems.add('batchSize', o.batchSize, 'an integer from 1 to 100');
  const invocationType = o.invocationType === 'RequestResponse' ? 'RequestResponse' : 'Event';
  const ceiling = invocationType === 'Event' ? LAMBDA_EVENT_PAYLOAD_BYTES * 4 : LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES;
  if (o.maxInvokePayloadBytes !== undefined && !isPositiveInteger(o.maxInvokePayloadBytes, ceiling)) problems.add('maxInvokePayloadBytes', o.maxInvokePayloadBytes, `an integer from 1 to ${ceiling} for ${invocationType}`);
  const invokeLimit = isPositiveInteger(o.maxInvokePayloadBytes, ceiling) ? o.maxInvokePayloadBytes : invocationType === 'Event' ? LAMBDA_EVENT_PAYLOAD_BYTES : LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES;
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes, invokeLimit)) problems.add('maxPayloadBytes', o.maxPayloadBytes, `an integer from 1 to the invoke payload limit (${invokeLimit})`);
  problems.throwIfAny();
  return Object.freeze({
    ...o,
    ...shared,
    invocationType,
    functionErrors: o.functionErrors ?? 'dead-letter',
    batchSize: o.batchSize ?? 1,
    maxInvokePayloadBytes: invokeLimit,
    maxPayloadBytes: o.maxPayloadBytes ?? invokeLimit,
  });
}
