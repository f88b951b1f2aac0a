import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createBridge, type Bridge, type BridgeEvent, type DeadLetter, type Publisher, type Source, type SourceContext } from '../src/index.js';

// Publishers and listeners are code the bridge does not control: however they fail, the process
// lives, the target goes on, and stop() returns. The NOTIFY source the rule starts runs against
// the machine's Postgres; events are handed over directly.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const bridges: Bridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.stop({ timeoutMs: 500, closeTimeoutMs: 500 })));
});

function hostile(publish: (event: BridgeEvent, attempt: number) => unknown, stop: () => Promise<void> = async () => {}) {
  const attempts = new Map<string, number>();
  const publisher = {
    name: 'hostile',
    targetKinds: ['queue'],
    capabilities: { headers: true, ordered: false, maxPayloadBytes: 1 << 20 },
    async start() {},
    stop,
    publish(_target: unknown, event: BridgeEvent) {
      const attempt = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, attempt);
      return publish(event, attempt);
    },
  } as unknown as Publisher;
  return publisher;
}

async function start(publisher: Publisher) {
  let context!: SourceContext;
  const source: Source = { name: 'hand', start: async (ctx) => void (context = ctx), stop: async () => {} };
  const letters: DeadLetter[] = [];
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (_f: unknown, m: string) => void warnings.push(m), error: (_f: unknown, m: string) => void warnings.push(m) };
  const channel = `hp_${randomUUID().slice(0, 8)}`;
  const bridge = createBridge({
    postgres: url,
    upstreams: [{ publisher, rules: `${channel}->queue:q` }],
    sources: [source],
    outbox: false,
    logger,
    deadLetter: async (letter) => void letters.push(letter),
    delivery: { retry: { initialDelayMs: 1, maxDelayMs: 5 } },
  });
  bridges.push(bridge);
  await bridge.start();
  const deliver = (body: string) => context.deliver({ id: randomUUID(), source: channel, routingKey: 'k\r\n\u0000', headers: { 'x-h': 'a\r\nb\u0000' }, body: Buffer.from(body), timestamp: new Date() });
  return { bridge, deliver, letters, warnings };
}

const throwingMessage = () => {
  const error = new Error('x');
  Object.defineProperty(error, 'message', {
    get() {
      throw new Error('message getter');
    },
  });
  return error;
};

describe('hostile publishers', () => {
  it('retries a publish that throws synchronously, rejects with null, a string, a bare object or an error whose message getter throws', async () => {
    const failures: Array<() => unknown> = [
      () => {
        throw new Error('sync');
      },
      () => Promise.reject(null),
      () => Promise.reject('a string'),
      () => Promise.reject(Object.create(null)),
      () => Promise.reject(throwingMessage()),
      () => {
        throw throwingMessage();
      },
    ];
    const seen: BridgeEvent[] = [];
    const publisher = hostile((event, attempt) => {
      if (attempt === 1) return failures[Number(event.body.toString())]!();
      seen.push(event);
      return Promise.resolve();
    });
    const { bridge, deliver, letters } = await start(publisher);
    const retrying: string[] = [];
    bridge.on('retrying', ({ error }) => retrying.push(error.message));
    await Promise.all(failures.map((_, index) => deliver(String(index))));
    expect(seen.map((e) => e.body.toString())).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(retrying).toHaveLength(6);
    expect(letters).toEqual([]);
    // Routing keys and headers with CR, LF and NUL reach the publisher unchanged; refusing them is its job.
    expect(seen[0]).toMatchObject({ routingKey: 'k\r\n\u0000', headers: { 'x-h': 'a\r\nb\u0000' } });
  });

  it('dead-letters a publish that returns something other than a promise, and goes on', async () => {
    const publisher = hostile((event) => (event.body.toString() === 'bad' ? 42 : Promise.resolve()));
    const { deliver, letters } = await start(publisher);
    await deliver('bad');
    await deliver('good');
    expect(letters.map((l) => [l.event.body.toString(), l.error.code])).toEqual([['bad', 'ERR_BRIDGE_STATE']]);
    expect(letters[0]?.error.message).toMatch(/returned 42 instead of a promise/);
  });

  it('survives a listener that throws, and still calls the others', async () => {
    const { bridge, deliver, warnings } = await start(hostile(() => Promise.resolve()));
    let calls = 0;
    bridge.on('published', () => {
      throw new Error('listener bug');
    });
    bridge.on('published', () => void (calls += 1));
    await deliver('a');
    await deliver('b');
    expect(calls).toBe(2);
    expect(warnings.filter((m) => /listener threw/.test(m))).toHaveLength(2);
  });

  it('stops within its deadlines when a publisher never finishes stopping', async () => {
    const { bridge, warnings } = await start(hostile(() => Promise.resolve(), () => new Promise(() => undefined)));
    bridges.splice(0);
    const started = Date.now();
    await bridge.stop({ timeoutMs: 100, closeTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(warnings.some((m) => /Stopping publisher hostile failed or did not settle in time/.test(m))).toBe(true);
  });
});
