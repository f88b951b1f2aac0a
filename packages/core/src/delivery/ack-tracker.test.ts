import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AckTracker', () => {
  it('confirms a transaction only after every change of it was delivered and it was closed', async () => {
    const tracker = new AckTracker(10n);
    const tx = tracker.open();
    const [a, b] = [deferred(), deferred()];
    tx.track(a.promise);
    tx.track(b.promise);
    a.resolve();
    await settle();
    expect(tracker.confirmed).toBe(10n);
    tx.close(100n);
    expect(tracker.confirmed).toBe(10n);
    b.resolve();
    await settle();
    expect(tracker.confirmed).toBe(100n);
    expect(tracker.pending).toBe(false);
  });

  it('never confirms past an earlier transaction that is still in flight', async () => {
    const advances: bigint[] = [];
    const tracker = new AckTracker(0n, (lsn) => advances.push(lsn));
    const first = tracker.open();
    const slow = deferred();
    first.track(slow.promise);
    first.close(100n);
    const second = tracker.open();
    second.track(Promise.resolve());
    second.close(200n);
    await settle();
    expect(tracker.confirmed).toBe(0n);
    slow.resolve();
    await settle();
    expect(tracker.confirmed).toBe(200n);
    expect(advances).toEqual([200n]);
  });

  it('stays put forever behind a delivery that was cancelled', async () => {
    const tracker = new AckTracker(5n);
    const tx = tracker.open();
    const cancelled = deferred();
    tx.track(cancelled.promise);
    tx.close(50n);
    cancelled.reject(new Error('aborted'));
    const later = tracker.open();
    later.close(60n);
    await settle();
    expect(tracker.confirmed).toBe(5n);
  });

  it('advances to idle keepalive positions only when nothing is pending', () => {
    const tracker = new AckTracker(0n);
    const open = tracker.open();
    tracker.advanceIdle(500n);
    expect(tracker.confirmed).toBe(0n);
    open.close(10n);
    tracker.advanceIdle(500n);
    expect(tracker.confirmed).toBe(500n);
    tracker.advanceIdle(400n);
    expect(tracker.confirmed).toBe(500n);
  });
});
