import type { BridgeEvent, DeadLetter, Publisher } from '../src/index.js';

// The testkit depends on core, so core's tests load it by path at run time (vitest resolves it to
// its TypeScript sources) rather than as a package dependency; these are the parts they use.

/** A throwaway PostgreSQL cluster (see packages/testkit/src/private-postgres.ts). */
export interface PrivatePostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

/** A TCP proxy that breaks connections on demand (see packages/testkit/src/fault-proxy.ts). */
export interface FaultProxy {
  readonly port: number;
  readonly connections: number;
  cut(): void;
  blackhole(on: boolean): void;
  close(): Promise<void>;
}

interface Testkit {
  startPrivatePostgres(options?: { settings?: Record<string, string> }): Promise<PrivatePostgres>;
  startFaultProxy(options: { target: { host: string; port: number } }): Promise<FaultProxy>;
  waitFor(condition: () => boolean | Promise<boolean>, options?: { timeoutMs?: number; what?: string }): Promise<void>;
}

const testkitPath = new URL('../../testkit/src/index.ts', import.meta.url).href;

/** Loads the testkit's real-service helpers. */
export async function loadTestkit(): Promise<Testkit> {
  return (await import(testkitPath)) as Testkit;
}

/** An in-process publisher that records what it was given, and a dead-letter store that records too. */
export function recorder() {
  const received: BridgeEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const publisher: Publisher = {
    name: 'recorder',
    targetKinds: ['queue'],
    capabilities: { headers: true, ordered: true, maxPayloadBytes: 64 << 20 },
    async start() {},
    async stop() {},
    async publish(_target, event) {
      received.push(event);
    },
  };
  return {
    publisher,
    received,
    deadLetters,
    deadLetter: async (letter: DeadLetter) => void deadLetters.push(letter),
    bodies: () => received.map((event) => event.body.toString()),
  };
}
