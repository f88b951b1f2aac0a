import { BridgeError } from '@pg-event-bridge/core';

interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const throttling = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException', 'RequestThrottled', 'RequestThrottledException', 'RequestLimitExceeded', 'SlowDown', 'KMSThrottlingException', 'EC2ThrottledException']);
const notFound = new Set(['NotFound', 'NotFoundException', 'ResourceNotFoundException', 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);
// Credentials or permissions: a configuration problem that hits every message alike. Retrying holds
// the line (nothing is lost) instead of dead-lettering the whole stream.
const denied = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError', 'AuthorizationErrorException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch', 'ExpiredToken', 'ExpiredTokenException', 'InvalidSignatureException', 'CredentialsProviderError', 'KMSAccessDeniedException', 'KMSDisabledException']);

/**
 * Maps an AWS SDK failure to a BridgeError: throttling, 5xx and network errors are retryable
 * (ERR_BRIDGE_UPSTREAM_UNAVAILABLE); a missing resource is ERR_BRIDGE_TARGET_MISSING, retryable so a
 * deleted-and-recreated topic or queue does not dead-letter the stream; denied credentials are
 * retryable ERR_BRIDGE_UPSTREAM_REJECTED; other client faults are permanent rejections.
 *
 * @example
 * ```ts
 * throw classifyAwsError('sqs', `SendMessageBatch to "orders"`, raw);
 * ```
 */
export function classifyAwsError(upstream: string, what: string, error: unknown): BridgeError {
  if (BridgeError.isInstance(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const detail = `${name}: ${(e.message ?? String(error)).slice(0, 300)}`;
  const status = e.$metadata?.httpStatusCode;
  const make = (code: ConstructorParameters<typeof BridgeError>[0], retryable: boolean, hint = '') =>
    new BridgeError(code, `[${upstream}] ${what} failed: ${detail}${hint}`, { retryable, cause: error });
  if (name === 'AbortError') return make('ERR_BRIDGE_ABORTED', false);
  if (throttling.has(name) || status === 429) return make('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
  if (notFound.has(name)) return make('ERR_BRIDGE_TARGET_MISSING', true, ' (create it, or fix the rule)');
  if (denied.has(name) || status === 401 || status === 403) return make('ERR_BRIDGE_UPSTREAM_REJECTED', true, ' (check the credentials and their permissions)');
  if (name === 'RequestEntityTooLargeException' || name === 'RequestTooLargeException' || status === 413) return make('ERR_BRIDGE_PAYLOAD_TOO_LARGE', false);
  // A 2xx whose answer the SDK could not read (not JSON or XML, cut short): the request may or
  // may not have been handled, and nothing says the message is at fault, so it is retried.
  if (status === undefined || status >= 500 || (status >= 200 && status < 300) || e.$fault === 'server') return make('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true);
  return make('ERR_BRIDGE_UPSTREAM_REJECTED', false);
}

/**
 * ERR_BRIDGE_CONFIG when `error` says the SDK found no region (a configuration error no retry will
 * fix), else undefined. Checked where a publisher first talks to AWS.
 *
 * @example
 * ```ts
 * const noRegion = missingRegionError('sns', raw);
 * if (noRegion) throw noRegion;
 * ```
 */
export function missingRegionError(upstream: string, error: unknown): BridgeError | undefined {
  if (!(error instanceof Error && /region is missing/i.test(error.message))) return undefined;
  return new BridgeError('ERR_BRIDGE_CONFIG', `[${upstream}] No AWS region: set the region option (or AWS_REGION, or a profile with a region)`, { cause: error });
}
