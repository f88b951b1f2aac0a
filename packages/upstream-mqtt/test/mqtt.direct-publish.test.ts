import { randomUUID } from 'node:crypto';
import type { Publisher } from '@pg-event-bridge/core';
import { createRecordingLogger, makeEvent, type RecordingLogger } from '@pg-event-bridge/testkit';
import { connectAsync, type Packet } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMqttPublisher, type MqttPublisherOptions } from '../src/index.js';
import { directPublisher } from '../src/mqtt-internals.js';
import { encodePublishPacket, type PublishPacket } from '../src/publish-packet.js';
import { brokerUrl, startMosquittoWithAcl, subscribe, uniqueTopic } from './mqtt-test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The packet id of an encoded QoS 1/2 PUBLISH: after the remaining length and the topic. */
function packetIdOf(bytes: Buffer): number {
  let at = 1;
  while ((bytes[at++]! & 0x80) !== 0);
  return bytes.readUInt16BE(at + 2 + bytes.readUInt16BE(at));
}

async function started(options: MqttPublisherOptions, name: string): Promise<{ publisher: Publisher; logger: RecordingLogger }> {
  const publisher = createMqttPublisher(options);
  cleanups.push(() => publisher.stop());
  const logger = createRecordingLogger();
  await publisher.start({ logger, targets: [{ kind: 'topic', name }], signal: new AbortController().signal });
  return { publisher, logger };
}

function connectedRecord(logger: RecordingLogger) {
  return logger.records.find((record) => record.message === '[mqtt] Connected')?.fields;
}

describe('direct publish path on the real broker', () => {
  it('delivers our encoded packet with its user properties and content type, resolved by the PUBACK (QoS 1) or PUBCOMP (QoS 2)', async () => {
    const name = uniqueTopic('pgeb-direct');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const client = await connectAsync(brokerUrl, { protocolVersion: 5, clientId: `pgeb-direct-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync(true));
    const acknowledgements: string[] = [];
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubcomp') acknowledgements.push(`${packet.cmd} ${packet.messageId}`);
    });
    const direct = directPublisher(client);
    expect(direct).toBeDefined();

    for (const qos of [0, 1, 2] as const) {
      const packet: PublishPacket = {
        topic: `${name}.signup`,
        payload: Buffer.from(`qos ${qos}`),
        qos,
        retain: false,
        messageId: 0,
        properties: { userProperties: { 'x-event-id': `e-${qos}`, 'x-trace': 'ünïcødé ✓', empty: '' }, contentType: 'application/json' },
      };
      const bytes = encodePublishPacket(packet, 5);
      const seen = acknowledgements.length;
      const error = await new Promise<unknown>((resolve) => expect(direct!(packet, bytes, resolve)).toBe(true));
      expect(error ?? null).toBeNull();
      const id = qos === 0 ? undefined : packetIdOf(bytes);
      expect(acknowledgements.slice(seen)).toEqual(qos === 0 ? [] : qos === 1 ? [`puback ${id}`] : [`pubrec ${id}`, `pubcomp ${id}`]);
      // mqtt.js's acknowledgement handling took the callback out, as for its own publishes.
      expect(client.outgoing).toEqual({});
    }

    const received = await subscriber.inbox.take(3, 10_000);
    expect(received.map((m) => [m.body.toString(), m.qos, m.contentType, m.headers])).toEqual(
      [0, 1, 2].map((qos) => [`qos ${qos}`, qos, 'application/json', { 'x-event-id': `e-${qos}`, 'x-trace': 'ünïcødé ✓', empty: '' }]),
    );
  });

  it('is what the publisher uses, and a refusal (reason code 0x87) still fails the publish as ERR_BRIDGE_UPSTREAM_REJECTED, QoS 1 and 2', async () => {
    const broker = await startMosquittoWithAcl('allowed/#');
    cleanups.push(() => broker.stop());
    for (const qos of [1, 2] as const) {
      const { publisher, logger } = await started({ url: broker.url, qos, separator: '/' }, 'allowed');
      expect(connectedRecord(logger)).toMatchObject({ directPublish: true });
      await expect(publisher.publish({ kind: 'topic', name: 'denied' }, makeEvent({ routingKey: 'x' }))).rejects.toMatchObject({
        code: 'ERR_BRIDGE_UPSTREAM_REJECTED',
        retryable: false,
        message: expect.stringContaining('reason code 0x87'),
      });
      await publisher.publish({ kind: 'topic', name: 'allowed' }, makeEvent({ routingKey: 'x' }));
      await publisher.stop();
    }
  });

  it('fails a message with a header over 65,535 bytes as ERR_BRIDGE_ENCODE and keeps the connection usable', async () => {
    const name = uniqueTopic('pgeb-direct');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const { publisher } = await started({}, name);
    await expect(publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', headers: { trace: 't'.repeat(65_536) } }))).rejects.toMatchObject({
      code: 'ERR_BRIDGE_ENCODE',
      message: expect.stringContaining('"trace"'),
    });
    await publisher.publish(subscriber.target, makeEvent({ routingKey: 'signup', body: 'next' }));
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message?.body.toString()).toBe('next');
  });

  it('holds messages to the broker\'s maximum packet size to the byte, dead-lettering only the larger ones', async () => {
    const limit = 1_000;
    const broker = await startMosquittoWithAcl('#', [`max_packet_size ${limit}`]);
    cleanups.push(() => broker.stop());
    const { publisher } = await started({ url: broker.url }, 'sized');
    const subscriber = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(() => subscriber.endAsync(true));
    const received: string[] = [];
    subscriber.on('message', (_topic, payload) => received.push(payload.subarray(0, 4).toString()));
    await subscriber.subscribeAsync('sized.k', { qos: 1 });
    // The body that makes the whole PUBLISH exactly `limit` bytes, with the publisher's properties
    // (the packet's overhead measured at a body size in the same remaining-length range).
    const probe = makeEvent({ routingKey: 'k' });
    const userProperties = { 'x-pg-channel': probe.source, 'x-routing-key': 'k', 'x-event-id': probe.id };
    const overhead = encodePublishPacket({ topic: 'sized.k', payload: Buffer.alloc(500), qos: 1, retain: false, messageId: 1, properties: { userProperties } }, 5).length - 500;
    const withBody = (bytes: number, tag: string) => ({ ...probe, body: Buffer.concat([Buffer.from(tag), Buffer.alloc(bytes - tag.length, 120)]) });
    const fits = withBody(limit - overhead, 'fits');
    const over = withBody(limit - overhead + 1, 'over');
    await publisher.publish({ kind: 'topic', name: 'sized' }, fits);
    await expect(publisher.publish({ kind: 'topic', name: 'sized' }, over)).rejects.toMatchObject({
      code: 'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
      message: expect.stringContaining(`needs a ${limit + 1}-byte packet; the broker accepts at most ${limit}`),
    });
    await publisher.publish({ kind: 'topic', name: 'sized' }, { ...fits, body: Buffer.from('next') });
    await vi.waitFor(() => expect(received).toEqual(['fits', 'next']), { timeout: 10_000 });
  });

  it('falls back to client.publish when the client does not fit (topic aliases), with the same messages', async () => {
    const name = uniqueTopic('pgeb-fallback');
    const subscriber = await subscribe(name);
    cleanups.push(() => subscriber.dispose());
    const { publisher, logger } = await started({ clientOptions: { autoUseTopicAlias: true } }, name);
    expect(connectedRecord(logger)).toMatchObject({ directPublish: false });
    const event = makeEvent({ routingKey: 'signup', body: 'via client.publish', contentType: 'text/plain', headers: { trace: 't-1' } });
    await publisher.publish(subscriber.target, event);
    const [message] = await subscriber.inbox.take(1, 10_000);
    expect(message).toMatchObject({ routingKey: `${name}.signup`, contentType: 'text/plain', headers: { trace: 't-1', 'x-event-id': event.id, 'x-pg-channel': event.source, 'x-routing-key': 'signup' } });
    expect(message?.body.toString()).toBe('via client.publish');
  });
});
