import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { AwsBatchPublisher, classifyAwsError, encodeBody, encodeMessage, fifoFields, missingRegionError, readBatchResult, settle, type PendingEntry, type TargetBatcherOptions } from '@pg-event-bridge/aws-shared';
import { BridgeError, type BridgeEvent, type Publisher, type Target } from '@pg-event-bridge/core';
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

class SqsPublisher extends AwsBatchPublisher<SQSClient, SQSClientConfig, SqsEntry> {
  readonly name = 'sqs';
  readonly targetKinds = ['queue'] as const;
  readonly #options: ResolvedSqsOptions;
  readonly #urls = new Map<string, Promise<string>>();
  // Set once the queue refused characters AWS documents as valid (some emulators do): from then
  // on such bodies travel as base64 right away.
  #bmpOnly = false;

  constructor(options: ResolvedSqsOptions) {
    super(options, (config) => new SQSClient(config));
    this.#options = options;
  }

  protected async checkTarget(name: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#queueUrl(name, signal, true);
    } catch (error) {
      if (BridgeError.isInstance(error) && error.code === 'ERR_BRIDGE_TARGET_MISSING') {
        throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[sqs] Queue ${JSON.stringify(name)} does not exist (in this account and region): create it or fix the rule`, { cause: error });
      }
      throw error;
    }
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
        if (verify) await this.client.send(new GetQueueAttributesCommand({ QueueUrl: name, AttributeNames: ['QueueArn'] }), { abortSignal: signal });
        return name;
      }
      const arn = queueArn.exec(name);
      const input = arn ? { QueueName: arn[3], QueueOwnerAWSAccountId: arn[2] } : { QueueName: name };
      const result = await this.client.send(new GetQueueUrlCommand(input), { abortSignal: signal });
      if (!result.QueueUrl) throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sqs] GetQueueUrl for ${JSON.stringify(name)} returned no URL`, { retryable: true });
      return result.QueueUrl;
    } catch (raw) {
      throw missingRegionError('sqs', raw) ?? classifyAwsError('sqs', `Looking up queue ${JSON.stringify(name)}`, raw);
    }
  }

  protected prepare(target: Target, event: BridgeEvent): { entry: SqsEntry; size: number } {
    const limit = this.#options.maxMessageBytes;
    const message = encodeMessage('sqs', event, { maxPayloadBytes: this.#options.maxPayloadBytes, maxMessageBytes: limit, limitText: `the limit is ${limit}`, bmpOnly: this.#bmpOnly });
    const request: Omit<SendMessageBatchRequestEntry, 'Id'> = { MessageBody: message.text, MessageAttributes: message.attributes, ...fifoFields(target.name, event, this.#options.fifoGroupBy) };
    return { entry: { event, request }, size: message.size };
  }

  protected batcherOptions(name: string): TargetBatcherOptions {
    return {
      maxEntries: Math.min(this.#options.maxBatchSize, SQS_MAX_BATCH_ENTRIES),
      maxBytes: this.#options.maxMessageBytes,
      concurrency: name.endsWith('.fifo') ? 1 : this.#options.maxConcurrentBatches,
    };
  }

  protected async send(name: string, batch: PendingEntry<SqsEntry>[]): Promise<void> {
    let result;
    try {
      const url = await this.#queueUrl(name, this.lifetime);
      const entries = batch.map((p, i) => ({ ...p.entry.request, Id: `m${i}` }));
      result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }), { abortSignal: this.lifetime });
    } catch (raw) {
      const error = classifyAwsError('sqs', `SendMessageBatch to ${JSON.stringify(name)}`, raw);
      // The cached URL may point at a deleted queue; look it up again on the retry.
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') this.#urls.delete(name);
      await this.failBatch(name, batch, error);
      return;
    }
    const { accepted, failed } = readBatchResult(result);
    const resend: PendingEntry<SqsEntry>[] = [];
    batch.forEach((pending, i) => {
      const id = `m${i}`;
      const failure = failed.get(id);
      if (failure?.code === 'InvalidMessageContents' && encodeBody(pending.entry.event.body, true).encoding !== 'utf8' && !pending.entry.request.MessageAttributes?.body_encoding) {
        this.#bmpOnly = true;
        resend.push(pending);
      } else if (failure) {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[sqs] SQS refused event ${pending.entry.event.id} for ${JSON.stringify(name)}: ${failure.code}: ${failure.message}`, { retryable: !failure.senderFault }));
      } else if (accepted.has(id)) {
        settle(pending);
      } else {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sqs] SendMessageBatch to ${JSON.stringify(name)} returned no message id for event ${pending.entry.event.id}`, { retryable: true }));
      }
    });
    // Refused for its characters: send again as base64 (it may then follow messages of its batch).
    for (const pending of resend) {
      const event = pending.entry.event;
      try {
        const again = this.prepare({ kind: 'queue', name }, event);
        await this.send(name, [{ ...pending, entry: again.entry, resolve: () => settle(pending), reject: (e) => settle(pending, e) }]);
      } catch (error) {
        settle(pending, error);
      }
    }
  }
}
