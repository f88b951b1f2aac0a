import { setMaxListeners } from 'node:events';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { BridgeError, abortError, redactUri, silentLogger, type BridgeEvent, type Logger, type Publisher, type PublisherContext, type PublishOptions, type Target } from '@pg-event-bridge/core';
import { encodeBody } from './internal/body-encoding.js';
import { classifyAwsError, isMissingRegion } from './internal/classify-aws-error.js';
import { fifoId, groupIdOf } from './internal/fifo-ids.js';
import { messageAttributes } from './internal/message-attributes.js';
import { TargetBatcher, settle, type PendingEntry } from './internal/target-batcher.js';
import { SQS_MAX_BATCH_ENTRIES, resolveSqsOptions, type ResolvedSqsOptions, type SqsPublisherOptions } from './sqs-options.js';

const queueArn = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

/**
 * Creates a publisher to AWS SQS queues. Rules name a queue by name, URL or ARN:
 * `events->queue:orders`, `events->queue:https://sqs.us-east-1.amazonaws.com/123456789012/orders`.
 * Names are resolved to URLs with GetQueueUrl once and cached.
 *
 * Each event becomes one SQS message: the body as the message body (UTF-8 text, or base64 with a
 * `body_encoding=base64` attribute), and String message attributes `routing_key` (when not empty),
 * `channel` and `event_id`. Messages are sent with SendMessageBatch, up to 10 a call; `publish()`
 * resolves once SQS returned a MessageId for that message. FIFO queues (`.fifo`) get a
 * MessageGroupId (see `fifoGroupBy`) and the event id as MessageDeduplicationId. A message over
 * the limit (256 KiB by default, body plus attributes) is refused before sending with
 * ERR_BRIDGE_PAYLOAD_TOO_LARGE, which the bridge dead-letters.
 *
 * The factory only validates options; the client is created (or adopted) in `start()`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createSqsPublisher } from '@pg-event-bridge/upstream-sqs';
 *
 * const sqs = createSqsPublisher({ region: 'eu-west-2' });
 * const bridge = createBridge({
 *   postgres: process.env.DATABASE_URL!,
 *   upstreams: [{ publisher: sqs, rules: 'orders->queue:orders.fifo' }],
 * });
 * await bridge.start();
 * ```
 */
export function createSqsPublisher(options: SqsPublisherOptions = {}): Publisher {
  return new SqsPublisher(resolveSqsOptions(options));
}

interface SqsEntry {
  readonly event: BridgeEvent;
  readonly request: Omit<SendMessageBatchRequestEntry, 'Id'>;
}

class SqsPublisher implements Publisher {
  readonly name = 'sqs';
  readonly targetKinds = ['queue'] as const;
  readonly capabilities: Publisher['capabilities'];
  readonly #options: ResolvedSqsOptions;
  readonly #batchers = new Map<string, TargetBatcher<SqsEntry>>();
  readonly #urls = new Map<string, Promise<string>>();
  readonly #lifetime = new AbortController();
  #client: SQSClient | undefined;
  #ownsClient = false;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;
  // Set once the queue refused characters AWS documents as valid (some emulators do): from then
  // on such bodies travel as base64 right away.
  #bmpOnly = false;

  constructor(options: ResolvedSqsOptions) {
    this.#options = options;
    this.capabilities = { headers: true, ordered: true, maxPayloadBytes: options.maxPayloadBytes };
    setMaxListeners(0, this.#lifetime.signal);
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[sqs] start() called while the publisher is ${this.#state}`);
    this.#state = 'starting';
    this.#logger = context.logger;
    this.#client = this.#options.client ?? new SQSClient(this.#clientConfig());
    this.#ownsClient = this.#options.client === undefined;
    this.#logger.debug({ region: this.#options.region, endpoint: this.#options.endpoint && redactUri(this.#options.endpoint), queues: context.targets.length }, '[sqs] Starting');
    if (this.#options.checkTargets) {
      for (const target of context.targets) {
        try {
          await this.#queueUrl(target.name, context.signal, true);
        } catch (error) {
          if (BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_TARGET_MISSING') {
            throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[sqs] Queue ${JSON.stringify(target.name)} does not exist (in this account and region): create it or fix the rule`, { cause: error });
          }
          throw error;
        }
      }
    }
    this.#state = 'running';
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'running' || !this.#client) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_STATE', `[sqs] publish() called while the publisher is ${this.#state}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    let prepared: { entry: SqsEntry; size: number };
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

  #clientConfig(): SQSClientConfig {
    const o = this.#options;
    const config: SQSClientConfig = {};
    if (o.region !== undefined) config.region = o.region;
    if (o.endpoint !== undefined) config.endpoint = o.endpoint;
    if (o.credentials !== undefined) config.credentials = o.credentials;
    if (o.profile !== undefined) config.profile = o.profile;
    return { ...config, ...o.clientConfig };
  }

  /** The queue URL of a target name, resolved once (a failed lookup is tried again next time). */
  #queueUrl(name: string, signal: AbortSignal, verify = false): Promise<string> {
    let url = this.#urls.get(name);
    if (!url) {
      url = this.#resolveQueueUrl(name, signal, verify);
      this.#urls.set(name, url);
      url.catch(() => this.#urls.delete(name));
    }
    return url;
  }

  async #resolveQueueUrl(name: string, signal: AbortSignal, verify: boolean): Promise<string> {
    try {
      if (/^https?:\/\//i.test(name)) {
        if (verify) await this.#client!.send(new GetQueueAttributesCommand({ QueueUrl: name, AttributeNames: ['QueueArn'] }), { abortSignal: signal });
        return name;
      }
      const arn = queueArn.exec(name);
      const input = arn ? { QueueName: arn[3], QueueOwnerAWSAccountId: arn[2] } : { QueueName: name };
      const result = await this.#client!.send(new GetQueueUrlCommand(input), { abortSignal: signal });
      if (!result.QueueUrl) throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sqs] GetQueueUrl for ${JSON.stringify(name)} returned no URL`, { retryable: true });
      return result.QueueUrl;
    } catch (raw) {
      if (isMissingRegion(raw)) throw new BridgeError('ERR_BRIDGE_CONFIG', '[sqs] No AWS region: set the region option (or AWS_REGION, or a profile with a region)', { cause: raw });
      throw classifyAwsError('sqs', `Looking up queue ${JSON.stringify(name)}`, raw);
    }
  }

  #prepare(target: Target, event: BridgeEvent): { entry: SqsEntry; size: number } {
    const limit = this.#options.maxMessageBytes;
    if (event.body.length > this.#options.maxPayloadBytes) {
      throw new BridgeError(
        'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
        `[sqs] Event ${event.id} has a body of ${event.body.length} bytes; the limit is ${this.#options.maxPayloadBytes}. Send large payloads by reference (for example an S3 key)`,
        { retryable: false },
      );
    }
    const body = encodeBody(event.body, this.#bmpOnly);
    const { attributes, bytes } = messageAttributes('sqs', event, body.encoding);
    const size = Buffer.byteLength(body.text) + bytes;
    if (size > limit) {
      throw new BridgeError(
        'ERR_BRIDGE_PAYLOAD_TOO_LARGE',
        `[sqs] Event ${event.id} makes a message of ${size} bytes (body ${size - bytes}${body.encoding === 'base64' ? ' as base64' : ''} + attributes ${bytes}); the limit is ${limit}. Send large payloads by reference (for example an S3 key)`,
        { retryable: false },
      );
    }
    const request: Omit<SendMessageBatchRequestEntry, 'Id'> = { MessageBody: body.text, MessageAttributes: attributes };
    if (target.name.endsWith('.fifo')) {
      request.MessageGroupId = groupIdOf(event, this.#options.fifoGroupBy);
      request.MessageDeduplicationId = fifoId(event.id);
    }
    return { entry: { event, request }, size };
  }

  #batcher(name: string): TargetBatcher<SqsEntry> {
    let batcher = this.#batchers.get(name);
    if (!batcher) {
      batcher = new TargetBatcher<SqsEntry>((batch) => this.#sendBatch(name, batch), {
        maxEntries: Math.min(this.#options.maxBatchSize, SQS_MAX_BATCH_ENTRIES),
        maxBytes: this.#options.maxMessageBytes,
        concurrency: name.endsWith('.fifo') ? 1 : this.#options.maxConcurrentBatches,
      });
      this.#batchers.set(name, batcher);
    }
    return batcher;
  }

  async #sendBatch(name: string, batch: PendingEntry<SqsEntry>[]): Promise<void> {
    let result;
    try {
      const url = await this.#queueUrl(name, this.#lifetime.signal);
      const entries = batch.map((p, i) => ({ ...p.entry.request, Id: `m${i}` }));
      result = await this.#client!.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }), { abortSignal: this.#lifetime.signal });
    } catch (raw) {
      const error = classifyAwsError('sqs', `SendMessageBatch to ${JSON.stringify(name)}`, raw);
      // The cached URL may point at a deleted queue; look it up again on the retry.
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') this.#urls.delete(name);
      // A request-level refusal of a multi-message batch may be caused by one message: send them
      // one by one so only the culprit fails.
      if (!error.retryable && batch.length > 1 && error.code !== 'ERR_BRIDGE_ABORTED' && error.code !== 'ERR_BRIDGE_CONFIG') {
        for (const pending of batch) if (!pending.settled) await this.#sendBatch(name, [pending]);
        return;
      }
      for (const pending of batch) settle(pending, error);
      return;
    }
    const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
    const succeeded = new Set((result.Successful ?? []).map((s) => s.Id));
    const resend: PendingEntry<SqsEntry>[] = [];
    batch.forEach((pending, i) => {
      const id = `m${i}`;
      const failure = failed.get(id);
      if (failure?.Code === 'InvalidMessageContents' && encodeBody(pending.entry.event.body, true).encoding !== 'utf8' && !pending.entry.request.MessageAttributes?.body_encoding) {
        this.#bmpOnly = true;
        resend.push(pending);
      } else if (failure) {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[sqs] SQS refused event ${pending.entry.event.id} for ${JSON.stringify(name)}: ${failure.Code ?? 'Error'}: ${failure.Message ?? 'no message'}`, { retryable: failure.SenderFault !== true }));
      } else if (succeeded.has(id)) {
        settle(pending);
      } else {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sqs] SendMessageBatch to ${JSON.stringify(name)} returned no result for event ${pending.entry.event.id}`, { retryable: true }));
      }
    });
    // Refused for its characters: send again as base64 (it may then follow messages of its batch).
    for (const pending of resend) {
      const event = pending.entry.event;
      try {
        const again = this.#prepare({ kind: 'queue', name }, event);
        await this.#sendBatch(name, [{ ...pending, entry: again.entry, resolve: () => settle(pending), reject: (e) => settle(pending, e) }]);
      } catch (error) {
        settle(pending, error);
      }
    }
  }
}
