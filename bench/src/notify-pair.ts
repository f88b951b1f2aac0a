/**
 * One NOTIFY → upstream pair at one payload size: the broker's client alone, then the bridge's
 * sustained rate (a burst of N NOTIFYs until the bridge's publisher had every one acknowledged),
 * then end-to-end latency at a fixed rate, and the bridge process's peak RSS.
 */
import { randomUUID } from 'node:crypto';
import { brokerCeiling } from './ceilings.js';
import { BridgeProcess } from './bridge-process.js';
import { collectLatencies } from './latency.js';
import { perSecond, summariseLatencies, type LatencySummary } from './measure.js';
import type { NotifySender } from './notify-sender.js';
import type { Services, UpstreamScenario } from './upstreams/upstream-scenario.js';

export interface PairSettings {
  readonly postgres: string;
  readonly sender: NotifySender;
  readonly services: Services;
  /** Events of the throughput run. */
  readonly events: number;
  /** The NOTIFY ceiling at this size, measured once for every pair. */
  readonly notifyCeiling: number;
  /** Events per second of the latency run, at most; halved when a ceiling is below twice it. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly cpuProfileDir?: string;
}

export interface PairResult {
  readonly source: 'notify';
  readonly upstream: string;
  readonly label: string;
  readonly payloadBytes: number;
  readonly events: number;
  readonly ceilings: { readonly notify: number; readonly broker: number; readonly brokerClient: string };
  readonly bridge: { readonly eventsPerSecond: number; readonly peakRssMiB: number };
  readonly ratio: number;
  readonly latency: LatencySummary & { readonly rate: number; readonly sent: number };
}

export async function runNotifyPair(scenario: UpstreamScenario, size: number, settings: PairSettings): Promise<PairResult> {
  const id = randomUUID().slice(0, 8);
  const channels = { burst: `bench_${id}_burst`, probe: `bench_${id}_probe` };
  const harness = await scenario.setup({ channels, id, services: settings.services });
  let bridge: BridgeProcess | undefined;
  try {
    const broker = await brokerCeiling(harness.ceiling, settings.events, size);

    bridge = await BridgeProcess.start(
      { upstream: scenario.name, publisherOptions: harness.publisherOptions, rules: harness.rules, postgres: settings.postgres },
      settings.cpuProfileDir ? { cpuProfileDir: settings.cpuProfileDir } : {},
    );
    // Warm-up (JIT, connections, the emulators' first calls), not timed.
    const warmUp = Math.max(100, Math.round(settings.events / 10));
    await settings.sender.burst(channels.burst, warmUp, size);
    await bridge.published(warmUp);

    const started = performance.now();
    await settings.sender.burst(channels.burst, settings.events, size);
    await bridge.published(warmUp + settings.events);
    const eventsPerSecond = perSecond(settings.events, performance.now() - started);

    const rate = Math.max(1, Math.min(settings.latencyRate, Math.floor(Math.min(broker, settings.notifyCeiling) / 2)));
    const consumer = await harness.consume();
    const sent = await settings.sender.paced(channels.probe, rate, settings.latencySeconds, size);
    const latencies = await collectLatencies(consumer, sent);
    await consumer.stop();
    const peakRssMiB = await bridge.stop();
    bridge = undefined;

    return {
      source: 'notify',
      upstream: scenario.name,
      label: scenario.label,
      payloadBytes: size,
      events: settings.events,
      ceilings: { notify: settings.notifyCeiling, broker, brokerClient: harness.ceiling.describe },
      bridge: { eventsPerSecond, peakRssMiB },
      ratio: Math.round((eventsPerSecond / Math.min(settings.notifyCeiling, broker)) * 100) / 100,
      latency: { ...summariseLatencies(latencies), rate, sent },
    };
  } finally {
    bridge?.kill();
    await harness.dispose();
  }
}
