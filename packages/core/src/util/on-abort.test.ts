import { describe, expect, it } from 'vitest';
import { abortable, onAbort, whenOpen } from './on-abort.js';

describe('onAbort', () => {
  it('calls every callback once through a single listener, and not the unregistered ones', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    onAbort(controller.signal, () => calls.push('a'));
    const stop = onAbort(controller.signal, () => calls.push('b'));
    for (let i = 0; i < 50; i++) onAbort(controller.signal, () => undefined);
    stop();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['a']);
  });

  it('calls at once for a signal that already aborted', () => {
    let called = false;
    onAbort(AbortSignal.abort(), () => (called = true));
    expect(called).toBe(true);
  });
});

describe('abortable', () => {
  it('passes the value through, or rejects with ERR_BRIDGE_ABORTED on abort', async () => {
    await expect(abortable(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    const controller = new AbortController();
    const pending = abortable(new Promise(() => undefined), controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
  });
});

describe('whenOpen', () => {
  it('waits for ready once, then returns the connection itself; aborts while still opening', async () => {
    const connection = { ready: Promise.resolve(), name: 'c' };
    const first = whenOpen(connection, undefined);
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toBe(connection);
    expect(whenOpen(connection, undefined)).toBe(connection);

    const controller = new AbortController();
    const opening = whenOpen({ ready: new Promise<void>(() => undefined) }, controller.signal);
    controller.abort();
    await expect(opening).rejects.toMatchObject({ code: 'ERR_BRIDGE_ABORTED' });
  });

  it('keeps a connection that failed to open unopened', async () => {
    const ready = Promise.reject(new Error('refused'));
    ready.catch(() => undefined); // as the publishers do: a failed open is reported by the publishes
    const connection = { ready };
    await expect(whenOpen(connection, undefined)).rejects.toThrow('refused');
    const again = whenOpen(connection, undefined);
    expect(again).toBeInstanceOf(Promise);
    await expect(again).rejects.toThrow('refused');
    expect(connection).not.toHaveProperty('open');
  });
});
