import type { UpstreamDefinition } from '@pg-event-bridge/core';
import { awsSettingDocs, credentialsFrom, endpointRegion } from './internal/aws-credentials.js';
import { parseAwsUri } from './internal/aws-uri.js';
import { SettingsReader } from './internal/settings.js';
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
    const reader = new SettingsReader('lambda', config.settings);
    const uri = parseAwsUri('lambda', config.uri);
    const credentials = credentialsFrom('lambda', reader);
    const region = uri.endpoint !== undefined ? endpointRegion(reader) : (reader.string('region') ?? uri.region);
    return createLambdaPublisher({
      region,
      endpoint: uri.endpoint,
      credentials,
      profile: reader.string('profile'),
      invocationType: reader.oneOf('invocation_type', ['Event', 'RequestResponse'] as const),
      functionErrors: reader.oneOf('function_errors', ['dead-letter', 'retry'] as const),
      batchSize: reader.integer('batch_size'),
      maxInvokePayloadBytes: reader.integer('max_invoke_payload_bytes'),
      checkTargets: reader.boolean('check_targets'),
    });
  },
};
