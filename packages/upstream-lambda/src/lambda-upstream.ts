import { awsSettingDocs, readAwsSettings } from '@pg-event-bridge/aws-shared';
import { SettingsReader, type UpstreamDefinition } from '@pg-event-bridge/core';
import { createLambdaPublisher } from './lambda-publisher.js';

/**
 * The daemon's `awslambda` kind (alias `lambda`): `uri=aws://us-east-1` (a region) or
 * `uri=aws://host:port` (an endpoint such as serverless-offline), rules `chan->function:<name>`.
 *
 * @example
 * ```ini
 * [upstream.functions]
 * kind = awslambda
 * uri = aws://eu-west-2
 * invocation_type = RequestResponse
 * bridge_channels = orders->function:process-order:live
 * ```
 */
export const lambdaUpstream: UpstreamDefinition = {
  kind: 'awslambda',
  aliases: ['lambda'],
  targetKinds: ['function'],
  description: 'AWS Lambda functions (Invoke with a JSON envelope per event; Event or RequestResponse)',
  settings: [
    ...awsSettingDocs,
    { key: 'invocation_type', description: '"Event" (asynchronous) or "RequestResponse" (waits for the function; its errors fail the event).', default: 'Event' },
    { key: 'function_errors', description: 'RequestResponse: a function error "dead-letter"s the event or "retry"s it.', default: 'dead-letter' },
    { key: 'batch_size', description: 'Events per invocation, 1 to 100; above 1 the payload is an array of envelopes.', default: '1' },
    { key: 'max_invoke_payload_bytes', description: 'Largest invoke payload.', default: '262144 for Event, 6291456 for RequestResponse' },
    { key: 'check_targets', description: 'Check at start that every function exists (DryRun).', default: 'true' },
  ],
  create(config) {
    const read = new SettingsReader(config);
    const options = {
      ...readAwsSettings(config, read),
      invocationType: read.oneOf('invocation_type', ['Event', 'RequestResponse'] as const),
      functionErrors: read.oneOf('function_errors', ['dead-letter', 'retry'] as const),
      batchSize: read.integer('batch_size'),
      maxInvokePayloadBytes: read.integer('max_invoke_payload_bytes'),
      checkTargets: read.boolean('check_targets'),
    };
    read.throwIfAny();
    return createLambdaPublisher(options);
  },
};
