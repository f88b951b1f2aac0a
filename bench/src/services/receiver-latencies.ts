/** A {@link LatencyConsumer} reading the latencies the receiver process recorded. */
import type { LatencyConsumer } from '../latency.js';

export async function receiverLatencies(receiver: string): Promise<LatencyConsumer> {
  await fetch(`${receiver}/latencies`, { method: 'DELETE' });
  return {
    latencies: async () => (await (await fetch(`${receiver}/latencies`)).json()) as number[],
    stop: async () => undefined,
  };
}
