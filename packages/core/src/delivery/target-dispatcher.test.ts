import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors.js';
import type { Publisher, Target } from '../publisher.js';
import type { BridgeEvent } from '../source.js';
import { TargetDispatcher, type DeadLetter, type DispatchObserver } from './target-dispatcher.js';

// A publisher whose broker is scripted per message, to pin down ordering and retry rules.
function scriptedPublisher(ordered: boolean, outcome: (event: BridgeEvent, attempt: number) => 'ok' | 'retry' | 'fatal') {
  const accepted: string[] = [];
  const attempts = new Map<string, number>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const publisher: Publisher = {
    name: 'scripted',
    targetKinds: ['queue'],
    capabilities: { headers: false, ordered, maxPayloadBytes: 1024 },
    async start() {},
    async stop() {},
    async publish(_target, event) {
      const attempt = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, attempt);
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((resolve) => setImmediate(resolve));
      concurrent -= 1;
      const result = outcome(event, attempt);
      if (result === 'retry') throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', 'down', { retryable: true });
      if (result === 'fatal') throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', 'too big');
      accepted.push(event.id);
    },
  };
  return { publisher, accepted, attempts, maxConcurrent: () => maxConcurrent };
}

const target: Target = { kind: 'queue', name: 'q' };
const event = (id: string): BridgeEvent => ({ id, source: 'c', routingKey: '', body: Buffer.from(id), timestamp: new Date() });

function observer(deadLetters: DeadLetter[] = []): DispatchObserver & { capacity: boolean[] } {
  const capacity: boolean[] = [];
  return {
    capacity,
    published() {},
    retrying() {},
    async deadLetter(letter) {
      deadLetters.push(letter);
    },
    capacityChanged(full) {
      capacity.push(full);
    },
  };
}

const fast = { maxInFlight: 100, maxInFlightBytes: 1 << 20, retry: { initialDelayMs: 1, maxDelayMs: 2 } };

describe('TargetDispatcher', () => {
  it('pipelines up to maxInFlight publishes for an ordered publisher, in order', async () => {
    const broker = scriptedPublisher(true, () => 'ok');
    const dispatcher = new TargetDispatcher(broker.publisher, target, { ...fast, maxInFlight: 8 }, observer());
    const ids = Array.from({ length: 50 }, (_, i) => String(i));
    await Promise.all(ids.map((id) => dispatcher.enqueue(event(id))));
    expect(broker.accepted).toEqual(ids);
    expect(broker.maxConcurrent()).toBe(8);
  });

  it('sends one at a time when the publisher does not keep order', async () => {
    const broker = scriptedPublisher(false, () => 'ok');
    const dispatcher = new TargetDispatcher(broker.publisher, target, fast, observer());
    await Promise.all(['a', 'b', 'c'].map((id) => dispatcher.enqueue(event(id))));
    expect(broker.maxConcurrent()).toBe(1);
  });

  it('holds the line on a retryable failure and resends in the original order', async () => {
    // Message 3 fails twice; everything after it must not overtake it.
    const broker = scriptedPublisher(false, (e, attempt) => (e.id === '3' && attempt < 3 ? 'retry' : 'ok'));
    const dispatcher = new TargetDispatcher(broker.publisher, target, fast, observer());
    const ids = ['1', '2', '3', '4', '5'];
    await Promise.all(ids.map((id) => dispatcher.enqueue(event(id))));
    expect(broker.accepted).toEqual(ids);
    expect(broker.attempts.get('3')).toBe(3);
  });

  it('resends every failed message of a pipelined window in order after a connection loss', async () => {
    let down = true;
    const broker = scriptedPublisher(true, (e) => {
      if (e.id === '10' && down) down = false;
      return Number(e.id) >= 10 && Number(e.id) < 20 && broker.attempts.get(e.id) === 1 ? 'retry' : 'ok';
    });
    const dispatcher = new TargetDispatcher(broker.publisher, target, fast, observer());
    const ids = Array.from({ length: 30 }, (_, i) => String(i));
    await Promise.all(ids.map((id) => dispatcher.enqueue(event(id))));
    const firstOf = (id: string) => broker.accepted.indexOf(id);
    for (let i = 10; i < 19; i++) expect(firstOf(String(i))).toBeLessThan(firstOf(String(i + 1)));
    expect(new Set(broker.accepted)).toEqual(new Set(ids));
  });

  it("waits at least the upstream's Retry-After before retrying", async () => {
    const delays: number[] = [];
    let failed = false;
    const broker = scriptedPublisher(false, () => (failed ? 'ok' : ((failed = true), 'retry')));
    const publish = broker.publisher.publish.bind(broker.publisher);
    broker.publisher.publish = async (target, e, options) => {
      try {
        await publish(target, e, options);
      } catch {
        throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', '429', { retryable: true, retryAfterMs: 250 });
      }
    };
    const dispatcher = new TargetDispatcher(broker.publisher, target, fast, { ...observer(), retrying: (info) => delays.push(info.delayMs) });
    const started = performance.now();
    await dispatcher.enqueue(event('a'));
    expect(delays).toEqual([250]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('dead-letters a permanent failure and carries on with the next message', async () => {
    const letters: DeadLetter[] = [];
    const broker = scriptedPublisher(false, (e) => (e.id === 'big' ? 'fatal' : 'ok'));
    const dispatcher = new TargetDispatcher(broker.publisher, target, fast, observer(letters));
    await Promise.all(['a', 'big', 'b'].map((id) => dispatcher.enqueue(event(id))));
    expect(broker.accepted).toEqual(['a', 'b']);
    expect(letters.map((l) => [l.event.id, l.error.code, l.attempts])).toEqual([['big', 'ERR_BRIDGE_PAYLOAD_TOO_LARGE', 1]]);
  });

  it('reports full at maxInFlight and free again once messages are accepted', async () => {
    const broker = scriptedPublisher(true, () => 'ok');
    const seen = observer();
    const dispatcher = new TargetDispatcher(broker.publisher, target, { ...fast, maxInFlight: 3 }, seen);
    const done = ['a', 'b', 'c'].map((id) => dispatcher.enqueue(event(id)));
    expect(dispatcher.full).toBe(true);
    await Promise.all(done);
    expect(dispatcher.full).toBe(false);
    expect(seen.capacity).toEqual([true, false]);
  });

  it('counts bytes toward the limit', () => {
    const broker = scriptedPublisher(true, () => 'ok');
    const dispatcher = new TargetDispatcher(broker.publisher, target, { ...fast, maxInFlightBytes: 4 }, observer());
    void dispatcher.enqueue({ ...event('x'), body: Buffer.alloc(4) });
    expect(dispatcher.full).toBe(true);
  });

  it('rejects queued messages with ERR_BRIDGE_ABORTED on abort, including ones waiting to be retried', async () => {
    const broker = scriptedPublisher(false, () => 'retry');
    let backingOff!: () => void;
    const retrying = new Promise<void>((resolve) => (backingOff = resolve));
    const dispatcher = new TargetDispatcher(broker.publisher, target, { ...fast, retry: { initialDelayMs: 60_000 } }, { ...observer(), retrying: () => backingOff() });
    const first = dispatcher.enqueue(event('a'));
    const second = dispatcher.enqueue(event('b'));
    await retrying;
    dispatcher.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
    await expect(second).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
    expect(dispatcher.pending).toBe(0);
  });
});
