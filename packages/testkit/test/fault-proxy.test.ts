import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startFaultProxy, waitFor, type FaultProxy } from '../src/index.js';

let echo: Server;
let echoPort: number;
const served = new Set<Socket>();
let proxy: FaultProxy;
const sockets: Socket[] = [];

beforeAll(async () => {
  echo = createServer((socket) => {
    served.add(socket);
    socket.on('close', () => served.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await proxy?.close();
});

async function open(port = proxy.port): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Resolves with the next chunk of data, or undefined when none comes within `ms`. */
async function nextData(socket: Socket, ms = 5000): Promise<string | undefined> {
  const controller = new AbortController();
  const data = once(socket, 'data', { signal: controller.signal }).then(([chunk]) => String(chunk));
  const timeout = delay(ms, undefined, { signal: controller.signal }).then(() => undefined);
  try {
    return await Promise.race([data, timeout]);
  } finally {
    controller.abort();
    await Promise.allSettled([data, timeout]);
  }
}

describe('startFaultProxy', () => {
  it('forwards bytes both ways and counts open connections', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const socket = await open();
    socket.write('ping');
    expect(await nextData(socket)).toBe('ping');
    expect(proxy.connections).toBe(1);
    socket.end();
    await waitFor(() => proxy.connections === 0, { what: 'the connection to close' });
    expect(proxy.accepted).toBe(1);
  });

  it('listens on the requested port', async () => {
    const port = await findFreePort();
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort }, listenPort: port });
    expect(proxy.port).toBe(port);
  });

  it('cut() resets open connections and keeps accepting new ones', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const socket = await open();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const error = once(socket, 'error');
    proxy.cut();
    expect(((await error)[0] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await closed;
    expect(proxy.connections).toBe(0);
    const again = await open();
    again.write('after cut');
    expect(await nextData(again)).toBe('after cut');
  });

  it('refuse() resets new connections only, until turned off', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const existing = await open();
    proxy.refuse(true);
    const refused = connect(proxy.port, '127.0.0.1');
    sockets.push(refused);
    const [error] = await once(refused, 'error');
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    existing.write('still here');
    expect(await nextData(existing)).toBe('still here');
    proxy.refuse(false);
    const fresh = await open();
    fresh.write('welcome back');
    expect(await nextData(fresh)).toBe('welcome back');
  });

  it('blackhole() holds every byte on open and new connections, and releases them when turned off', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const existing = await open();
    proxy.blackhole(true);
    const fresh = await open();
    existing.write('one');
    fresh.write('two');
    // A silent peer can only be observed as silence over some window; the echo takes ~1 ms.
    expect(await Promise.all([nextData(existing, 300), nextData(fresh, 300)])).toEqual([undefined, undefined]);
    expect(proxy.connections).toBe(2);
    const replies = Promise.all([nextData(existing), nextData(fresh)]);
    proxy.blackhole(false);
    expect(await replies).toEqual(['one', 'two']);
  });

  it('blackhole() hides the target hanging up until it is turned off', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const socket = await open();
    await waitFor(() => served.size === 1, { what: 'the echo server to accept' });
    let closed = false;
    socket.once('close', () => (closed = true));
    proxy.blackhole(true);
    for (const peer of served) peer.destroy();
    await waitFor(() => served.size === 0, { what: 'the echo server to hang up' });
    socket.write('anyone?');
    expect(await nextData(socket, 300)).toBeUndefined();
    expect(closed).toBe(false);
    proxy.blackhole(false);
    await waitFor(() => closed, { what: 'the client to learn of the hang-up' });
  });

  it('close() resets connections and stops listening', async () => {
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
    const socket = await open();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await proxy.close();
    await closed;
    const late = connect(proxy.port, '127.0.0.1');
    sockets.push(late);
    const [error] = await once(late, 'error');
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
