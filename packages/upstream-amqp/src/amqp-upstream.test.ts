import { describe, expect, it } from 'vitest';
import { BridgeError, silentLogger } from '@pg-event-bridge/core';
import { amqpUpstream } from './amqp-upstream.js';

const create = (uri: string, settings: Record<string, string> = {}) => amqpUpstream.create({ name: 'local', uri, settings, logger: silentLogger });

describe('amqpUpstream', () => {
  it('is the amqp kind with exchange and queue targets, every setting documented', () => {
    expect(amqpUpstream).toMatchObject({ kind: 'amqp', targetKinds: ['exchange', 'queue'] });
    expect(amqpUpstream.settings.map((s) => s.key)).toEqual([
      'delivery_mode',
      'mandatory',
      'max_payload_bytes',
      'heartbeat_seconds',
      'connect_timeout_ms',
      'stop_timeout_ms',
      'confirm_timeout_ms',
      'username',
      'password',
    ]);
  });

  it('builds a publisher from the section without connecting', () => {
    const publisher = create('amqp://guest:guest@127.0.0.1:1//', { delivery_mode: 'persistent', mandatory: 'false', max_payload_bytes: '1024' });
    expect(publisher.name).toBe('amqp');
    expect(publisher.capabilities).toEqual({ headers: true, ordered: true, maxPayloadBytes: 1024 });
  });

  it('names every bad key of the section in one error, hiding the password', () => {
    let error: unknown;
    try {
      create('http://guest:hunter2@rabbit//', { delivery_mode: '3', mandatory: 'maybe', max_payload_bytes: '1e6', delivery_mdoe: '2', heartbeat_seconds: '70000' });
    } catch (thrown) {
      error = thrown;
    }
    expect(BridgeError.isInstance(error) && error.code).toBe('ERR_BRIDGE_CONFIG');
    const message = (error as Error).message;
    expect(message.split('\n')).toEqual([
      '[upstream.local] Invalid amqp settings:',
      '  - unknown key delivery_mdoe; amqp understands: delivery_mode, mandatory, max_payload_bytes, heartbeat_seconds, connect_timeout_ms, stop_timeout_ms, confirm_timeout_ms, username, password',
      '  - delivery_mode "3" is not 1, 2, non-persistent or persistent',
      '  - mandatory "maybe" is not true or false',
      '  - max_payload_bytes "1e6" is not a whole number',
      '  - heartbeat_seconds 70000 is not a whole number from 0 to 65535',
      '  - uri "http://guest:***@rabbit//" uses http://; use amqp:// or amqps://',
    ]);
  });
});
