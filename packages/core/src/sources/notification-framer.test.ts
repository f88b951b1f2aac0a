import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotificationFramer, maxNotificationBytes } from './notification-framer.js';

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
  const malformed: string[] = [];
  const desyncs: string[] = [];
  let maxHeld = 0;
  const framer = new NotificationFramer(
    (channel, payload) => notified.push({ channel, payload: Buffer.from(payload) }),
    (bytes) => {
      if (framer.broken) throw new Error('passed bytes on after the stream broke');
      passed.push(Buffer.from(bytes));
    },
    { malformed: (_message, reason) => malformed.push(reason), desync: (reason) => desyncs.push(reason) },
  );
  for (const chunk of chunks) {
    framer.push(chunk);
    maxHeld = Math.max(maxHeld, framer.held);
  }
  return { notified, passed, held: framer.held, maxHeld, malformed, desyncs, broken: framer.broken };
}

/** Bytes held at most: a 1 MiB message, the most a framer keeps whole. */
const heldBound = 1024 * 1024 + 5;

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

  it('never throws and never holds more than its bound, whatever bytes arrive, however they are cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, at) => {
        const { maxHeld, desyncs } = frame(cut(Buffer.from(bytes), at));
        expect(maxHeld).toBeLessThanOrEqual(heldBound);
        expect(desyncs.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives valid streams with hostile lengths and flipped bytes, and passes node-postgres no message with a length under 4', () => {
    const hostileLength = fc.constantFrom(0, 1, 3, 4, 5, 0x7fffffff, 0x80000000, 0xffffffff, 0x40000000, maxNotificationBytes + 1);
    const stream = fc.array(
      fc.oneof(
        fc.record({ channel: fc.constantFrom('events', 'é'), payload: fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)) }).map((m) => notification(1, m.channel, m.payload)),
        fc.uint8Array({ maxLength: 100 }).map((b) => message(0x44, Buffer.from(b))),
      ),
      { minLength: 1, maxLength: 10 },
    );
    const mutation = fc.oneof(
      fc.record({ at: fc.nat(), length: hostileLength }).map((m) => (bytes: Buffer) => {
        if (bytes.length >= 5) bytes.writeUInt32BE(m.length, m.at % (bytes.length - 4));
      }),
      fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map((m) => (bytes: Buffer) => {
        if (bytes.length > 0) bytes[m.at % bytes.length] = m.value;
      }),
    );
    fc.assert(
      fc.property(stream, fc.array(mutation, { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 }), (messages, mutations, at) => {
        const bytes = Buffer.concat(messages);
        for (const mutate of mutations) mutate(bytes);
        const { passed, maxHeld, broken } = frame(cut(bytes, at));
        expect(maxHeld).toBeLessThanOrEqual(heldBound);
        if (!broken) {
          let offset = 0;
          const all = Buffer.concat(passed);
          while (all.length - offset >= 5) {
            expect(all.readUInt32BE(offset + 1)).toBeGreaterThanOrEqual(4);
            offset += 1 + all.readUInt32BE(offset + 1);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('stops framing at a notification that claims 1 GB, holding nothing, and streams other long messages on unheld', () => {
    const head = (type: number, length: number) => Buffer.from([type, length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255]);
    const lying = frame([head(0x41, 1 << 30), Buffer.alloc(100_000, 1)]);
    expect(lying).toMatchObject({ broken: true, held: 0, passed: [] });
    expect(lying.desyncs[0]).toMatch(/1073741824 bytes/);
    const huge = frame([head(0x44, 3 << 20), ...Array.from({ length: 3 }, () => Buffer.alloc(1 << 20, 7))]);
    expect(huge.maxHeld).toBeLessThan(16);
    // The message is 1 + its length field; the last 4 bytes fed start the next message and are held.
    expect(Buffer.concat(huge.passed).length).toBe((3 << 20) + 1);
    expect(huge.held).toBe(4);
    const short = frame([head(0x5a, 2), Buffer.from('ZZZ')]);
    expect(short).toMatchObject({ broken: true, passed: [] });
  });

  it('reports a notification it cannot read faithfully and goes on with the next', () => {
    const pid = Buffer.from([0, 0, 0, 7]);
    const bad = [
      message(0x41, Buffer.concat([pid, Buffer.from('no-nul-anywhere')])),
      message(0x41, Buffer.concat([pid, Buffer.from('events\u0000payload-without-nul')])),
      message(0x41, Buffer.concat([pid, Buffer.from([0xff, 0xfe, 0]), Buffer.from('p\u0000')])),
      message(0x41, Buffer.concat([pid, Buffer.from('events\u0000a\u0000b\u0000')])),
      message(0x41, Buffer.from([0, 0])),
    ];
    const good = notification(7, 'events', Buffer.from([0xff, 0x7c, 0x41]));
    const { notified, malformed, passed, broken } = frame([Buffer.concat([...bad, good, message(0x5a, Buffer.from('I'))])]);
    expect(malformed).toEqual([
      'the channel name is not NUL-terminated',
      'the payload is not NUL-terminated',
      'the channel name is not valid UTF-8',
      'the payload holds a NUL byte, which Postgres never sends',
      'the notification is too short to hold a process id',
    ]);
    // Invalid UTF-8 in a payload is delivered byte-exact.
    expect(notified).toEqual([{ channel: 'events', payload: Buffer.from([0xff, 0x7c, 0x41]) }]);
    expect(passed).toEqual([message(0x5a, Buffer.from('I'))]);
    expect(broken).toBe(false);
  });
});
