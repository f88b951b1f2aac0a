import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { AwsBatchPublisher, checkBodySize, classifyAwsError, missingRegionError, settle, type PendingEntry, type TargetBatcherOptions } from '@pg-event-bridge/aws-shared';
import { BridgeError, type BridgeEvent, type Publisher, type Target } from '@pg-event-bridge/core';
import { toLambdaEnvelope } from './lambda-envelope.js';
import { resolveLambdaOptions, type LambdaPublisherOptions, type ResolvedLambdaOptions } from './lambda-options.js';

// name, name:alias|version, 123456789012:function:name[:qualifier], or the full ARN.
const functionName = /^(?:(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?[A-Za-z0-9_-]{1,140}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$/;
// Lambda says "try again" with these besides throttling and 5xx.
const transient = new Set(['ResourceConflictException', 'ResourceNotReadyException', 'CodeArtifactUserPendingException', 'SnapStartNotReadyException', 'EFSMountConnectivityException', 'EFSMountTimeoutException', 'ENILimitReachedException', 'SubnetIPAddressLimitReachedException']);

/**
 * Creates a publisher that invokes AWS Lambda functions. Rules name the function by name, by
 * `name:alias` (or version), or by ARN: `orders->function:process-order:live`.
 *
 * The function receives a JSON envelope per event (see {@link LambdaEnvelope}):
 * `{id, channel, routingKey, body, bodyEncoding, contentType?, headers, timestamp}`; with
 * `batchSize` above 1, an array of them. `Event` invocations (the default) resolve once Lambda
 * queued them; `RequestResponse` ones once the function returned, and a function error fails the
 * event with the function's message (dead-lettered, or retried with `functionErrors: 'retry'`).
 * Throttling (429), 5xx and network errors are retryable; payloads over the invoke limit (256 KiB
 * for Event, 6 MB for RequestResponse) fail with ERR_BRIDGE_PAYLOAD_TOO_LARGE before sending.
 *
 * The factory only validates options; the client is created (or adopted) in `start()`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createLambdaPublisher } from '@pg-event-bridge/upstream-lambda';
 *
 * const lambda = createLambdaPublisher({ region: 'eu-west-2', invocationType: 'RequestResponse' });
 * const bridge = createBridge({
 *   postgres: process.env.DATABASE_URL!,
 *   upstreams: [{ publisher: lambda, rules: 'orders->function:process-order:live' }],
 * });
 * await bridge.start();
 * ```
 */
export function createLambdaPublisher(options: LambdaPublisherOptions = {}): Publisher {
  return new LambdaPublisher(resolveLambdaOptions(options));
}

interface LambdaEntry {
  readonly event: BridgeEvent;
  readonly json: string;
}

class LambdaPublisher extends AwsBatchPublisher<LambdaClient, LambdaClientConfig, LambdaEntry> {
  readonly name = 'lambda';
  readonly targetKinds = ['function'] as const;
  readonly #options: ResolvedLambdaOptions;

  constructor(options: ResolvedLambdaOptions) {
    super(options, (config) => new LambdaClient(config));
    this.#options = options;
  }

  protected override checkTargetNames(targets: readonly Target[]): void {
    const bad = targets.filter((t) => !functionName.test(t.name));
    if (bad.length > 0) {
      throw new BridgeError('ERR_BRIDGE_CONFIG', `[lambda] Invalid function target(s) ${bad.map((t) => JSON.stringify(t.name)).join(', ')}: write function:<name>, function:<name>:<alias> or function:<ARN>`);
    }
  }

  protected override startLogFields(): Record<string, unknown> {
    return { invocationType: this.#options.invocationType };
  }

  // A synchronous invocation answers with the function's result, up to Lambda's 6 MB.
  protected override get maxResponseBytes(): number {
    return 7 * 1024 * 1024;
  }

  protected async checkTarget(name: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }), { abortSignal: signal });
    } catch (raw) {
      const noRegion = missingRegionError('lambda', raw);
      if (noRegion) throw noRegion;
      const error = this.#classify(`Checking function ${JSON.stringify(name)}`, raw);
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') {
        throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[lambda] Function ${JSON.stringify(name)} does not exist (in this account and region): deploy it or fix the rule`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE' || error.code === 'ERR_BRIDGE_ABORTED') throw error;
      // Permission to invoke but not to dry-run, or an emulator without DryRun: cannot tell.
      this.logger.warn({ function: name, err: error }, '[lambda] Could not check that the function exists; continuing');
    }
  }

  protected prepare(_target: Target, event: BridgeEvent): { entry: LambdaEntry; size: number } {
    const { maxPayloadBytes, maxInvokePayloadBytes, batchSize } = this.#options;
    checkBodySize('lambda', event, maxPayloadBytes);
    const json = JSON.stringify(toLambdaEnvelope(event));
    const size = Buffer.byteLength(json) + (batchSize > 1 ? 2 : 0);
    if (size > maxInvokePayloadBytes) {
      throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[lambda] Event ${event.id} makes an invoke payload of ${size} bytes; ${this.#options.invocationType} invocations take at most ${maxInvokePayloadBytes}. Send large payloads by reference (for example an S3 key)`);
    }
    return { entry: { event, json }, size: Buffer.byteLength(json) + 1 };
  }

  protected batcherOptions(): TargetBatcherOptions {
    return { maxEntries: this.#options.batchSize, maxBytes: this.#options.maxInvokePayloadBytes - 2, concurrency: 1 };
  }

  #classify(what: string, raw: unknown): BridgeError {
    const name = (raw as { name?: string } | undefined)?.name ?? '';
    if (transient.has(name)) {
      return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[lambda] ${what} failed: ${name}: ${(raw as Error).message}`, { retryable: true, cause: raw });
    }
    return classifyAwsError('lambda', what, raw);
  }

  protected async send(name: string, batch: PendingEntry<LambdaEntry>[]): Promise<void> {
    const ids = batch.map((p) => p.entry.event.id).join(', ');
    const payload = this.#options.batchSize > 1 ? `[${batch.map((p) => p.entry.json).join(',')}]` : batch[0]!.entry.json;
    let error: BridgeError | undefined;
    try {
      const result = await this.client.send(new InvokeCommand({ FunctionName: name, InvocationType: this.#options.invocationType, Payload: Buffer.from(payload) }), {
        abortSignal: this.lifetime,
      });
      if (result.FunctionError) {
        const detail = functionErrorDetail(result.Payload);
        const retry = this.#options.functionErrors === 'retry';
        error = new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[lambda] Function ${JSON.stringify(name)} failed (${result.FunctionError}) on event ${ids}: ${detail}${retry ? '' : ' (functionErrors: dead-letter)'}`, { retryable: retry });
      }
    } catch (raw) {
      error = this.#classify(`Invoking ${JSON.stringify(name)} for event ${ids}`, raw);
    }
    for (const pending of batch) settle(pending, error);
  }
}

/** "ErrorType: message" out of a function error's payload, or the payload itself, shortened. */
function functionErrorDetail(payload: Uint8Array | undefined): string {
  const text = payload ? Buffer.from(payload).toString('utf8') : '';
  try {
    const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}`.slice(0, 1000);
  } catch {
    // not JSON: show it as it is
  }
  return text === '' ? 'no error payload' : text.slice(0, 1000);
}
