import { silentLogger, type Publisher } from '@pg-event-bridge/core';
import { makeEvent } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttPublisher, mqttTopic, mqttUpstream } from '../src/index.js';
import { subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(publisher: Publisher, name: string): Promise<Publisher> {
  cleanups.push(() => publisher.stop());
  await publisher.start({ logger: silentLogger, targets: [{ kind: 'topic', name }], signal: new AbortController().signal });
  return publisher;
}

describe('mqttTopic', () => {
  it('joins name and key with the separator, and uses the name alone for an empty key', () => {
    expect(mqttTopic('events', 'signup')).toBe('events.signup');
    expect(mqttTopic('events', '')).toBe('events');
    expect(mqttTopic('events', 'signup', '/')).toBe('events/signup');
    expect(mqttTopic('events', 'public.customer.insert', '/')).toBe('events/public.customer.insert');
  });
});

describe('mqtt routing on the real broker', () => {
  it('publishes key "signup" on events.<unique> to <name>.signup and an empty key to <name>', async () => {
    const name = uniqueTopic('events');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const publisher = await started(createMqttPublisher(), name);
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', body: 'hello' }));
    await publisher.publish(subscriber.target, makeEvent({ routingKey: '', body: 'no key' }));
    const received = await subscriber.inbox.take(2, 10_000);
    expect(received.map((m) => [m.routingKey, m.body.toString()])).toEqual([
      [`${name}.signup`, 'hello'],
      [name, 'no key'],
    ]);
  });

  it('with separator "/" a wildcard subscription <name>/# receives the keyed messages', async () => {
    const name = uniqueTopic('events');
    const subscriber = await subscribe(name, { separator: '/', filters: [`${name}/#`] });
    cleanups.push(() => subscriber.dispose());
    const publisher = await started(createMqttPublisher({ separator: '/' }), name);
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', body: 'slash' }));
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message?.routingKey).toBe(`${name}/signup`);
  });

  it('sets retain, QoS and the content type as configured', async () => {
    const name = uniqueTopic('events');
    const publisher = await started(createMqttPublisher({ retain: true, qos: 2 }), name);
    await publisher.publish({ kind: 'topic', name }, makeEvent({ routingKey: 'r', body: 'retained', contentType: 'application/json' }));
    // Subscribing afterwards: only a retained message can arrive now.
    const subscriber = await subscribe(name, { filters: [`${name}.r`] });
    cleanups.push(async () => {
      await subscriber.client.publishAsync(`${name}.r`, '', { retain: true, qos: 1 });
      await subscriber.dispose();
    });
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message).toMatchObject({ retain: true, qos: 2, contentType: 'application/json' });
    expect(message?.body.toString()).toBe('retained');
  });

  it('rejects a routing key holding an MQTT wildcard permanently', async () => {
    const name = uniqueTopic('events');
    const publisher = await started(createMqttPublisher(), name);
    await expect(publisher.publish({ kind: 'topic', name }, makeEvent({ routingKey: 'a+b' }))).rejects.toMatchObject({ code: 'ERR_BRIDGE_ENCODE', retryable: false });
  });

  it('refuses start() with a wildcard target name', async () => {
    const publisher = createMqttPublisher();
    cleanups.push(() => publisher.stop());
    await expect(publisher.start({ logger: silentLogger, targets: [{ kind: 'topic', name: 'a/#' }], signal: new AbortController().signal })).rejects.toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
  });
});

describe('mqttUpstream (daemon kind)', () => {
  const config = (settings: Record<string, string>, uri = 'tcp://127.0.0.1:1883') => ({ name: 'local', uri, settings, logger: silentLogger });

  it('documents every setting it reads', () => {
    expect(mqttUpstream.kind).toBe('mqtt');
    expect(mqttUpstream.targetKinds).toEqual(['topic']);
    expect(mqttUpstream.settings.map((s) => s.key).sort()).toEqual(['ack_timeout_ms', 'client_id', 'keepalive', 'max_payload_bytes', 'password', 'protocol_version', 'qos', 'retain', 'separator', 'username'].sort());
  });

  it('accepts pg-event-proxy generation-1 USERNAME/PASSWORD as settings and a tcp:// URI', async () => {
    const name = uniqueTopic('events');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const publisher = await started(mqttUpstream.create(config({ username: 'bridge', password: 'unused-on-anonymous-broker', protocol_version: '3.1.1' })), name);
    expect(publisher.capabilities.headers).toBe(false);
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', body: 'via tcp' }));
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message?.routingKey).toBe(`${name}.signup`);
  });

  it('names every bad setting at once, with the URI redacted', () => {
    let error: unknown;
    try {
      mqttUpstream.create(config({ qos: '7', retain: 'maybe', protocol_version: '6' }, 'mqtt://u:hunter2@h'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG' });
    const message = (error as Error).message;
    expect(message).toContain('qos');
    expect(message).toContain('retain');
    expect(message).toContain('protocol_version');
    expect(message).not.toContain('hunter2');
  });
});
