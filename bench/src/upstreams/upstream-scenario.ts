import type { Publisher } from '@pg-event-bridge/core';
import type { PublishPlan } from '../ceilings.js';
import type { LatencyConsumer } from '../latency.js';

/** Emulators and receivers the bench starts itself, each in a process of its own. */
export interface Services {
  /** fauxqs (SNS + SQS) endpoint. */
  readonly fauxqs?: string;
  /** The HTTP receiver's base URL (webhook targets, Lambda handler reports). */
  readonly receiver?: string;
  /** serverless-offline's Lambda endpoint. */
  readonly lambda?: string;
}
export type ServiceName = keyof Services;

export interface SetupContext {
  /** Two NOTIFY channels: throughput events on `burst` (not consumed), paced events on `probe`. */
  readonly channels: { readonly burst: string; readonly probe: string };
  /** Unique per pair, for queue, topic and stream names. */
  readonly id: string;
  readonly services: Services;
}

/** One upstream's targets for one pair, its raw client, and its consumer. */
export interface UpstreamHarness {
  /** `BRIDGE_CHANNELS` text for the bridge. */
  readonly rules: string;
  /** JSON options for {@link UpstreamScenario.createPublisher}, in the bridge's process. */
  readonly publisherOptions: unknown;
  /**
   * The broker's client alone, publishing to the throughput target (`burst`: the broker ceiling)
   * or to the probe target the consumer reads (`probe`: the direct relay, the latency baseline).
   */
  client(to: 'burst' | 'probe'): PublishPlan;
  /** Starts consuming the probe target, recording latencies. */
  consume(): Promise<LatencyConsumer>;
  dispose(): Promise<void>;
}

/** NOTIFY → one upstream. */
export interface UpstreamScenario {
  /** `--only` name: amqp, mqtt, redis-pubsub, redis-stream, nats, sns, sqs, lambda, webhook. */
  readonly name: string;
  /** Target and acknowledgement, for the report. */
  readonly label: string;
  readonly services: readonly ServiceName[];
  /**
   * Emulators that slow down with the work they have done, restarted before the ceiling, the
   * relay and the bridge are measured, so that none of the three meets a worn one.
   */
  readonly restartBeforeEachRun?: readonly 'lambda'[];
  /** Events of the throughput runs (a quarter with --quick): a few seconds each on 2 cores. */
  readonly events: number;
  setup(context: SetupContext): Promise<UpstreamHarness>;
  /** The upstream package's publisher, built in the bridge's process. */
  createPublisher(options: unknown): Publisher;
}
