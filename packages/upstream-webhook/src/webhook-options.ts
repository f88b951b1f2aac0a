import { OptionProblems, describeValue as show, isPositiveInteger } from '@pg-event-bridge/core';
import { decodeSecret } from './internal/standard-webhooks.js';

/** Options of {@link createWebhookPublisher}. */
export interface WebhookPublisherOptions {
  /**
   * Standard Webhooks signing secret: `whsec_<base64>` (as the standard's libraries generate), bare
   * base64, or the key bytes. Several during a rotation: each signs, the signatures are
   * space-separated. When set, requests carry `webhook-id`, `webhook-timestamp` and
   * `webhook-signature`. Never logged. @default no signing
   */
  readonly secret?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Time allowed for one request, response body included, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Extra request headers on every call (`Authorization`...). Values are never logged. @default none */
  readonly headers?: Readonly<Record<string, string>>;
  /** Requests in flight at once over all URLs (each URL still gets one at a time). @default 16 */
  readonly maxConcurrency?: number;
  /**
   * Base URL that relative target names resolve against: with `https://hooks.example.com/`,
   * `url:orders` posts to `https://hooks.example.com/orders`. User info in it (`https://user:pass@host/`)
   * becomes a Basic `Authorization` header. @default none: targets must be absolute URLs
   */
  readonly baseUrl?: string;
  /**
   * Content-Type when the event has none: `text/plain; charset=utf-8` for a UTF-8 body,
   * `application/octet-stream` otherwise, unless this is set. @default by body
   */
  readonly defaultContentType?: string;
  /**
   * On a retryable answer (429, 503...) with `Retry-After`, the failure carries that delay as
   * `retryAfterMs` (up to `maxRetryAfterMs`) and the bridge waits at least that long before the
   * retry, so it never comes earlier than the receiver asked. The publisher itself does not wait.
   * @default true
   */
  readonly honorRetryAfter?: boolean;
  /** The longest Retry-After honoured, in ms; a longer one is cut to this. @default 60000 */
  readonly maxRetryAfterMs?: number;
  /** The largest body accepted. @default 10485760 (10 MiB) */
  readonly maxPayloadBytes?: number;
  /** A fetch implementation (an undici Agent with proxy or TLS settings...). @default the global fetch of Node */
  readonly fetch?: typeof fetch;
  /** The User-Agent header. @default 'pg-event-bridge-webhook' */
  readonly userAgent?: string;
}

/** Options after validation, with defaults applied. */
export interface ResolvedWebhookOptions {
  readonly keys: readonly Buffer[];
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxConcurrency: number;
  readonly baseUrl: URL | undefined;
  readonly defaultContentType: string | undefined;
  readonly honorRetryAfter: boolean;
  readonly maxRetryAfterMs: number;
  readonly maxPayloadBytes: number;
  readonly fetch: typeof fetch | undefined;
  readonly userAgent: string;
}

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates every option at once; throws ERR_BRIDGE_CONFIG naming each bad one, secrets hidden. */
export function resolveWebhookOptions(options: WebhookPublisherOptions): ResolvedWebhookOptions {
  const problems = new OptionProblems('webhook');
  const o = (options ?? {}) as WebhookPublisherOptions;
  const keys: Buffer[] = [];
  if (o.secret !== undefined) {
    const secrets = Array.isArray(o.secret) ? o.secret : [o.secret];
    if (secrets.length === 0) problems.add('secret', '<empty list>', 'at least one secret');
    secrets.forEach((secret: unknown, i) => {
      const key = typeof secret === 'string' || Buffer.isBuffer(secret) ? decodeSecret(secret) : undefined;
      if (key) keys.push(key);
      // The value is a secret: say what is wrong with it, never what it is.
      else problems.add(secrets.length > 1 ? `secret[${i}]` : 'secret', `<${typeof secret === 'string' ? `${secret.length} characters` : show(secret)} hidden>`, 'whsec_<base64>, base64, or a non-empty Buffer');
    });
  }
  if (o.timeoutMs !== undefined && !isPositiveInteger(o.timeoutMs, 3_600_000)) problems.add('timeoutMs', o.timeoutMs, 'an integer from 1 to 3600000');
  if (o.maxConcurrency !== undefined && !isPositiveInteger(o.maxConcurrency, 10_000)) problems.add('maxConcurrency', o.maxConcurrency, 'an integer from 1 to 10000');
  if (o.maxRetryAfterMs !== undefined && !(typeof o.maxRetryAfterMs === 'number' && Number.isInteger(o.maxRetryAfterMs) && o.maxRetryAfterMs >= 0)) problems.add('maxRetryAfterMs', o.maxRetryAfterMs, 'an integer of 0 or more');
  if (o.maxPayloadBytes !== undefined && !isPositiveInteger(o.maxPayloadBytes)) problems.add('maxPayloadBytes', o.maxPayloadBytes, 'a positive integer');
  if (o.honorRetryAfter !== undefined && typeof o.honorRetryAfter !== 'boolean') problems.add('honorRetryAfter', o.honorRetryAfter, 'true or false');
  if (o.fetch !== undefined && typeof o.fetch !== 'function') problems.add('fetch', o.fetch, 'a fetch function');
  if (o.userAgent !== undefined && (typeof o.userAgent !== 'string' || /[^\t\x20-\x7e]/.test(o.userAgent))) problems.add('userAgent', o.userAgent, 'a single-line string of printable ASCII');
  if (o.defaultContentType !== undefined && (typeof o.defaultContentType !== 'string' || o.defaultContentType === '' || /[^\x20-\x7e]/.test(o.defaultContentType))) problems.add('defaultContentType', o.defaultContentType, 'a MIME type such as "application/json"');
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null) problems.add('headers', o.headers, 'an object of header names to values');
    else {
      for (const [name, value] of Object.entries(o.headers)) {
        if (!headerName.test(name)) problems.add(`headers[${JSON.stringify(name)}]`, name, 'a valid header name');
        // fetch refuses control characters and anything past U+00FF in a header (a TypeError on
        // every request, which would be retried forever).
        else if (typeof value !== 'string' || /[^\t\x20-\x7e\x80-\xff]/.test(value)) problems.add(`headers.${name}`, '<hidden>', 'a single-line string of printable ASCII (or Latin-1)');
        else headers[name.toLowerCase()] = value;
      }
    }
  }
  let baseUrl: URL | undefined;
  if (o.baseUrl !== undefined) {
    try {
      baseUrl = new URL(String(o.baseUrl));
      if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') throw new Error('not http');
    } catch {
      baseUrl = undefined;
      problems.add('baseUrl', '<hidden: may hold credentials>', 'an http(s) URL such as "https://hooks.example.com/"');
    }
  }
  problems.throwIfAny();
  if (baseUrl && (baseUrl.username || baseUrl.password)) {
    headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(baseUrl.username)}:${decodeURIComponent(baseUrl.password)}`).toString('base64')}`;
    baseUrl.username = '';
    baseUrl.password = '';
  }
  return Object.freeze({
    keys,
    timeoutMs: o.timeoutMs ?? 10_000,
    headers: Object.freeze(headers),
    maxConcurrency: o.maxConcurrency ?? 16,
    baseUrl,
    defaultContentType: o.defaultContentType,
    honorRetryAfter: o.honorRetryAfter ?? true,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 60_000,
    maxPayloadBytes: o.maxPayloadBytes ?? 10 * 1024 * 1024,
    fetch: o.fetch,
    userAgent: o.userAgent ?? 'pg-event-bridge-webhook',
  });
}
