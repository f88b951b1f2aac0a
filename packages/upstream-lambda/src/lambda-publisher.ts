import { setMaxListeners } from 'node:events';
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { BridgeError, abortError, redactUri, silentLogger, type BridgeEvent, type Logger, type Publisher, type PublisherContext, type PublishOptions, type Target } from '@pg-event-bridge/core';
import { classifyAwsError, isMissingRegion } from './internal/classify-aws-error.js';
import { TargetBatcher, settle, type PendingEntry } from './internal/target-batcher.js';
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

class LambdaPublisher implements Publisher {
  readonly name = 'lambda';
  readonly targetKinds = ['function'] as const;
  readonly capabilities: Publisher['capabilities'];
  readonly #options: ResolvedLambdaOptions;
  readonly #batchers = new Map<string, TargetBatcher<LambdaEntry>>();
  readonly #lifetime = new AbortController();
  #client: LambdaClient | undefined;
  #ownsClient = false;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;

  constructor(options: ResolvedLambdaOptions) {
    this.#options = options;
    this.capabilities = { headers: true, ordered: true, maxPayloadBytes: options.maxPayloadBytes };
    setMaxListeners(0, this.#lifetime.signal);
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[lambda] start() called while the publisher is ${this.#state}`);
    this.#state = 'starting';
    this.#logger = context.logger;
    const bad = context.targets.filter((t) => !functionName.test(t.name));
    if (bad.length > 0) {
      throw new BridgeError('ERR_BRIDGE_CONFIG', `[lambda] Invalid function target(s) ${bad.map((t) => JSON.stringify(t.name)).join(', ')}: write function:<name>, function:<name>:<alias> or function:<ARN>`);
    }
    this.#client = this.#options.client ?? new LambdaClient(this.#clientConfig());
    this.#ownsClient = this.#options.client === undefined;
    this.#logger.debug({ region: this.#options.region, endpoint: this.#options.endpoint && redactUri(this.#options.endpoint), functions: context.targets.length, invocationType: this.#options.invocationType }, '[lambda] Starting');
    if (this.#options.checkTargets) {
      for (const target of context.targets) await this.#checkFunction(target.name, context.signal);
    }
    this.#state = 'running';
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'running' || !this.#client) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_STATE', `[lambda] publish() called while the publisher is ${this.#state}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    const { maxPayloadBytes, maxInvokePayloadBytes, batchSize } = this.#options;
    if (event.body.length > maxPayloadBytes) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[lambda] Event ${event.id} has a body of ${event.body.length} bytes; the limit is ${maxPayloadBytes}. Send large payloads by reference (for example an S3 key)`));
    }
    const json = JSON.stringify(toLambdaEnvelope(event));
    const size = Buffer.byteLength(json) + (batchSize > 1 ? 2 : 0);
    if (size > maxInvokePayloadBytes) {
      return Promise.reject(
        new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[lambda] Event ${event.id} makes an invoke payload of ${size} bytes; ${this.#options.invocationType} invocations take at most ${maxInvokePayloadBytes}. Send large payloads by reference (for example an S3 key)`),
      );
    }
    return this.#batcher(target.name).add({ event, json }, Buffer.byteLength(json) + 1, options.signal);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const wasStarted = this.#state !== 'new';
      this.#state = 'stopped';
      if (!wasStarted) return;
      // Everything handed to publish() is still sent: each call settles with Lambda's answer.
      await Promise.all([...this.#batchers.values()].map((b) => b.idle()));
      this.#lifetime.abort();
      if (this.#ownsClient) this.#client?.destroy();
    })();
    return this.#stopping;
  }

  #clientConfig(): LambdaClientConfig {
    const o = this.#options;
    const config: LambdaClientConfig = {};
    if (o.region !== undefined) config.region = o.region;
    if (o.endpoint !== undefined) config.endpoint = o.endpoint;
    if (o.credentials !== undefined) config.credentials = o.credentials;
    if (o.profile !== undefined) config.profile = o.profile;
    return { ...config, ...o.clientConfig };
  }

  async #checkFunction(name: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#client!.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }), { abortSignal: signal });
    } catch (raw) {
      if (isMissingRegion(raw)) throw new BridgeError('ERR_BRIDGE_CONFIG', '[lambda] No AWS region: set the region option (or AWS_REGION, or a profile with a region)', { cause: raw });
      const error = this.#classify(`Checking function ${JSON.stringify(name)}`, raw);
      if (error.code === 'ERR_BRIDGE_TARGET_MISSING') {
        throw new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[lambda] Function ${JSON.stringify(name)} does not exist (in this account and region): deploy it or fix the rule`, { cause: raw });
      }
      if (error.code === 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE' || error.code === 'ERR_BRIDGE_ABORTED') throw error;
      // Permission to invoke but not to dry-run, or an emulator without DryRun: cannot tell.
      this.#logger.warn({ function: name, err: error }, '[lambda] Could not check that the function exists; continuing');
    }
  }

  #classify(what: string, raw: unknown): BridgeError {
    const name = (raw as { name?: string } | undefined)?.name ?? '';
    if (transient.has(name)) {
      return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[lambda] ${what} failed: ${name}: ${(raw as Error).message}`, { retryable: true, cause: raw });
    }
    return classifyAwsError('lambda', what, raw);
  }

  #batcher(name: string): TargetBatcher<LambdaEntry> {
    let batcher = this.#batchers.get(name);
    if (!batcher) {
      batcher = new TargetBatcher<LambdaEntry>((batch) => this.#invoke(name, batch), {
        maxEntries: this.#options.batchSize,
        maxBytes: this.#options.maxInvokePayloadBytes - 2,
        concurrency: 1,
      });
      this.#batchers.set(name, batcher);
    }
    return batcher;
  }

  async #invoke(name: string, batch: PendingEntry<LambdaEntry>[]): Promise<void> {
    const ids = batch.map((p) => p.entry.event.id).join(', ');
    const payload = this.#options.batchSize > 1 ? `[${batch.map((p) => p.entry.json).join(',')}]` : batch[0]!.entry.json;
    let error: BridgeError | undefined;
    try {
      const result = await this.#client!.send(new InvokeCommand({ FunctionName: name, InvocationType: this.#options.invocationType, Payload: Buffer.from(payload) }), {
        abortSignal: this.#lifetime.signal,
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
