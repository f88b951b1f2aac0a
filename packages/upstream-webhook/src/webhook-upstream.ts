import { BridgeError, SettingsReader, type UpstreamDefinition } from '@pg-event-bridge/core';
import { createWebhookPublisher } from './webhook-publisher.js';

/**
 * The daemon's `webhook` kind. `uri` is optional: when set (`https://hooks.example.com/`) it is the
 * base that relative `url:` targets resolve against; rules `chan->url:https://example.com/hook`.
 *
 * @example
 * ```ini
 * [upstream.hooks]
 * kind = webhook
 * uri = https://hooks.example.com/
 * secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 * bridge_channels = orders->url:orders, audit->url:https://audit.example.com/in
 * ```
 */
export const webhookUpstream: UpstreamDefinition = {
  kind: 'webhook',
  targetKinds: ['url'],
  description: 'HTTP webhooks: POST of the body with X-Event-* headers, Standard Webhooks signing',
  settings: [
    { key: 'secret', description: 'Standard Webhooks signing secret (whsec_<base64>); several separated by spaces during a rotation. Never logged.' },
    { key: 'timeout_ms', description: 'Time allowed for one request, in ms.', default: '10000' },
    { key: 'max_concurrency', description: 'Requests in flight at once over all URLs (one at a time per URL).', default: '16' },
    { key: 'headers', description: 'Extra request headers as a JSON object, e.g. {"Authorization": "Bearer ..."}. Values are never logged.' },
    { key: 'content_type', description: 'Content-Type when the event has none.', default: 'text/plain; charset=utf-8 for UTF-8 bodies, else application/octet-stream' },
    { key: 'honor_retry_after', description: 'Retry no sooner than a 429/503 Retry-After asks (the bridge waits).', default: 'true' },
    { key: 'max_retry_after_ms', description: 'Cap on the Retry-After wait, in ms; longer ones wait this long.', default: '60000' },
    { key: 'max_payload_bytes', description: 'The largest body sent; larger ones are dead-lettered.', default: '10485760' },
    { key: 'user_agent', description: 'The User-Agent header.', default: 'pg-event-bridge-webhook' },
  ],
  create(config) {
    const read = new SettingsReader(config);
    const headersText = read.string('headers');
    const uri = config.uri.trim();
    const options = {
      baseUrl: uri === '' ? undefined : uri,
      secret: read.string('secret')?.split(/\s+/),
      timeoutMs: read.integer('timeout_ms'),
      maxConcurrency: read.integer('max_concurrency'),
      defaultContentType: read.string('content_type'),
      honorRetryAfter: read.boolean('honor_retry_after'),
      maxRetryAfterMs: read.integer('max_retry_after_ms'),
      maxPayloadBytes: read.integer('max_payload_bytes'),
      userAgent: read.string('user_agent'),
    };
    read.throwIfAny();
    let headers: Record<string, string> | undefined;
    if (headersText !== undefined) {
      try {
        headers = JSON.parse(headersText) as Record<string, string>;
      } catch {
        // The text may hold a token: do not echo it.
        throw new BridgeError('ERR_BRIDGE_CONFIG', `[upstream.${config.name}] headers must be a JSON object such as {"Authorization": "Bearer ..."}; it is not valid JSON`);
      }
    }
    return createWebhookPublisher({ ...options, headers });
  },
};
