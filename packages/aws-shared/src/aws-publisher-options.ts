import { isPositiveInteger, type OptionProblems } from '@pg-event-bridge/core';

/** The settings an AWS SDK client config (`SNSClientConfig`, `SQSClientConfig`...) shares. */
export interface AwsClientConfigShape {
  region?: unknown;
  endpoint?: unknown;
  credentials?: unknown;
  profile?: unknown;
}

/**
 * The options every AWS publisher (SNS, SQS, Lambda) takes: either `client`, or the settings the
 * publisher creates its own client from.
 */
export interface AwsPublisherOptions<TClient, TConfig extends AwsClientConfigShape> {
  /** A client the application already has. It is not destroyed by `stop()`. */
  readonly client?: TClient;
  /** AWS region. @default the SDK's chain: `AWS_REGION`, then the profile's region */
  readonly region?: string;
  /** Endpoint URL, for an emulator or a VPC endpoint (`http://127.0.0.1:4566`). @default AWS's endpoint for the region */
  readonly endpoint?: string;
  /** Static credentials or a credential provider. @default the SDK's chain: environment, profile, SSO, instance role */
  readonly credentials?: TConfig['credentials'];
  /** Named profile of `~/.aws/config` / `~/.aws/credentials`. @default `AWS_PROFILE`, else `default` */
  readonly profile?: string;
  /** Any other client setting (`maxAttempts`, `requestHandler`...), applied last. */
  readonly clientConfig?: TConfig;
  /**
   * How long opening a connection to AWS (or the endpoint) may take, in ms. Ignored when
   * `clientConfig.requestHandler` is given. @default 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long one HTTP request may take, response included, in ms: past it the attempt fails (and the
   * SDK retries, up to `clientConfig.maxAttempts`, 3 by default). Ignored when
   * `clientConfig.requestHandler` is given. @default 30000 (Lambda: 120000)
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long {@link Publisher.stop} waits for requests in flight before aborting them (they fail
   * with ERR_BRIDGE_ABORTED), in ms. @default 10000
   */
  readonly stopTimeoutMs?: number;
  /**
   * Checks at start that every target exists (SNS: GetTopicAttributes; SQS: GetQueueUrl or
   * GetQueueAttributes; Lambda: a DryRun invocation). @default true
   */
  readonly checkTargets?: boolean;
}

const region = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Validates the {@link AwsPublisherOptions}, adding every problem to `problems`, and returns the
 * defaults the publisher needs. `expectedClient` names the client class with its article
 * (`an SNSClient`); `endpointExample` is shown when `endpoint` is not an http(s) URL.
 *
 * @example
 * ```ts
 * const problems = new OptionProblems('sns');
 * const shared = resolveAwsPublisherOptions(problems, options, 'an SNSClient', 'http://127.0.0.1:4566');
 * problems.throwIfAny();
 * ```
 */
export function resolveAwsPublisherOptions(
  problems: OptionProblems,
  o: AwsPublisherOptions<unknown, AwsClientConfigShape>,
  expectedClient: string,
  endpointExample: string,
  defaults: { readonly requestTimeoutMs?: number } = {},
): { readonly checkTargets: boolean; readonly connectTimeoutMs: number; readonly requestTimeoutMs: number; readonly stopTimeoutMs: number } {
  if (o.client !== undefined && (typeof o.client !== 'object' || o.client === null || typeof (o.client as { send?: unknown }).send !== 'function')) {
    problems.add('client', o.client, expectedClient);
  }
  if (o.client !== undefined && (o.region !== undefined || o.endpoint !== undefined || o.credentials !== undefined || o.profile !== undefined || o.clientConfig !== undefined)) {
    problems.add('client', `<${expectedClient.replace(/^an? /, '')}>`, 'either client or region/endpoint/credentials/profile/clientConfig, not both');
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || !region.test(o.region))) problems.add('region', o.region, 'an AWS region such as "us-east-1"');
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) problems.add('endpoint', o.endpoint, `an http(s) URL such as "${endpointExample}"`);
  if (o.profile !== undefined && (typeof o.profile !== 'string' || o.profile === '')) problems.add('profile', o.profile, 'a profile name');
  if (o.checkTargets !== undefined && typeof o.checkTargets !== 'boolean') problems.add('checkTargets', o.checkTargets, 'true or false');
  for (const key of ['connectTimeoutMs', 'requestTimeoutMs', 'stopTimeoutMs'] as const) {
    if (o[key] !== undefined && !isPositiveInteger(o[key], 3_600_000)) problems.add(key, o[key], 'an integer from 1 to 3600000');
  }
  return {
    checkTargets: o.checkTargets ?? true,
    connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
    requestTimeoutMs: o.requestTimeoutMs ?? defaults.requestTimeoutMs ?? 30_000,
    stopTimeoutMs: o.stopTimeoutMs ?? 10_000,
  };
}

// The SDK's HTTP handler writes its warnings to the console unless given a logger.
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * The client config of the {@link AwsPublisherOptions}: region, endpoint, credentials and profile
 * when set, an HTTP handler with `connectTimeoutMs` and `requestTimeoutMs` (the SDK has no
 * request timeout of its own, and only warns past one unless told to throw), then `clientConfig`
 * over them.
 *
 * @example
 * ```ts
 * const client = options.client ?? new SNSClient(awsClientConfig(options));
 * ```
 */
export function awsClientConfig<TConfig extends AwsClientConfigShape>(o: AwsPublisherOptions<unknown, TConfig>): TConfig {
  const config: AwsClientConfigShape = {};
  if (o.region !== undefined) config.region = o.region;
  if (o.endpoint !== undefined) config.endpoint = o.endpoint;
  if (o.credentials !== undefined) config.credentials = o.credentials;
  if (o.profile !== undefined) config.profile = o.profile;
  const requestHandler = {
    connectionTimeout: o.connectTimeoutMs ?? 5_000,
    requestTimeout: o.requestTimeoutMs ?? 30_000,
    throwOnRequestTimeout: true,
    logger: quiet,
  };
  return { ...config, requestHandler, ...o.clientConfig } as unknown as TConfig;
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
