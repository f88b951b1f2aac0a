import { isUtf8 } from 'node:buffer';
import { BridgeError, abortError, onAbort, redactUri, silentLogger, type BridgeErrorCode, type BridgeEvent, type Logger, type Publisher, type PublisherContext, type PublishOptions, type Target } from '@pg-event-bridge/core';
import { signWebhook } from './internal/standard-webhooks.js';
import { resolveWebhookOptions, type ResolvedWebhookOptions, type WebhookPublisherOptions } from './webhook-options.js';

/** The headers every request carries besides Content-Type. */
export const WEBHOOK_HEADERS = {
  channel: 'X-Event-Channel',
  routingKey: 'X-Event-Routing-Key',
  id: 'X-Event-Id',
  timestamp: 'X-Event-Timestamp',
} as const;

/** A failed webhook call: a BridgeError, plus the HTTP status. */
export type WebhookError = BridgeError & {
  /** The response status, when there was a response. */
  readonly status?: number;
  /**
   * With `honorRetryAfter`: the delay the receiver asked for with `Retry-After` (408, 429, 5xx),
   * capped at `maxRetryAfterMs`, in ms. The bridge waits at least this long before the retry.
   */
  readonly retryAfterMs?: number;
};

/** The Retry-After delay (ms) a webhook failure carries, if any (see {@link WebhookError}). */
export function retryAfterMsOf(error: unknown): number | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof value === 'number' ? value : undefined;
}

// Headers an event may not set: they belong to HTTP or to this publisher.
const reservedHeaders = new Set(['host', 'content-length', 'content-type', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'x-event-channel', 'x-event-routing-key', 'x-event-id', 'x-event-timestamp', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);
const tokenHeaderName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Creates a publisher that POSTs each event to an HTTP endpoint. Rules name the URL:
 * `orders->url:https://hooks.example.com/orders` (the name may contain `:`), or a path relative to
 * `baseUrl`.
 *
 * The request body is the event body, byte-exact. Headers: `X-Event-Channel`,
 * `X-Event-Routing-Key`, `X-Event-Id`, `X-Event-Timestamp` (ISO 8601), the event's own headers, and
 * `Content-Type` from the event (else `text/plain; charset=utf-8` for UTF-8 bodies,
 * `application/octet-stream` otherwise). Header values that are not printable ASCII are sent
 * percent-encoded (UTF-8). With a `secret`, requests are signed per Standard Webhooks
 * (`webhook-id` = event id, `webhook-timestamp`, `webhook-signature`).
 *
 * `publish()` resolves on a 2xx answer. Network errors, timeouts, 408, 429 and 5xx are retryable;
 * a `Retry-After` of the answer rides on the error as `retryAfterMs` (capped at `maxRetryAfterMs`)
 * and the bridge waits that long before the retry. Any other status is permanent and the bridge
 * dead-letters the event. Capabilities: not `ordered`, so the bridge sends one request per URL at a time,
 * which keeps per-URL order; different URLs run in parallel up to `maxConcurrency`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createWebhookPublisher } from '@pg-event-bridge/upstream-webhook';
 *
 * const webhook = createWebhookPublisher({ secret: process.env.WEBHOOK_SECRET, timeoutMs: 5000 });
 * const bridge = createBridge({
 *   postgres: process.env.DATABASE_URL!,
 *   upstreams: [{ publisher: webhook, rules: 'orders->url:https://hooks.example.com/orders' }],
 * });
 * await bridge.start();
 * ```
 */
export function createWebhookPublisher(options: WebhookPublisherOptions = {}): Publisher {
  return new WebhookPublisher(resolveWebhookOptions(options));
}

class WebhookPublisher implements Publisher {
  readonly name = 'webhook';
  readonly targetKinds = ['url'] as const;
  readonly capabilities: Publisher['capabilities'];
  readonly #options: ResolvedWebhookOptions;
  readonly #urls = new Map<string, URL>();
  #logger: Logger = silentLogger;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #stopped: Promise<void> | undefined;
  #active = 0;
  #slotWaiters: Array<() => void> = [];
  #inFlight = new Set<Promise<unknown>>();

  constructor(options: ResolvedWebhookOptions) {
    this.#options = options;
    this.capabilities = { headers: true, ordered: false, maxPayloadBytes: options.maxPayloadBytes };
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') throw new BridgeError('ERR_BRIDGE_STATE', `[webhook] start() called while the publisher is ${this.#state}`);
    const bad: string[] = [];
    for (const target of context.targets) {
      try {
        this.#url(target);
      } catch {
        bad.push(JSON.stringify(redactUri(target.name) === '<unparsable uri>' ? target.name : redactUri(target.name)));
      }
    }
    if (bad.length > 0) {
      throw new BridgeError('ERR_BRIDGE_CONFIG', `[webhook] Invalid url target(s) ${bad.join(', ')}: write absolute http(s) URLs (url:https://example.com/hook), or set baseUrl for relative ones`);
    }
    this.#logger = context.logger;
    this.#state = 'running';
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#state !== 'running') {
      return Promise.reject(new BridgeError('ERR_BRIDGE_STATE', `[webhook] publish() called while the publisher is ${this.#state}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError());
    if (event.body.length > this.#options.maxPayloadBytes) {
      return Promise.reject(new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[webhook] Event ${event.id} has a body of ${event.body.length} bytes; the limit is ${this.#options.maxPayloadBytes} (maxPayloadBytes)`));
    }
    let url: URL;
    try {
      url = this.#url(target);
    } catch {
      return Promise.reject(new BridgeError('ERR_BRIDGE_CONFIG', `[webhook] Target ${JSON.stringify(target.name)} is not an http(s) URL and no baseUrl resolves it`));
    }
    const call = this.#send(url, event, options.signal);
    this.#inFlight.add(call);
    void call.then(
      () => this.#inFlight.delete(call),
      () => this.#inFlight.delete(call),
    );
    return call;
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const wasStarted = this.#state === 'running';
      this.#state = 'stopped';
      if (!wasStarted) return;
      // Requests already handed over finish (each bounded by timeoutMs).
      await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#stopped;
  }

  #url(target: Target): URL {
    let url = this.#urls.get(target.name);
    if (!url) {
      url = new URL(target.name, this.#options.baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      this.#urls.set(target.name, url);
    }
    return url;
  }

  async #send(url: URL, event: BridgeEvent, signal: AbortSignal | undefined): Promise<void> {
    await this.#acquire(signal);
    try {
      await this.#request(url, redactUri(url.href), event, signal);
    } finally {
      this.#release();
    }
  }

  async #request(url: URL, shown: string, event: BridgeEvent, signal: AbortSignal | undefined): Promise<void> {
    // Before the request: a value HTTP cannot carry is ERR_BRIDGE_ENCODE (dead-lettered), not a
    // network failure retried forever.
    const headers = this.#headers(event);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#options.timeoutMs);
    const unwatch = onAbort(signal, () => controller.abort());
    let response: Response;
    let text: string;
    try {
      response = await (this.#options.fetch ?? fetch)(url, {
        method: 'POST',
        headers,
        body: event.body,
        redirect: 'manual',
        signal: controller.signal,
      });
      // The timer above still runs: a body that trickles on past timeoutMs aborts the exchange.
      text = await readBoundedText(response, response.status >= 200 && response.status < 300 ? 0 : keptResponseBytes, drainedResponseBytes);
    } catch (error) {
      if (signal?.aborted) throw abortError();
      if (timedOut) {
        throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[webhook] POST ${shown} for event ${event.id} timed out after ${this.#options.timeoutMs} ms (timeoutMs)`, { retryable: true, cause: error });
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[webhook] POST ${shown} for event ${event.id} failed: ${detail}`, { retryable: true, cause: error });
    } finally {
      clearTimeout(timer);
      unwatch();
    }
    if (response.status >= 200 && response.status < 300) return;
    const failure = this.#statusError(shown, event, response.status, response.headers, text);
    if (failure.retryAfterMs !== undefined) this.#logger.debug({ url: shown, eventId: event.id, retryAfterMs: failure.retryAfterMs }, '[webhook] Receiver asked to retry later');
    throw failure;
  }

  #statusError(shown: string, event: BridgeEvent, status: number, headers: Headers, text: string): WebhookError {
    // What the receiver said, as far as it is text: a binary or compressed answer says nothing.
    const snippet = text.replace(/[^\P{C}\s]|\uFFFD/gu, '').trim().replace(/\s+/g, ' ').slice(0, 200);
    const said = snippet === '' ? '' : `: ${snippet}`;
    let code: BridgeErrorCode = 'ERR_BRIDGE_UPSTREAM_REJECTED';
    let retryable = false;
    let hint = ' (permanent: the event goes to the dead letters)';
    if (status === 408 || status === 429 || status >= 500) {
      code = 'ERR_BRIDGE_UPSTREAM_UNAVAILABLE';
      retryable = true;
      hint = '';
    } else if (status === 413) {
      code = 'ERR_BRIDGE_PAYLOAD_TOO_LARGE';
    } else if (status >= 300 && status < 400) {
      hint = ` (redirects are not followed: point the rule at ${headers.get('location') ? JSON.stringify(redactUri(headers.get('location')!)) : 'the final URL'})`;
    }
    // The bridge waits max(its backoff, retryAfterMs) before the retry: the receiver is not asked
    // again sooner than it said, nor made to wait longer than maxRetryAfterMs.
    const asked = retryable && this.#options.honorRetryAfter ? parseRetryAfter(headers.get('retry-after')) : undefined;
    const retryAfterMs = asked === undefined ? undefined : Math.min(asked, this.#options.maxRetryAfterMs);
    const error = new BridgeError(code, `[webhook] POST ${shown} for event ${event.id} answered ${status}${said}${hint}`, { retryable, retryAfterMs }) as WebhookError;
    Object.assign(error, { status });
    return error;
  }

  #headers(event: BridgeEvent): Record<string, string> {
    const o = this.#options;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      const lower = name.toLowerCase();
      if (reservedHeaders.has(lower)) continue;
      if (!tokenHeaderName.test(name)) {
        const bad = /[^!#$%&'*+.^_`|~0-9A-Za-z-]/.exec(name);
        throw new BridgeError('ERR_BRIDGE_ENCODE', `[webhook] Event ${event.id} has a header name ${JSON.stringify(name)} that HTTP cannot carry${bad ? ` (character ${JSON.stringify(bad[0])} at ${bad.index})` : ' (empty)'}: header names are letters, digits and !#$%&'*+.^_\`|~-; rename the header at its source`);
      }
      headers[lower] = encodeHeaderValue(value, name);
    }
    Object.assign(headers, o.headers);
    headers['user-agent'] ??= o.userAgent;
    if (event.contentType !== undefined && !/^[\x20-\x7e]*$/.test(event.contentType)) {
      const bad = /[^\x20-\x7e]/.exec(event.contentType)!;
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[webhook] Event ${event.id} has a content type ${JSON.stringify(event.contentType)} with character ${JSON.stringify(bad[0])} at ${bad.index}, which a Content-Type header cannot carry; fix content_type at its source`);
    }
    headers['content-type'] = event.contentType || o.defaultContentType || (isUtf8(event.body) ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    headers['x-event-channel'] = encodeHeaderValue(event.source, 'X-Event-Channel');
    headers['x-event-routing-key'] = encodeHeaderValue(event.routingKey, 'X-Event-Routing-Key');
    headers['x-event-id'] = encodeHeaderValue(event.id, 'X-Event-Id');
    headers['x-event-timestamp'] = event.timestamp.toISOString();
    if (o.keys.length > 0) {
      // Standard Webhooks: the timestamp is the time of this attempt, which receivers check
      // against their clock (5 minutes tolerance in the reference libraries).
      const timestamp = Math.floor(Date.now() / 1000);
      headers['webhook-id'] = headers['x-event-id'];
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signWebhook(o.keys, headers['webhook-id'], timestamp, event.body);
    }
    let size = 0;
    for (const name in headers) size += name.length + headers[name]!.length + 4;
    if (size > maxHeaderBytes) {
      const largest = Object.keys(headers).reduce((a, b) => (headers[a]!.length >= headers[b]!.length ? a : b));
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[webhook] Event ${event.id} needs ${size} bytes of request headers (the largest is ${largest}, ${headers[largest]!.length} bytes); receivers refuse more than ${maxHeaderBytes} (Node's default), so shorten the routing key or headers at their source`);
    }
    return headers;
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.#options.maxConcurrency) {
      this.#active += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        unwatch();
        resolve();
      };
      // Queued before watching: onAbort calls back at once for a signal that already aborted.
      this.#slotWaiters.push(wake);
      const unwatch = onAbort(signal, () => {
        this.#slotWaiters = this.#slotWaiters.filter((w) => w !== wake);
        reject(abortError());
      });
    });
  }

  #release(): void {
    const next = this.#slotWaiters.shift();
    if (next) next();
    else this.#active -= 1;
  }
}

// Node's own HTTP server answers 431 past 16 KiB of request headers, nginx past 8 KiB per line.
const maxHeaderBytes = 16 * 1024;
// Of an error answer, the prefix kept for the dead letter's message (which shows 200 characters).
const keptResponseBytes = 4 * 1024;
// Read past the kept prefix up to this much so a short answer leaves the keep-alive connection
// reusable; a longer one is cancelled, which closes the connection (a receiver answering 400 MiB
// must not cost 400 MiB of memory or reading time).
const drainedResponseBytes = 64 * 1024;

/**
 * Reads at most `drain` bytes of the answer's body, keeping the first `keep` as text, and cancels
 * the rest. Rejects when the request's signal aborts while reading.
 */
async function readBoundedText(response: Response, keep: number, drain: number): Promise<string> {
  const body = response.body;
  if (!body) return '';
  const reader = body.getReader();
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (keptBytes < keep) {
      const part = value.subarray(0, keep - keptBytes);
      kept.push(part);
      keptBytes += part.byteLength;
    }
    if (read > drain) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

/**
 * Printable ASCII without `%` as is; anything else percent-encoded as UTF-8, so a receiver can
 * always `decodeURIComponent` the value and get the original back (a literal `%41` is sent as
 * `%2541`). Throws ERR_BRIDGE_ENCODE for a string that is not well-formed UTF-16 (a lone
 * surrogate), which has no UTF-8 encoding.
 */
export function encodeHeaderValue(value: string, field: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(value)) return value;
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(value);
  if (lone) {
    const at = lone.index;
    throw new BridgeError('ERR_BRIDGE_ENCODE', `[webhook] Header ${field} cannot be encoded: it holds a lone UTF-16 surrogate at character ${at}; fix the value at its source`);
  }
  return encodeURIComponent(value);
}

// The longest Retry-After, in ms, whatever maxRetryAfterMs says: a day.
const retryAfterCeilingMs = 86_400_000;

/**
 * `Retry-After` as delay-seconds or an HTTP date, in ms from now, at most a day; undefined for
 * anything else (`1e12`, `-5`, `garbage`), which the bridge then ignores.
 */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, retryAfterCeilingMs);
  // HTTP dates (IMF-fixdate, RFC 850, asctime) start with the day's name; Date.parse alone would
  // take "-5" or "1.5" for dates.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.min(retryAfterCeilingMs, Math.max(0, date - Date.now()));
}
