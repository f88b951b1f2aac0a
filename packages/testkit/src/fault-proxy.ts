import { connect, createServer, type Socket } from 'node:net';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where accepted connections are forwarded. */
  readonly target: { readonly host: string; readonly port: number };
  /** The port to listen on (127.0.0.1). @default a free port chosen by the kernel */
  readonly listenPort?: number;
}

/** A TCP proxy that breaks connections on demand. Clients connect to `host:port`. */
export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Connections accepted since the proxy started, refused ones included. */
  readonly accepted: number;
  /** Resets every open connection (the client sees ECONNRESET); new ones are still accepted. */
  cut(): void;
  /** While on, each new connection is reset as soon as it is accepted. Open ones are untouched. */
  refuse(on: boolean): void;
  /**
   * While on, no byte is forwarded in either direction, on open and new connections alike; the
   * sockets stay open, so clients see a silent peer. Bytes sent meanwhile wait in the socket
   * buffers and flow again when turned off, as after a healed network partition (unless cut).
   * Nor does a close pass through: if the target hangs up meanwhile, the client learns it (by a
   * reset) only when the blackhole is turned off.
   */
  blackhole(on: boolean): void;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** One side closed while blackholed; the other is reset when the blackhole ends. */
  closedInBlackhole: boolean;
}

/**
 * Starts a real TCP proxy on 127.0.0.1 in front of a service, for fault tests that must not stop
 * the shared service itself.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
 * const url = `amqp://guest:guest@127.0.0.1:${proxy.port}//`;
 * // ... publish through it, then:
 * proxy.cut();
 * await proxy.close();
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let blackholed = false;
  let accepted = 0;

  const forward = (pair: Pair, from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!blackholed) from.resume();
    });
    from.on('end', () => {
      if (blackholed) pair.closedInBlackhole = true;
      else to.end();
    });
  };

  const reset = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.upstream.destroy();
  };

  const server = createServer((client) => {
    accepted += 1;
    client.on('error', () => {});
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(options.target.port, options.target.host);
    upstream.on('error', () => {});
    const pair: Pair = { client, upstream, closedInBlackhole: false };
    pairs.add(pair);
    const end = () => {
      if (blackholed) {
        pair.closedInBlackhole = true;
        return;
      }
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
    if (blackholed) {
      client.pause();
      upstream.pause();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('fault proxy: no listening address');

  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      for (const pair of [...pairs]) reset(pair);
    },
    refuse(on) {
      refusing = on;
    },
    blackhole(on) {
      blackholed = on;
      for (const pair of [...pairs]) {
        const { client, upstream } = pair;
        if (!on && pair.closedInBlackhole) {
          reset(pair);
        } else if (on) {
          client.pause();
          upstream.pause();
        } else {
          client.resume();
          upstream.resume();
        }
      }
    },
    close() {
      refusing = true;
      for (const pair of [...pairs]) reset(pair);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
