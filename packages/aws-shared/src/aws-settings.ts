import { BridgeError, type SettingDoc, type SettingsReader, type UpstreamConfig } from '@pg-event-bridge/core';
import { parseAwsUri } from './parse-aws-uri.js';

/** The connection settings every AWS upstream kind of the daemon reads. */
export const awsSettingDocs: readonly SettingDoc[] = [
  { key: 'region', description: 'AWS region. With uri=aws://host:port (an emulator) it defaults to AWS_REGION, else us-east-1; otherwise the SDK chain (AWS_REGION, profile) applies.' },
  { key: 'profile', description: 'Named profile of ~/.aws/config and ~/.aws/credentials.', default: 'AWS_PROFILE, else default' },
  { key: 'access_key_id', description: 'Static access key id (with secret_access_key). Without it the SDK chain applies: environment, profile, SSO, container or instance role.' },
  { key: 'secret_access_key', description: 'Static secret access key (never logged).' },
  { key: 'session_token', description: 'Session token of temporary credentials (never logged).' },
  { key: 'connect_timeout_ms', description: 'Longest time to open a connection to AWS, in ms.', default: '5000' },
  { key: 'request_timeout_ms', description: 'Longest time for one HTTP request, response included, in ms; then the SDK retries (3 attempts in all).', default: '30000 (Lambda: 120000)' },
  { key: 'stop_timeout_ms', description: 'How long stopping waits for requests in flight before aborting them, in ms.', default: '10000' },
];

/** What {@link readAwsSettings} returns: the connection options of an AWS publisher. */
export interface AwsConnectionSettings {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  readonly profile: string | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number | undefined;
  readonly stopTimeoutMs: number | undefined;
}

/**
 * Reads the `uri` (see {@link parseAwsUri}) and the {@link awsSettingDocs} keys of an AWS upstream
 * section. With an endpoint URI (`aws://host:port`, an emulator) the region is the setting, else
 * AWS_REGION, else us-east-1, as pg-event-proxy did. Throws ERR_BRIDGE_CONFIG at once for a bad
 * URI or half a key pair; other problems are left in `read` for its `throwIfAny()`.
 *
 * @example
 * ```ts
 * const read = new SettingsReader(config);
 * const options = { ...readAwsSettings(config, read), checkTargets: read.boolean('check_targets') };
 * read.throwIfAny();
 * ```
 */
export function readAwsSettings(config: Pick<UpstreamConfig, 'name' | 'uri' | 'env'>, read: SettingsReader): AwsConnectionSettings {
  const section = `upstream.${config.name}`;
  const uri = parseAwsUri(section, config.uri);
  const accessKeyId = read.string('access_key_id');
  const secretAccessKey = read.string('secret_access_key');
  const sessionToken = read.string('session_token');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[${section}] Set both access_key_id and secret_access_key, or neither (to use the SDK's credential chain)`);
  }
  const credentials = accessKeyId === undefined || secretAccessKey === undefined ? undefined : { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) };
  const region = uri.endpoint !== undefined ? (read.string('region') ?? config.env?.AWS_REGION ?? config.env?.AWS_DEFAULT_REGION ?? 'us-east-1') : (read.string('region') ?? uri.region);
  return {
    region,
    endpoint: uri.endpoint,
    credentials,
    profile: read.string('profile'),
    connectTimeoutMs: read.integer('connect_timeout_ms', { min: 1, max: 3_600_000 }),
    requestTimeoutMs: read.integer('request_timeout_ms', { min: 1, max: 3_600_000 }),
    stopTimeoutMs: read.integer('stop_timeout_ms', { min: 1, max: 3_600_000 }),
  };
}
