import { setMaxListeners } from 'node:events';
import { GetTopicAttributesCommand, PublishBatchCommand, SNSClient, type PublishBatchRequestEntry, type SNSClientConfig } from '@aws-sdk/client-sns';
import { BridgeError, abortError, redactUri, silentLogger, type BridgeEvent, type Logger, type Publisher, type PublisherContext, type PublishOptions, type Target } from '@pg-event-bridge/core';
import { encodeBody } from './internal/body-encoding.js';
import { classifyAwsError, isMissingRegion } from './internal/classify-aws-error.js';
import { fifoId, groupIdOf } from './internal/fifo-ids.js';
import { messageAttributes } from './internal/message-attributes.js';
import { TargetBatcher, settle, type PendingEntry } from './internal/target-batcher.js';
import { SNS_MAX_BATCH_ENTRIES, SNS_MAX_MESSAGE_BYTES, resolveSnsOptions, type ResolvedSnsOptions, type SnsPublisherOptions } from './sns-options.js';

/**
 * Creates a publisher to AWS SNS topics. Rules name topics by ARN:
 * `events->topic:arn:aws:sns:us-east-1:123456789012:orders`.
 *
 * Each event becomes one SNS message: the body as the message (UTF-8 text, or base64 with a
 * `body_encoding=base64` attribute), and String message attributes `routing_key` (when not empty),
 * `channel` and `event_id` that subscription filter policies can match. Messages are sent with
 * PublishBatch, up to 10 a call; `publish()` resolves once SNS returned a MessageId for that
 * message. FIFO topics (`.fifo`) get a MessageGroupId (see `fifoGroupBy`) and the event id as
 * MessageDeduplicationId. A message over 256 KiB (body plus attributes) is refused before sending
 * with ERR_BRIDGE_PAYLOAD_TOO_LARGE, which the bridge dead-letters.
 *
 * The factory only validates options; the client is created (or adopted) in `start()`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createSnsPublisher } from '@pg-event-bridge/upstream-sns';
 *
 * const sns = createSnsPublisher({ region: 'eu-west-2' });
 * const bridge = createBridge({
 *   postgres: process.env.DATABASE_URL!,
 *   upstreams: [{ publisher: sns, rules: 'orders->topic:arn:aws:sns:eu-west-2:123456789012:orders' }],
 * });
 * await bridge.start();
 * ```
 */
export function createSnsPublisher(options: SnsPublisherOptions = {}): Publisher {
  return new SnsPublisher(resolveSnsOptions(options));
}

interface SnsEntry {
  readonly event: BridgeEvent;
  readonly request: Omit<PublishBatchRequestEntry, 'Id'>;
}

class SnsPublisher implements Publisher {
  readonly name = 'sns';
  readonly targetKinds = ['topic'] as const;
  readonly capabilities: Publisher['capabilities'];
  readonly #options: ResolvedSnsOptions;
  readonly #batchers = new Map<string, TargetBatcher<SnsEntry>>();
  readonly #lifetime = new AbortController();
  #client: SNSClient | undefined;
  #ownsClient = false;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;

  constructor(options: ResolvedSnsOptions) {
    this.#options = options;
    this.capabilities = { headers: true, ordered: true, maxPayloadBytes: options.maxPayloadBytes };
    // Every in-flight request listens to this one signal.
    setMaxListeners(0, this.#lifetime.signal);
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[sns] start() called while the publisher is ${this.#state}`);
    this.#state = 'starting';
    this.#logger = context.logger;
    this.#client = this.#options.client ?? new SNSClient(this.#clientConfig());
    this.#ownsClient = this.#options.client === undefined;
    this.#logger.debug({ region: this.#options.region, endpoint: this.#options.endpoint && redactUri(this.#options.endpoint), topics: context.targets.length }, '[sns] Starting');
    if (this.#options.checkTargets) {
      for (const target of context.targets) await this.#checkTopic(target.name, context.signal);
    }
    this.#state = 'running';
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'running' || !this.#client) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_STATE', `[sns] publish() called while the publisher is ${this.#state}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    let prepared: { entry: SnsEntry; size: number };
    try {
      prepared = this.#prepare(target, event);
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
      // Everything handed to publish() is still sent: each call settles with the broker's answer.
      await Promise.all([...this.#batchers.values()].map((b) => b.idle()));
      this.#lifetime.abort();
      if (this.#ownsClient) this.#client?.destroy();
    })();
    return this.#stopping;
  }

  #clientConfig(): SNSClientConfig {
    const o = this.#options;
    const config: SNSClientConfig = {};
    if (o.region !== undefined) config.region = o.region;
    if (o.endpoint !== undefined) config.endpoint = o.endpoint;
    if (o.credentials !== undefined) config.credentials = o.credentials;
    if (o.profile !== undefined) config.profile = o.profile;
    return { ...config, ...o.clientConfig };
  }

  async #checkTopic(arn: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#client!.send(new GetTopicAttributesCommand({ TopicArn: arn }), { abortSignal: signal });
    } catch (raw) {
      if (isMissingRegion(raw)) throw new BridgeError('ERR_BRIDGE_CONFIG', '[sns] No AWS region: set the region option (or AWS_REGION, or a profile with a region)', { cause: raw });
      const error = classifyAwsError('sns', `Checking topic ${arn}`, raw);
      if (error.code === 'ERR_BRIDGE_UPSTREAM_REJECTED' && !error.retryable) {
        throw new BridgeError('ERR_BRIDGE_CONFIG', `[sns] Topic target ${JSON.stringify(arn)} was refused (${error.message}); name topics by ARN: topic:arn:aws:sns:us-east-1:123456789012:name`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') {
        throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[sns] Topic ${arn} does not exist (in this account and region): create it or fix the rule`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_UPSTREAM_REJECTED' && error.retryable) {
        // Publish-only credentials often lack sns:GetTopicAttributes; do not refuse to start.
        this.#logger.warn({ topic: arn, err: error }, '[sns] Could not check that the topic exists (permission denied); continuing');
        return;
      }
      throw error;
    }
  }

  #prepare(target: Target, event: BridgeEvent): { entry: SnsEntry; size: number } {
    if (event.body.length > this.#options.maxPayloadBytes) {
      throw new BridgeError(
        'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
        `[sns] Event ${event.id} has a body of ${event.body.length} bytes; the limit is ${this.#options.maxPayloadBytes}. Send large payloads by reference (for example an S3 key)`,
        { retryable: false },
      );
    }
    const body = encodeBody(event.body);
    const { attributes, bytes } = messageAttributes('sns', event, body.encoding);
    const size = Buffer.byteLength(body.text) + bytes;
    if (size > SNS_MAX_MESSAGE_BYTES) {
      throw new BridgeError(
        'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
        `[sns] Event ${event.id} makes a message of ${size} bytes (body ${size - bytes}${body.encoding === 'base64' ? ' as base64' : ''} + attributes ${bytes}); SNS accepts at most ${SNS_MAX_MESSAGE_BYTES}. Send large payloads by reference (for example an S3 key)`,
        { retryable: false },
      );
    }
    const request: Omit<PublishBatchRequestEntry, 'Id'> = { Message: body.text, MessageAttributes: attributes };
    if (target.name.endsWith('.fifo')) {
      request.MessageGroupId = groupIdOf(event, this.#options.fifoGroupBy);
      request.MessageDeduplicationId = fifoId(event.id);
    }
    return { entry: { event, request }, size };
  }

  #batcher(arn: string): TargetBatcher<SnsEntry> {
    let batcher = this.#batchers.get(arn);
    if (!batcher) {
      const fifo = arn.endsWith('.fifo');
      batcher = new TargetBatcher<SnsEntry>((batch) => this.#sendBatch(arn, batch), {
        maxEntries: Math.min(this.#options.maxBatchSize, SNS_MAX_BATCH_ENTRIES),
        maxBytes: SNS_MAX_MESSAGE_BYTES,
        concurrency: fifo ? 1 : this.#options.maxConcurrentBatches,
      });
      this.#batchers.set(arn, batcher);
    }
    return batcher;
  }

  async #sendBatch(arn: string, batch: PendingEntry<SnsEntry>[]): Promise<void> {
    const entries = batch.map((p, i) => ({ ...p.entry.request, Id: `m${i}` }));
    let result;
    try {
      result = await this.#client!.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }), { abortSignal: this.#lifetime.signal });
    } catch (raw) {
      const error = classifyAwsError('sns', `PublishBatch to ${arn}`, raw);
      // A request-level refusal of a multi-message batch may be caused by one message: send them
      // one by one so only the culprit fails.
      if (!error.retryable && batch.length > 1 && error.code !== 'ERR_BRIDGE_ABORTED') {
        for (const pending of batch) if (!pending.settled) await this.#sendBatch(arn, [pending]);
        return;
      }
      for (const pending of batch) settle(pending, error);
      return;
    }
    const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
    const succeeded = new Set((result.Successful ?? []).map((s) => s.Id));
    batch.forEach((pending, i) => {
      const id = `m${i}`;
      const failure = failed.get(id);
      if (failure) {
        const permanent = failure.SenderFault === true;
        const code = failure.Code === 'NotFound' ? 'ERR_BRIDGE_TARGET_MISSING' : 'ERR_BRIDGE_UPSTREAM_REJECTED';
        settle(pending, new BridgeError(code, `[sns] SNS refused event ${pending.entry.event.id} for ${arn}: ${failure.Code ?? 'Error'}: ${failure.Message ?? 'no message'}`, { retryable: !permanent }));
      } else if (succeeded.has(id)) {
        settle(pending);
      } else {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sns] PublishBatch to ${arn} returned no result for event ${pending.entry.event.id}`, { retryable: true }));
      }
    });
  }
}
