import { PassThrough } from 'node:stream';
import { DefaultMessageIdProvider, Store } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { directPublisher } from './mqtt-internals.js';
import { encodePublishPacket, type PublishPacket } from './publish-packet.js';

/** An object with every part of a connected mqtt.js 5.16 client that directPublisher uses. */
function clientShape(overrides: Record<string, unknown> = {}) {
  return {
    connected: true,
    disconnecting: false,
    _storeProcessing: false,
    _storeProcessingQueue: [] as unknown[],
    outgoing: {} as Record<number, { cmd: string; cb: unknown }>,
    outgoingStore: new Store(),
    messageIdProvider: new DefaultMessageIdProvider(),
    stream: new PassThrough(),
    options: { protocolVersion: 5 },
    ...overrides,
  };
}

const packet: PublishPacket = { topic: 'events.signup', payload: Buffer.from('hello'), qos: 1, retain: false, messageId: 0, properties: { userProperties: { 'x-event-id': 'e-1' } } };

describe('directPublisher: mqtt.js below client.publish', () => {
  it('is undefined for a client without the internals it relies on, so the publisher uses client.publish', () => {
    expect(directPublisher(clientShape() as never)).toBeDefined();
    expect(directPublisher({} as never)).toBeUndefined();
    for (const missing of ['connected', 'disconnecting', '_storeProcessing', '_storeProcessingQueue', 'outgoing', 'outgoingStore', 'messageIdProvider', 'stream']) {
      expect(directPublisher(clientShape({ [missing]: undefined }) as never), missing).toBeUndefined();
    }
    // A store other than mqtt.js's in-memory one may persist packets or store them asynchronously.
    expect(directPublisher(clientShape({ outgoingStore: { put: () => undefined, del: () => undefined } }) as never)).toBeUndefined();
    // Topic aliases rewrite the topic mqtt.js writes; our bytes carry the topic as given.
    expect(directPublisher(clientShape({ options: { autoAssignTopicAlias: true } }) as never)).toBeUndefined();
    expect(directPublisher(clientShape({ options: { autoUseTopicAlias: true } }) as never)).toBeUndefined();
  });

  it('declines a publish while not connected, disconnecting or re-sending its store, leaving it to client.publish', () => {
    for (const state of [{ connected: false }, { disconnecting: true }, { _storeProcessing: true }, { _storeProcessingQueue: [{}] }]) {
      const client = clientShape(state);
      let called = false;
      expect(directPublisher(client as never)!(packet, encodePublishPacket(packet, 5), () => (called = true)), JSON.stringify(state)).toBe(false);
      expect(called).toBe(false);
      expect(client.outgoing).toEqual({});
      expect(client.stream.readableLength).toBe(0);
    }
  });

  it('writes the packet with a fresh id and registers its callback where the acknowledgement handler looks', () => {
    const client = clientShape();
    const expectedId = (client.messageIdProvider.getLastAllocated()! % 65_535) + 1;
    const callback = () => undefined;
    const bytes = encodePublishPacket(packet, 5);
    expect(directPublisher(client as never)!(packet, bytes, callback)).toBe(true);
    expect(client.outgoing).toEqual({ [expectedId]: { volatile: false, cmd: 'publish', cb: callback } });
    expect(client.stream.read()).toEqual(encodePublishPacket({ ...packet, messageId: expectedId }, 5));
  });
});
