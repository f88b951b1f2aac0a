import { describe, expect, it } from 'vitest';
import { TargetBatcher, settle, type PendingEntry } from './target-batcher.js';

/** A batcher whose send records each batch and settles it when told to. */
function recording(options = { maxEntries: 3, maxBytes: 100, concurrency: 1 }) {
  const batches: Array<PendingEntry<string>[]> = [];
  const releases: Array<(error?: unknown) => void> = [];
  const batcher = new TargetBatcher<string>(
    (batch) =>
      new Promise<void>((resolve) => {
        batches.push(batch);
        releases.push((error) => {
          for (const pending of batch) settle(pending, error);
          resolve();
        });
      }),
    options,
  );
  return { batcher, batches, releases, entries: () => batches.map((b) => b.map((p) => p.entry)) };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TargetBatcher', () => {
  it('sends the calls of one tick together, and those arriving meanwhile as the next batch, in order', async () => {
    const { batcher, releases, entries } = recording();
    const first = ['a', 'b', 'c', 'd'].map((e) => batcher.add(e, 10));
    await tick();
    const later = ['e', 'f'].map((e) => batcher.add(e, 10));
    await tick();
    // maxEntries 3, concurrency 1: the second batch waits for the first.
    expect(entries()).toEqual([['a', 'b', 'c']]);
    releases[0]!();
    await tick();
    expect(entries()).toEqual([['a', 'b', 'c'], ['d', 'e', 'f']]);
    releases[1]!();
    await Promise.all([...first, ...later]);
    await batcher.idle();
    expect(batcher.busy).toBe(false);
  });

  it('cuts a batch at maxBytes, but always sends an entry on its own however large', async () => {
    const { batcher, releases, entries } = recording({ maxEntries: 10, maxBytes: 100, concurrency: 2 });
    void batcher.add('big', 150);
    void batcher.add('x', 60);
    void batcher.add('y', 40);
    await tick();
    expect(entries()).toEqual([['big'], ['x', 'y']]);
    for (const release of releases) release();
  });

  it('rejects an entry whose signal aborts before it is sent, and leaves it out of the batch', async () => {
    const { batcher, releases, entries } = recording();
    const aborted = new AbortController();
    await expect(batcher.add('late', 1, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
    const kept = batcher.add('kept', 1, new AbortController().signal);
    const dropped = batcher.add('dropped', 1, aborted.signal);
    aborted.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
    await tick();
    expect(entries()).toEqual([['kept']]);
    releases[0]!();
    await kept;
  });

  it('rejects queued entries with rejectQueued and every entry of a batch whose send threw', async () => {
    const failure = new Error('send failed');
    const batcher = new TargetBatcher<string>(() => Promise.reject(failure), { maxEntries: 1, maxBytes: 100, concurrency: 1 });
    const outcomes = ['a', 'b', 'c'].map((e) => batcher.add(e, 1).catch((error: unknown) => error));
    batcher.rejectQueued(new Error('stopped'));
    expect(await Promise.all(outcomes)).toEqual([new Error('stopped'), new Error('stopped'), new Error('stopped')]);
    await expect(batcher.add('d', 1)).rejects.toBe(failure);
  });
});
