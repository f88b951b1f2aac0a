import { SettingsReader } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { awsBatchSettingDocs, readAwsBatchSettings } from './aws-batch-settings.js';
import { awsSettingDocs, readAwsSettings } from './aws-settings.js';

const section = (uri: string, settings: Record<string, string> = {}) => ({ name: 'orders', uri, settings });

describe('readAwsSettings', () => {
  it('takes the region from aws://<region>, and the setting over it', () => {
    const config = section('aws://eu-west-2', { profile: 'ops' });
    expect(readAwsSettings(config, new SettingsReader(config))).toEqual({ region: 'eu-west-2', endpoint: undefined, credentials: undefined, profile: 'ops' });
    const overridden = section('aws://eu-west-2', { region: 'us-west-1' });
    expect(readAwsSettings(overridden, new SettingsReader(overridden)).region).toBe('us-west-1');
  });

  it("defaults the region of an endpoint URI to the daemon's AWS_REGION, else us-east-1", () => {
    const config = section('aws://localhost:4566');
    expect(readAwsSettings(config, new SettingsReader(config))).toMatchObject({ region: 'us-east-1', endpoint: 'http://localhost:4566' });
    const withEnv = { ...config, env: { AWS_REGION: 'ap-south-1' } };
    expect(readAwsSettings(withEnv, new SettingsReader(withEnv)).region).toBe('ap-south-1');
    const withDefault = { ...config, env: { AWS_DEFAULT_REGION: 'eu-north-1' } };
    expect(readAwsSettings(withDefault, new SettingsReader(withDefault)).region).toBe('eu-north-1');
  });

  it('reads static credentials, and refuses half a pair without echoing the secret', () => {
    const config = section('aws://eu-west-2', { access_key_id: 'AKIA', secret_access_key: 's3cret', session_token: 'tok' });
    expect(readAwsSettings(config, new SettingsReader(config)).credentials).toEqual({ accessKeyId: 'AKIA', secretAccessKey: 's3cret', sessionToken: 'tok' });
    const half = section('aws://eu-west-2', { secret_access_key: 's3cret' });
    expect(() => readAwsSettings(half, new SettingsReader(half))).toThrow(
      expect.objectContaining({ code: 'ERR_BRIDGE_CONFIG', message: expect.stringMatching(/^\[upstream\.orders\] Set both access_key_id and secret_access_key/) }),
    );
    expect(() => readAwsSettings(half, new SettingsReader(half))).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret') }));
  });

  it('documents every key it reads', () => {
    expect(awsSettingDocs.map((d) => d.key).sort()).toEqual(['access_key_id', 'connect_timeout_ms', 'profile', 'region', 'request_timeout_ms', 'secret_access_key', 'session_token', 'stop_timeout_ms']);
    const config = section('aws://eu-west-2', { connect_timeout_ms: '700', request_timeout_ms: '900', stop_timeout_ms: '100' });
    expect(readAwsSettings(config, new SettingsReader(config))).toMatchObject({ connectTimeoutMs: 700, requestTimeoutMs: 900, stopTimeoutMs: 100 });
  });
});

describe('readAwsBatchSettings', () => {
  it('reads the documented keys, leaving problems to throwIfAny', () => {
    const config = section('aws://eu-west-2', { fifo_group_by: 'routingKey', max_batch_size: '5', max_concurrent_batches: 'two' });
    const read = new SettingsReader(config);
    expect(readAwsBatchSettings(read)).toEqual({ fifoGroupBy: 'routingKey', maxBatchSize: 5, maxConcurrentBatches: undefined });
    expect(() => read.throwIfAny()).toThrow(/^\[upstream\.orders\] max_concurrent_batches must be a whole number/);
    expect(awsBatchSettingDocs('PublishBatch', 'topic').map((d) => d.key)).toEqual(['fifo_group_by', 'max_batch_size', 'max_concurrent_batches']);
  });
});
