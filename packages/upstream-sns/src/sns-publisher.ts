import { GetTopicAttributesCommand, PublishBatchCommand, SNSClient, type PublishBatchRequestEntry, type SNSClientConfig } from '@aws-sdk/client-sns';
import { AwsBatchPublisher, classifyAwsError, encodeMessage, fifoFields, missingRegionError, readBatchResult, settle, type PendingEntry, type TargetBatcherOptions } from '@pg-event-bridge/aws-shared';
import { BridgeError, type BridgeEvent, type Publisher, type Target } from '@pg-event-bridge/core';
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

class SnsPublisher extends AwsBatchPublisher<SNSClient, SNSClientConfig, SnsEntry> {
  readonly name = 'sns';
  readonly targetKinds = ['topic'] as const;
  readonly #options: ResolvedSnsOptions;

  constructor(options: ResolvedSnsOptions) {
    super(options, (config) => new SNSClient(config));
    this.#options = options;
  }

  protected async checkTarget(arn: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new GetTopicAttributesCommand({ TopicArn: arn }), { abortSignal: signal });
    } catch (raw) {
      const noRegion = missingRegionError('sns', raw);
      if (noRegion) throw noRegion;
      const error = classifyAwsError('sns', `Checking topic ${arn}`, raw);
      if (error.code === 'ERR_BRIDGE_UPSTREAM_REJECTED' && !error.retryable) {
        throw new BridgeError('ERR_BRIDGE_CONFIG', `[sns] Topic target ${JSON.stringify(arn)} was refused (${error.message}); name topics by ARN: topic:arn:aws:sns:us-east-1:123456789012:name`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') {
        throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[sns] Topic ${arn} does not exist (in this account and region): create it or fix the rule`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_UPSTREAM_REJECTED' && error.retryable) {
        // Publish-only credentials often lack sns:GetTopicAttributes; do not refuse to start.
        this.logger.warn({ topic: arn, err: error }, '[sns] Could not check that the topic exists (permission denied); continuing');
        return;
      }
      throw error;
    }
  }

  protected prepare(target: Target, event: BridgeEvent): { entry: SnsEntry; size: number } {
    const message = encodeMessage('sns', event, {
      maxPayloadBytes: this.#options.maxPayloadBytes,
      maxMessageBytes: SNS_MAX_MESSAGE_BYTES,
      limitText: `SNS accepts at most ${SNS_MAX_MESSAGE_BYTES}`,
    });
    const request: Omit<PublishBatchRequestEntry, 'Id'> = { Message: message.text, MessageAttributes: message.attributes, ...fifoFields(target.name, event, this.#options.fifoGroupBy) };
    return { entry: { event, request }, size: message.size };
  }

  protected batcherOptions(arn: string): TargetBatcherOptions {
    return {
      maxEntries: Math.min(this.#options.maxBatchSize, SNS_MAX_BATCH_ENTRIES),
      maxBytes: SNS_MAX_MESSAGE_BYTES,
      concurrency: arn.endsWith('.fifo') ? 1 : this.#options.maxConcurrentBatches,
    };
  }

  protected async send(arn: string, batch: PendingEntry<SnsEntry>[]): Promise<void> {
    const entries = batch.map((p, i) => ({ ...p.entry.request, Id: `m${i}` }));
    let result;
    try {
      result = await this.client.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }), { abortSignal: this.lifetime });
    } catch (raw) {
      await this.failBatch(arn, batch, classifyAwsError('sns', `PublishBatch to ${arn}`, raw));
      return;
    }
    const { accepted, failed } = readBatchResult(result);
    batch.forEach((pending, i) => {
      const id = `m${i}`;
      const failure = failed.get(id);
      if (failure) {
        const permanent = failure.senderFault;
        const code = failure.code === 'NotFound' ? 'ERR_BRIDGE_TARGET_MISSING' : 'ERR_BRIDGE_UPSTREAM_REJECTED';
        settle(pending, new BridgeError(code, `[sns] SNS refused event ${pending.entry.event.id} for ${arn}: ${failure.code}: ${failure.message}`, { retryable: !permanent }));
      } else if (accepted.has(id)) {
        settle(pending);
      } else {
        settle(pending, new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[sns] PublishBatch to ${arn} returned no message id for event ${pending.entry.event.id}`, { retryable: true }));
      }
    });
  }
}
