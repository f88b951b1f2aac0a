import { describe, expect, it } from 'vitest';
import { BridgeError } from '@pg-event-bridge/core';
import { resolveAmqpOptions, type AmqpPublisherOptions } from './amqp-options.js';

function configError(options: AmqpPublisherOptions): BridgeError {
  try {
    resolveAmqpOptions(options);
  } catch (error) {
    if (BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_CONFIG') return error;
    throw error;
  }
  throw new Error('expected ERR_BRIDGE_CONFIG');
}

describe('resolveAmqpOptions', () => {
  it.each([
    ['amqp://user:pass@rabbit//', { hostname: 'rabbit', port: 5672, vhost: '/', username: 'user', password: 'pass' }],
    ['amqp://rabbit/%2F', { vhost: '%2F', username: undefined, password: undefined }],
    ['amqp://rabbit', { vhost: '' }],
    ['amqp://rabbit/prod', { vhost: 'prod' }],
    ['amqps://u%40corp:p%3Ass@rabbit:5999/', { protocol: 'amqps', port: 5999, vhost: '', username: 'u@corp', password: 'p:ss' }],
    ['amqps://[::1]', { hostname: '::1', port: 5671 }],
  ])('hands amqplib the parts of %s (amqplib decodes the vhost; empty means "/")', (url, expected) => {
    expect(resolveAmqpOptions({ url }).connect?.url).toMatchObject(expected);
  });

  it('applies the defaults', () => {
    const resolved = resolveAmqpOptions({ url: 'amqp://rabbit//' });
    expect(resolved).toMatchObject({ deliveryMode: 1, mandatory: true, maxPayloadBytes: 16 * 1024 * 1024, stopTimeoutMs: 5000, display: 'amqp://rabbit//' });
    expect(resolved.connect?.url.heartbeat).toBe(30);
    expect(resolved.connect?.socket).toMatchObject({ timeout: 10_000 });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('accepts the delivery mode as a number or as pg-amqp-bridge words', () => {
    expect(resolveAmqpOptions({ url: 'amqp://r', deliveryMode: 'persistent' }).deliveryMode).toBe(2);
    expect(resolveAmqpOptions({ url: 'amqp://r', deliveryMode: 'non-persistent' }).deliveryMode).toBe(1);
    expect(resolveAmqpOptions({ url: 'amqp://r', deliveryMode: 2 }).deliveryMode).toBe(2);
  });

  it('takes heartbeat and timeouts from the query string unless the options set them', () => {
    const fromQuery = resolveAmqpOptions({ url: 'amqp://r/?heartbeat=5&connection_timeout=700&frame_max=8192' });
    expect(fromQuery.connect?.url).toMatchObject({ heartbeat: 5, frameMax: 8192 });
    expect(fromQuery.connect?.socket).toMatchObject({ timeout: 700 });
    const overridden = resolveAmqpOptions({ url: 'amqp://r/?heartbeat=5', heartbeatSeconds: 0 });
    expect(overridden.connect?.url.heartbeat).toBe(0);
  });

  it('reports every problem at once, naming the option and hiding the password', () => {
    const error = configError({
      url: 'ftp://admin:hunter2@rabbit//',
      deliveryMode: 3 as never,
      mandatory: 'yes' as never,
      maxPayloadBytes: -1,
      heartbeatSeconds: 1.5,
      deliverymode: 2,
    } as AmqpPublisherOptions);
    expect(error.message).toBe(
      [
        '[amqp] Invalid options:',
        '  - unknown option "deliverymode"; known options: url, connection, deliveryMode, mandatory, maxPayloadBytes, tls, heartbeatSeconds, connectTimeoutMs, stopTimeoutMs, confirmTimeoutMs',
        '  - deliveryMode 3 is not a delivery mode; use 1 (or "non-persistent") or 2 (or "persistent")',
        '  - mandatory "yes" is not true or false',
        '  - maxPayloadBytes -1 is not a whole number from 1 to 536870912',
        '  - heartbeatSeconds 1.5 is not a whole number from 0 to 65535',
        '  - url "ftp://admin:***@rabbit//" uses ftp://; use amqp:// or amqps://',
      ].join('\n'),
    );
    expect(error.message).not.toContain('hunter2');
  });

  it.each<[string, AmqpPublisherOptions, string]>([
    ['no url', {}, 'url is missing; give the broker URL'],
    ['both url and connection', { url: 'amqp://r', connection: {} as never }, 'url and connection are both set; give only one'],
    ['not a connection', { connection: {} as never }, 'connection (object) is not an amqplib connection'],
    ['socket options with a connection', { connection: { createConfirmChannel() {} } as never, tls: {} }, 'tls applies only to connections opened from url'],
    ['tls without amqps', { url: 'amqp://u:secret@r', tls: {} }, 'tls is set but url "amqp://u:***@r" does not use amqps://'],
    ['an unknown query parameter', { url: 'amqp://r?frameMax=1' }, 'has unknown query parameter "frameMax"'],
    ['a malformed escape', { url: 'amqp://u:%zz@r' }, 'has a malformed %-escape'],
    ['no host', { url: 'amqp:///vhost' }, 'has no host'],
  ])('rejects %s', (_, options, message) => {
    expect(configError(options).message).toContain(message);
  });
});
