import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@pg-event-bridge/core';
import { makeEvent } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttPublisher } from '../src/index.js';

// A minimal MQTT 5 "broker" on loopback whose CONNACK carries properties a hostile or broken
// broker could announce; it acknowledges every QoS 1 PUBLISH it gets.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeBroker(connackProperties: number[], beforeEachAck: number[] = [], silentConnections = 0): Promise<{ url: string; published: string[] }> {
  const published: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // The first `silentConnections` connections answer pings but never acknowledge a publish.
    const silent = connections++ < silentConnections;
    let buffer = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        // Fixed header: type byte, then the remaining length as a variable byte integer.
        let length = 0;
        let multiplier = 1;
        let at = 1;
        for (;;) {
          if (at >= buffer.length) return;
          const byte = buffer[at++]!;
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
          if ((byte & 0x80) === 0) break;
        }
        if (buffer.length < at + length) return;
        const type = buffer[0]! >> 4;
        const packet = buffer.subarray(at, at + length);
        buffer = buffer.subarray(at + length);
        if (type === 1) socket.write(Buffer.from([0x20, 3 + connackProperties.length, 0x00, 0x00, connackProperties.length, ...connackProperties]));
        if (type === 3) {
          const topicLength = packet.readUInt16BE(0);
          published.push(packet.subarray(2, 2 + topicLength).toString());
          const id = packet.subarray(2 + topicLength, 4 + topicLength);
          if (!silent) socket.write(Buffer.from([...beforeEachAck, 0x40, 0x02, id[0]!, id[1]!]));
        }
        if (type === 12) socket.write(Buffer.from([0xd0, 0x00]));
        if (type === 14) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, published };
}

describe('mqtt publisher against a broker announcing odd CONNACK properties', () => {
  it('still publishes when the broker announces a Receive Maximum of 0 (the spec forbids it; it must not stall every publish)', async () => {
    // Property 0x21 Receive Maximum, two bytes: 0.
    const broker = await fakeBroker([0x21, 0x00, 0x00]);
    const publisher = createMqttPublisher({ url: broker.url, protocolVersion: 5, qos: 1, connectTimeoutMs: 2_000 });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [{ kind: 'topic', name: 'odd' }], signal: new AbortController().signal });
    await Promise.all([publisher.publish({ kind: 'topic', name: 'odd' }, makeEvent({ routingKey: 'a' })), publisher.publish({ kind: 'topic', name: 'odd' }, makeEvent({ routingKey: 'b' }))]);
    expect(broker.published).toEqual(['odd.a', 'odd.b']);
  }, 10_000);

  it('ignores PUBACKs and PUBCOMPs for packets it never sent, and goes on', async () => {
    // PUBACK for packet 0x7777, PUBREC for 0x7778, PUBCOMP for 0x7779 before each real PUBACK.
    const broker = await fakeBroker([], [0x40, 0x02, 0x77, 0x77, 0x50, 0x02, 0x77, 0x78, 0x70, 0x02, 0x77, 0x79]);
    const publisher = createMqttPublisher({ url: broker.url, protocolVersion: 5, qos: 1, connectTimeoutMs: 2_000 });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [{ kind: 'topic', name: 'odd' }], signal: new AbortController().signal });
    for (const key of ['a', 'b', 'c']) await publisher.publish({ kind: 'topic', name: 'odd' }, makeEvent({ routingKey: key }));
    expect(broker.published).toEqual(['odd.a', 'odd.b', 'odd.c']);
  }, 10_000);

  it('drops a connection whose broker stops acknowledging after ackTimeoutMs, failing the publish (retryable), and the resend goes through', async () => {
    const broker = await fakeBroker([], [], 1);
    const publisher = createMqttPublisher({ url: broker.url, protocolVersion: 5, qos: 1, connectTimeoutMs: 2_000, ackTimeoutMs: 300 });
    cleanups.push(() => publisher.stop());
    await publisher.start({ logger: silentLogger, targets: [{ kind: 'topic', name: 'odd' }], signal: new AbortController().signal });
    const began = Date.now();
    const error = await publisher.publish({ kind: 'topic', name: 'odd' }, makeEvent({ routingKey: 'a' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE', retryable: true, message: expect.stringContaining('ackTimeoutMs') });
    expect(Date.now() - began).toBeLessThan(300 + 1_500);
    await publisher.publish({ kind: 'topic', name: 'odd' }, makeEvent({ routingKey: 'a' }));
    expect(broker.published).toEqual(['odd.a', 'odd.a']);
  }, 10_000);
});
