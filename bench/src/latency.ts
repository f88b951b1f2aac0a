/**
 * End-to-end latency: consumers record `receive time − sent at` (the stamp Postgres put in the
 * body), and the pair waits until every paced event arrived or a deadline passed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from './measure.js';
import { sentAtOf } from './payload.js';

/** What an upstream's consumer gives back: the latencies so far, in ms, and how to stop. */
export interface LatencyConsumer {
  latencies(): Promise<readonly number[]>;
  stop(): Promise<void>;
}

/** For consumers in this process: call `record(body)` on every message received. */
export function latencyRecorder() {
  const latencies: number[] = [];
  return {
    record(body: Buffer | string): void {
      const sentAt = sentAtOf(body);
      if (Number.isFinite(sentAt)) latencies.push(nowMs() - sentAt);
    },
    latencies: async (): Promise<readonly number[]> => latencies,
  };
}

/** Polls `consumer` until `expected` latencies are in, or `graceMs` passed. */
export async function collectLatencies(consumer: LatencyConsumer, expected: number, graceMs = 10_000): Promise<readonly number[]> {
  const deadline = performance.now() + graceMs;
  for (;;) {
    const latencies = await consumer.latencies();
    if (latencies.length >= expected || performance.now() > deadline) return latencies;
    await sleep(50);
  }
}
