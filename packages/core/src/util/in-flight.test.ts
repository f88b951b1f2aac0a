import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight.js';

describe('InFlight', () => {
  it('passes results and rejections through and counts calls until they settle', async () => {
    const inFlight = new InFlight();
    let finish!: () => void;
    const slow = inFlight.track(new Promise<void>((resolve) => (finish = resolve)));
    await expect(inFlight.track(Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(inFlight.size).toBe(1);
    finish();
    await slow;
    expect(await inFlight.settle(10)).toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('gives up waiting after the timeout', async () => {
    const inFlight = new InFlight();
    void inFlight.track(new Promise(() => undefined));
    expect(await inFlight.settle(20)).toBe(false);
  });
});
