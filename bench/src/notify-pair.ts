/**
 * One NOTIFY → upstream pair at one payload size: the broker's client alone, then the bridge's
 * sustained rate (a burst of N NOTIFYs until the bridge's publisher had every one acknowledged),
 * then end-to-end latency at a fixed rate, and the bridge process's peak RSS.
 */
import { randomUUID } from 'node:crypto';
import { brokerCeiling, classifyLimit, type Limit } from './ceilings.js';
import { BridgeProcess, loopBusy } from './bridge-process.js';
import { collectLatencies, type LatencyConsumer } from './latency.js';
import { startRelay } from './relay.js';
import { perSecond, round, summariseLatencies, type LatencySummary } from './measure.js';
import type { NotifySender } from './notify-sender.js';
import type { Services, UpstreamScenario } from './upstreams/upstream-scenario.js';

export interface PairSettings {
  readonly postgres: string;
  readonly sender: NotifySender;
  readonly services: Services;
  /** Restarts an emulator on the same URL (see `restartBeforeEachRun`). */
  restart(name: 'lambda'): Promise<void>;
  /** Events of each throughput run. */
  readonly events: number;
  /** Throughput runs of the ceiling, the relay and the bridge; each reports its best. */
  readonly rounds: number;
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
  readonly ceilings: {
    readonly notify: number;
    readonly broker: number;
    readonly brokerClient: string;
    /** Share of the time the broker's client's event loop was busy publishing alone. */
    readonly brokerClientLoopBusy: number;
    /** Cores the broker's client's process kept busy, helper threads included. */
    readonly brokerClientCpuShare: number;
    readonly brokerClientCpuUsPerEvent: number;
  };
  /** What bounds the lower ceiling, and issue 8's bar for the ratio there (see classifyLimit). */
  readonly limit: Limit;
  readonly target: number;
  /** The same burst through the direct relay (pg client → broker client alone), events per second. */
  readonly relay: { readonly eventsPerSecond: number; readonly bridgeRatio: number };
  readonly bridge: {
    readonly eventsPerSecond: number;
    readonly peakRssMiB: number;
    /** CPU time (user + system) of the bridge's process per event of the throughput run. */
    readonly cpuUsPerEvent: number;
    /** Cores the bridge's process kept busy during the throughput run, helper threads included. */
    readonly cpuShare: number;
    /** Share of the throughput run during which the bridge's event loop was busy. */
    readonly loopBusy: number;
  };
  readonly ratio: number;
  readonly latency: LatencySummary & {
    readonly rate: number;
    readonly sent: number;
    /** The same paced stream through the direct relay (pg client → broker client), no bridge. */
    readonly direct: LatencySummary;
    /** p99 the bridge adds: its p99 minus the direct relay's. */
    readonly addedP99Ms: number;
  };
}

export async function runNotifyPair(scenario: UpstreamScenario, size: number, settings: PairSettings): Promise<PairResult> {
  const id = randomUUID().slice(0, 8);
  const channels = { burst: `bench_${id}_burst`, probe: `bench_${id}_probe` };
  const harness = await scenario.setup({ channels, id, services: settings.services });
  let bridge: BridgeProcess | undefined;
  const fresh = async () => {
    for (const name of scenario.restartBeforeEachRun ?? []) await settings.restart(name);
  };
  try {
    await fresh();
    const ceiling = await brokerCeiling(harness.client('burst'), settings.events, size, settings.rounds);
    const broker = ceiling.eventsPerSecond;
    const rate = Math.max(1, Math.min(settings.latencyRate, Math.floor(Math.min(broker, settings.notifyCeiling) / 2)));

    const warmUp = Math.max(100, Math.round(settings.events / 10));

    // The direct relay, before the bridge LISTENs on the same channels: the same burst (what
    // Postgres and the broker reach together here), then the paced stream (the latency baseline).
    await fresh();
    const burstRelay = await startRelay(settings.postgres, channels.burst, harness.client('burst'));
    const { eventsPerSecond: relayEventsPerSecond } = await timeBurst(settings, channels.burst, size, warmUp, (count) => burstRelay.acknowledged(count));
    await burstRelay.stop();
    const directConsumer = await harness.consume();
    const probeRelay = await startRelay(settings.postgres, channels.probe, harness.client('probe'));
    const direct = await pacedLatencies(settings, channels.probe, rate, size, directConsumer);
    await probeRelay.acknowledged(direct.warm + direct.sent);
    await probeRelay.stop();
    await directConsumer.stop();

    await fresh();
    bridge = await BridgeProcess.start(
      { upstream: scenario.name, publisherOptions: harness.publisherOptions, rules: harness.rules, postgres: settings.postgres },
      settings.cpuProfileDir ? { cpuProfileDir: settings.cpuProfileDir } : {},
    );
    const running = bridge;
    const best = await timeBurst(settings, channels.burst, size, warmUp, (count) => running.published(count));
    const { eventsPerSecond, from: before, to: after } = best;
    const elapsedMs = (settings.events * 1000) / eventsPerSecond;
    const cpuUs = after.cpuUs - before.cpuUs;

    const consumer = await harness.consume();
    const { sent, latencies } = await pacedLatencies(settings, channels.probe, rate, size, consumer);
    await consumer.stop();
    const peakRssMiB = await bridge.stop();
    bridge = undefined;
    const summary = summariseLatencies(latencies);
    const directSummary = summariseLatencies(direct.latencies);

    return {
      source: 'notify',
      upstream: scenario.name,
      label: scenario.label,
      payloadBytes: size,
      events: settings.events,
      ceilings: {
        notify: settings.notifyCeiling,
        broker,
        brokerClient: harness.client('burst').describe,
        brokerClientLoopBusy: ceiling.clientLoopBusy,
        brokerClientCpuShare: ceiling.clientCpuShare,
        brokerClientCpuUsPerEvent: ceiling.clientCpuUsPerEvent,
      },
      relay: { eventsPerSecond: relayEventsPerSecond, bridgeRatio: round(eventsPerSecond / relayEventsPerSecond) },
      ...classifyLimit(settings.notifyCeiling, ceiling),
      bridge: { eventsPerSecond, peakRssMiB, cpuUsPerEvent: round(cpuUs / settings.events, 1), cpuShare: round(cpuUs / 1000 / elapsedMs), loopBusy: loopBusy(before, after) },
      ratio: Math.round((eventsPerSecond / Math.min(settings.notifyCeiling, broker)) * 100) / 100,
      latency: { ...summary, rate, sent, direct: directSummary, addedP99Ms: round(summary.p99Ms - directSummary.p99Ms) },
    };
  } finally {
    bridge?.kill();
    await harness.dispose();
  }
}

/**
 * Sends the paced probe stream and collects what `consumer` received. A first second at the same
 * rate is not counted: it warms what the throughput run did not touch (the probe queue, topic or
 * function, which an emulator may start only now).
 */
async function pacedLatencies(settings: PairSettings, channel: string, rate: number, size: number, consumer: LatencyConsumer) {
  const warm = await settings.sender.paced(channel, rate, 1, size);
  await collectLatencies(consumer, warm);
  const sent = await settings.sender.paced(channel, rate, settings.latencySeconds, size);
  const latencies = await collectLatencies(consumer, warm + sent);
  return { warm, sent, latencies: latencies.slice(warm) };
}

/**
 * Sends `warmUp` events (not timed: JIT, connections, the emulators' first calls), then
 * `settings.rounds` bursts of `settings.events`; `acknowledged(total)` resolves once that many
 * were acknowledged in all, with whatever the caller reads at that point. Returns the best round:
 * its events per second and the readings at its start and end.
 */
async function timeBurst<T>(settings: PairSettings, channel: string, size: number, warmUp: number, acknowledged: (total: number) => Promise<T>) {
  await settings.sender.burst(channel, warmUp, size);
  let total = warmUp;
  let from = await acknowledged(total);
  let best: { eventsPerSecond: number; from: T; to: T } | undefined;
  for (let round = 0; round < settings.rounds; round++) {
    const started = performance.now();
    await settings.sender.burst(channel, settings.events, size);
    total += settings.events;
    const to = await acknowledged(total);
    const eventsPerSecond = perSecond(settings.events, performance.now() - started);
    if (!best || eventsPerSecond > best.eventsPerSecond) best = { eventsPerSecond, from, to };
    from = to;
  }
  return best!;
}
