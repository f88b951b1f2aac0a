import { BridgeError } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { classifyAwsError, missingRegionError } from './classify-aws-error.js';

function sdkError(name: string, status?: number, fault?: 'client' | 'server') {
  return Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

describe('classifyAwsError', () => {
  it.each([
    ['ThrottlingException', 400, 'client', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['Whatever', 429, 'client', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['QueueDoesNotExist', 400, 'client', 'ERR_BRIDGE_TARGET_MISSING', true],
    ['AccessDeniedException', 403, 'client', 'ERR_BRIDGE_UPSTREAM_REJECTED', true],
    ['RequestEntityTooLargeException', 413, 'client', 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', false],
    ['InternalError', 500, 'server', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['ECONNREFUSED', undefined, undefined, 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
    ['InvalidParameterValue', 400, 'client', 'ERR_BRIDGE_UPSTREAM_REJECTED', false],
    ['AbortError', undefined, undefined, 'ERR_BRIDGE_ABORTED', false],
    ['SyntaxError', 200, 'client', 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', true],
  ] as const)('maps %s (%s) to %s, retryable %s', (name, status, fault, code, retryable) => {
    const error = classifyAwsError('sqs', 'SendMessageBatch to "q"', sdkError(name, status, fault));
    expect(error).toMatchObject({ code, retryable });
    expect(error.message).toMatch(new RegExp(`^\\[sqs\\] SendMessageBatch to "q" failed: ${name}: ${name} happened`));
  });

  it('passes a BridgeError through', () => {
    const original = new BridgeError('ERR_BRIDGE_CONFIG', 'x');
    expect(classifyAwsError('sns', 'y', original)).toBe(original);
  });
});

describe('missingRegionError', () => {
  it('turns the SDK "Region is missing" error into ERR_BRIDGE_CONFIG, and nothing else', () => {
    expect(missingRegionError('lambda', new Error('Region is missing'))).toMatchObject({ code: 'ERR_BRIDGE_CONFIG', retryable: false, message: expect.stringMatching(/^\[lambda\] No AWS region/) });
    expect(missingRegionError('lambda', new Error('socket hang up'))).toBeUndefined();
  });
});
