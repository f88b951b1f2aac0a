import { setMaxListeners } from 'node:events';
import { BridgeError, abortError, redactUri, silentLogger, type BridgeEvent, type Logger, type Publisher, type PublisherCapabilities, type PublisherContext, type PublishOptions, type Target } from '@pg-event-bridge/core';
import { awsClientConfig, type AwsClientConfigShape, type AwsPublisherOptions } from './aws-publisher-options.js';
import { limitResponseBytes } from './limit-response-bytes.js';
import { TargetBatcher, settle, type PendingEntry, type TargetBatcherOptions } from './target-batcher.js';

/** The resolved options {@link AwsBatchPublisher} reads. */
export interface AwsBatchPublisherOptions<TClient, TConfig extends AwsClientConfigShape> extends AwsPublisherOptions<TClient, TConfig> {
  readonly checkTargets: boolean;
  readonly maxPayloadBytes: number;
  readonly stopTimeoutMs?: number;
}

/**
 * The lifecycle the SNS, SQS and Lambda publishers share: `start()` creates (or adopts) the SDK
 * client and checks every target; `publish()` validates and encodes the event ({@link prepare}) and
 * queues it on the target's {@link TargetBatcher}, whose batches go to {@link send}; `stop()` lets
 * everything handed to `publish()` settle, then destroys the client it created.
 *
 * @example
 * ```ts
 * class SnsPublisher extends AwsBatchPublisher<SNSClient, SNSClientConfig, SnsEntry> {
 *   readonly name = 'sns';
 *   readonly targetKinds = ['topic'] as const;
 *   constructor(options: ResolvedSnsOptions) { super(options, (config) => new SNSClient(config)); }
 *   // checkTarget, prepare, batcherOptions, send
 * }
 * ```
 */
export abstract class AwsBatchPublisher<TClient extends { destroy(): void }, TConfig extends AwsClientConfigShape, TEntry> implements Publisher {
  abstract readonly name: string;
  abstract readonly targetKinds: readonly string[];
  readonly capabilities: PublisherCapabilities;
  protected logger: Logger = silentLogger;
  readonly #options: AwsBatchPublisherOptions<TClient, TConfig>;
  readonly #newClient: (config: TConfig) => TClient;
  readonly #batchers = new Map<string, TargetBatcher<TEntry>>();
  readonly #lifetime = new AbortController();
  #client: TClient | undefined;
  #ownsClient = false;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;

  constructor(options: AwsBatchPublisherOptions<TClient, TConfig>, newClient: (config: TConfig) => TClient) {
    this.#options = options;
    this.#newClient = newClient;
    this.capabilities = { headers: true, ordered: true, maxPayloadBytes: options.maxPayloadBytes };
    // Every in-flight request listens to this one signal.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** The SDK client, from `start()` on. */
  protected get client(): TClient {
    return this.#client!;
  }

  /** Aborted by `stop()` once everything handed to `publish()` settled: the signal of every request. */
  protected get lifetime(): AbortSignal {
    return this.#lifetime.signal;
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[${this.name}] start() called while the publisher is ${this.#state}`);
    this.#state = 'starting';
    this.logger = context.logger;
    this.checkTargetNames(context.targets);
    const o = this.#options;
    this.#client = o.client ?? this.#newClient(awsClientConfig(o));
    this.#ownsClient = o.client === undefined;
    if (this.#ownsClient) limitResponseBytes(this.name, this.#client, this.maxResponseBytes);
    this.logger.debug({ region: o.region, endpoint: o.endpoint && redactUri(o.endpoint), targets: context.targets.length, ...this.startLogFields() }, `[${this.name}] Starting`);
    if (o.checkTargets) {
      for (const target of context.targets) await this.checkTarget(target.name, context.signal);
    }
    this.#state = 'running';
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'running' || !this.#client) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_STATE', `[${this.name}] publish() called while the publisher is ${this.#state}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    let prepared: { entry: TEntry; size: number };
    try {
      prepared = this.prepare(target, event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#batcher(target.name).add(prepared.entry, prepared.size, options.signal);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const wasStarted = this.#state !== 'new';
      this.#state = 'stopped';
      if (!wasStarted) return;
      // Everything handed to publish() is still sent: each call settles with the upstream's answer,
      // within stopTimeoutMs; then the requests still in flight are aborted and what is queued fails.
      const idle = Promise.all([...this.#batchers.values()].map((b) => b.idle()));
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([idle.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, this.#options.stopTimeoutMs ?? 10_000, true)))]);
      clearTimeout(timer);
      if (late) {
        this.logger.warn({ stopTimeoutMs: this.#options.stopTimeoutMs ?? 10_000 }, `[${this.name}] Stopping with requests in flight; aborting them`);
        for (const batcher of this.#batchers.values()) batcher.rejectQueued(new BridgeError('ERR_BRIDGE_ABORTED', `[${this.name}] The publisher stopped before this message was sent`));
      }
      this.#lifetime.abort();
      if (late) await idle;
      if (this.#ownsClient) this.#client?.destroy();
    })();
    return this.#stopping;
  }

  /** The longest HTTP response read; a longer one fails the call (retryable). @default 1 MiB */
  protected get maxResponseBytes(): number {
    return 1024 * 1024;
  }

  /** Refuses target names the upstream can never accept, before any client exists. */
  protected checkTargetNames(_targets: readonly Target[]): void {}

  /** Extra fields of the "Starting" debug log. */
  protected startLogFields(): Record<string, unknown> {
    return {};
  }

  /** With `checkTargets`: throws a BridgeError when the target cannot be used. */
  protected abstract checkTarget(name: string, signal: AbortSignal): Promise<void>;

  /** Validates and encodes one event; throws a BridgeError it is refused with. */
  protected abstract prepare(target: Target, event: BridgeEvent): { entry: TEntry; size: number };

  /** How the target's batches are cut. */
  protected abstract batcherOptions(name: string): TargetBatcherOptions;

  /** Sends one batch; must settle every entry of it (see {@link settle}). */
  protected abstract send(name: string, batch: PendingEntry<TEntry>[]): Promise<void>;

  /**
   * Settles a batch the whole request failed for. A permanent request-level refusal of several
   * messages may be caused by one of them: they are sent again one by one so only the culprit fails.
   */
  protected async failBatch(name: string, batch: PendingEntry<TEntry>[], error: BridgeError): Promise<void> {
    if (!error.retryable && batch.length > 1 && error.code !== 'ERR_BRIDGE_ABORTED' && error.code !== 'ERR_BRIDGE_CONFIG') {
      for (const pending of batch) if (!pending.settled) await this.send(name, [pending]);
      return;
    }
    for (const pending of batch) settle(pending, error);
  }

  #batcher(name: string): TargetBatcher<TEntry> {
    let batcher = this.#batchers.get(name);
    if (!batcher) {
      batcher = new TargetBatcher<TEntry>((batch) => this.send(name, batch), this.batcherOptions(name));
      this.#batchers.set(name, batcher);
    }
    return batcher;
  }
}
