import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotificationFramer } from './notification-framer.js';

/** A backend message as Postgres frames it: type byte, then a length that counts itself. */
function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function notification(pid: number, channel: string, payload: Buffer): Buffer {
  const pidBytes = Buffer.alloc(4);
  pidBytes.writeUInt32BE(pid);
  return message(0x41, Buffer.concat([pidBytes, Buffer.from(channel), Buffer.from([0]), payload, Buffer.from([0])]));
}

/** Runs `chunks` through a framer; what it notified, and what it passed on, call by call. */
function frame(chunks: Buffer[]) {
  const notified: Array<{ channel: string; payload: Buffer }> = [];
  const passed: Buffer[] = [];
  const framer = new NotificationFramer(
    (channel, payload) => notified.push({ channel, payload: Buffer.from(payload) }),
    (bytes) => passed.push(Buffer.from(bytes)),
  );
  for (const chunk of chunks) framer.push(chunk);
  return { notified, passed, held: framer.held };
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('NotificationFramer', () => {
  it('notifies every NotificationResponse and passes every other message on whole and in order, however the bytes are cut', () => {
    const channel = fc.string({ unit: fc.constantFrom('a', 'Z', '_', 'é', '😀', ' '), minLength: 1, maxLength: 20 });
    const payload = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes.map((b) => b || 1))), fc.constant(Buffer.alloc(8000, 0x78)));
    const other = fc.record({ type: fc.constantFrom(0x43, 0x44, 0x45, 0x4e, 0x53, 0x54, 0x5a), body: fc.uint8Array({ maxLength: 200 }) });
    const messages = fc.array(fc.oneof(fc.record({ channel, payload, pid: fc.nat() }), other), { maxLength: 30 });
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 40 }), (list, at) => {
        const encoded = list.map((m) => ('channel' in m ? notification(m.pid, m.channel, m.payload) : message(m.type, Buffer.from(m.body))));
        const { notified, passed, held } = frame(cut(Buffer.concat(encoded), at));
        const expected = list.flatMap((m) => ('channel' in m ? [`${m.channel}:${m.payload.toString('hex')}`] : []));
        expect(notified.map((n) => `${n.channel}:${n.payload.toString('hex')}`)).toEqual(expected);
        expect(Buffer.concat(passed).equals(Buffer.concat(encoded.filter((bytes) => bytes[0] !== 0x41)))).toBe(true);
        // Each call carries whole messages only: node-postgres's parser never sees half of one.
        for (const bytes of passed) {
          let offset = 0;
          while (offset < bytes.length) offset += 1 + bytes.readUInt32BE(offset + 1);
          expect(offset).toBe(bytes.length);
        }
        expect(held).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('holds the start of a message until the rest arrives, one byte at a time', () => {
    const bytes = Buffer.concat([notification(7, 'events', Buffer.from('key|body')), message(0x5a, Buffer.from('I'))]);
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    const { notified, passed } = frame(chunks.slice(0, -1));
    expect(notified).toEqual([{ channel: 'events', payload: Buffer.from('key|body') }]);
    expect(passed).toEqual([]);
    expect(frame(chunks).passed).toEqual([message(0x5a, Buffer.from('I'))]);
  });
});
