import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnCork, corkableStream } from './turn-cork.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A real loopback connection: the client socket and everything the server side received. */
async function connection(highWaterMark = 16_384): Promise<{ socket: Socket; received: () => string }> {
  let received = '';
  const server = createServer((peer) => peer.on('data', (chunk: Buffer) => (received += chunk.toString())));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // net.Socket passes stream options on to its Duplex; its type does not list them.
  const socket = new Socket({ writableHighWaterMark: highWaterMark } as ConstructorParameters<typeof Socket>[0]);
  socket.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  closers.push(() => {
    socket.destroy();
    server.close();
  });
  return { socket, received: () => received };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await nextTurn();
}

describe('TurnCork', () => {
  it('holds a turn\'s writes and sends them, in order, at the end of the turn', async () => {
    const { socket, received } = await connection();
    const cork = new TurnCork(corkableStream(socket)!);
    for (const word of ['a', 'b', 'c']) {
      cork.hold();
      socket.write(word);
    }
    expect(socket.writableLength).toBe(3);
    await nextTurn();
    expect(socket.writableLength).toBe(0);
    await until(() => received().length === 3);
    expect(received()).toBe('abc');
  });

  it('flushes at once when the held writes fill half the buffer', async () => {
    const { socket, received } = await connection(1_000);
    const cork = new TurnCork(corkableStream(socket)!);
    cork.hold();
    socket.write('x'.repeat(400));
    cork.flushIfFull();
    expect(socket.writableLength).toBe(400);
    socket.write('y'.repeat(200));
    cork.flushIfFull();
    expect(socket.writableLength).toBe(0);
    // The next hold corks again for the rest of the turn.
    cork.hold();
    socket.write('z');
    expect(socket.writableLength).toBe(1);
    await until(() => received().length === 601);
    expect(received()).toBe(`${'x'.repeat(400)}${'y'.repeat(200)}z`);
  });

  it('recognises only streams it can cork', () => {
    expect(corkableStream(new Socket())).toBeDefined();
    expect(corkableStream({ write() {} })).toBeUndefined();
    expect(corkableStream(undefined)).toBeUndefined();
  });
});
