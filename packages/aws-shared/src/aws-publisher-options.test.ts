import { OptionProblems } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { resolveAwsBatchOptions } from './aws-batch-options.js';
import { awsClientConfig, resolveAwsPublisherOptions } from './aws-publisher-options.js';

function problemsOf(fill: (problems: OptionProblems) => void): string {
  const problems = new OptionProblems('sns');
  fill(problems);
  try {
    problems.throwIfAny();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('resolveAwsPublisherOptions', () => {
  it('defaults checkTargets to true and accepts a client alone', () => {
    const client = { send: async () => undefined };
    expect(resolveAwsPublisherOptions(new OptionProblems('sns'), { client }, 'an SNSClient', 'http://127.0.0.1:4566')).toEqual({ checkTargets: true, connectTimeoutMs: 5000, requestTimeoutMs: 30000, stopTimeoutMs: 10000 });
  });

  it('lists every bad connection option at once', () => {
    const message = problemsOf((problems) =>
      resolveAwsPublisherOptions(problems, { client: {} as never, region: 'moon', endpoint: 'ftp://x', profile: '', checkTargets: 'yes' as never }, 'a LambdaClient', 'http://127.0.0.1:3002'),
    );
    expect(message).toBe(
      '[sns] Invalid options: client: expected a LambdaClient, got <object>; client: expected either client or region/endpoint/credentials/profile/clientConfig, not both, got "<LambdaClient>"; region: expected an AWS region such as "us-east-1", got "moon"; endpoint: expected an http(s) URL such as "http://127.0.0.1:3002", got "ftp://x"; profile: expected a profile name, got ""; checkTargets: expected true or false, got "yes"',
    );
  });
});

describe('awsClientConfig', () => {
  it('sets only what was given, then clientConfig over it', () => {
    expect(awsClientConfig({ region: 'eu-west-2', profile: 'ops' })).toMatchObject({ region: 'eu-west-2', profile: 'ops' });
    expect(awsClientConfig({ region: 'eu-west-2', clientConfig: { region: 'us-east-1', maxAttempts: 1 } as never })).toMatchObject({ region: 'us-east-1', maxAttempts: 1 });
  });

  it('gives the HTTP handler a connection and a request deadline that throws, unless clientConfig brings its own handler', () => {
    expect(awsClientConfig({ connectTimeoutMs: 700, requestTimeoutMs: 900 })).toMatchObject({ requestHandler: { connectionTimeout: 700, requestTimeout: 900, throwOnRequestTimeout: true } });
    expect(awsClientConfig({})).toMatchObject({ requestHandler: { connectionTimeout: 5000, requestTimeout: 30000 } });
    const own = { handle: () => undefined };
    expect(awsClientConfig({ clientConfig: { requestHandler: own } as never })).toMatchObject({ requestHandler: own });
  });
});

describe('resolveAwsBatchOptions', () => {
  it('applies the defaults and names bad values', () => {
    expect(resolveAwsBatchOptions(new OptionProblems('sqs'), {})).toEqual({ fifoGroupBy: 'channel', maxBatchSize: 10, maxConcurrentBatches: 1 });
    expect(problemsOf((problems) => resolveAwsBatchOptions(problems, { fifoGroupBy: 'table' as never, maxBatchSize: 11, maxConcurrentBatches: 0 }))).toBe(
      '[sns] Invalid options: fifoGroupBy: expected "channel" or "routingKey", got "table"; maxBatchSize: expected an integer from 1 to 10, got 11; maxConcurrentBatches: expected an integer from 1 to 100, got 0',
    );
  });
});
