import { createHmac } from 'node:crypto';

/**
 * Decodes a Standard Webhooks secret: `whsec_<base64>` (the prefix is optional, as in the
 * reference libraries), or raw key bytes. Returns undefined for a string that is not base64.
 */
export function decodeSecret(secret: string | Buffer): Buffer | undefined {
  if (Buffer.isBuffer(secret)) return secret.length > 0 ? secret : undefined;
  const text = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length > 0 ? key : undefined;
}

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` per
 * key, space-separated (several keys during a secret rotation). The body is signed as raw bytes.
 */
export function signWebhook(keys: readonly Buffer[], id: string, timestampSeconds: number, body: Buffer): string {
  const prefix = Buffer.from(`${id}.${timestampSeconds}.`);
  return keys.map((key) => `v1,${createHmac('sha256', key).update(prefix).update(body).digest('base64')}`).join(' ');
}
