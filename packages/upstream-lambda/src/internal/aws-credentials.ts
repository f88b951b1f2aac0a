import { BridgeError } from '@pg-event-bridge/core';
import type { SettingDoc } from '@pg-event-bridge/core';
import type { SettingsReader } from './settings.js';

/** The connection settings every AWS upstream kind of the daemon reads. */
export const awsSettingDocs: readonly SettingDoc[] = [
  { key: 'region', description: 'AWS region. With uri=aws://host:port (an emulator) it defaults to AWS_REGION, else us-east-1; otherwise the SDK chain (AWS_REGION, profile) applies.' },
  { key: 'profile', description: 'Named profile of ~/.aws/config and ~/.aws/credentials.', default: 'AWS_PROFILE, else default' },
  { key: 'access_key_id', description: 'Static access key id (with secret_access_key). Without it the SDK chain applies: environment, profile, SSO, container or instance role.' },
  { key: 'secret_access_key', description: 'Static secret access key (never logged).' },
  { key: 'session_token', description: 'Session token of temporary credentials (never logged).' },
];

/** Static credentials from the settings, if both halves are set. */
export function credentialsFrom(upstream: string, reader: SettingsReader): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const accessKeyId = reader.string('access_key_id');
  const secretAccessKey = reader.string('secret_access_key');
  const sessionToken = reader.string('session_token');
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[${upstream}] Set both access_key_id and secret_access_key, or neither (to use the SDK's credential chain)`);
  }
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * The region for an endpoint URI (`aws://host:port`): the setting, else AWS_REGION, else
 * us-east-1, as pg-event-proxy did. Emulators accept any region.
 */
export function endpointRegion(reader: SettingsReader): string {
  return reader.string('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}
