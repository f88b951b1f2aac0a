import { redactUri } from '@pg-event-bridge/core';

const uriText = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Replaces, in `text`, what {@link redactUri} hides in every URI (passwords, query values,
 * token-like path segments), and every literal `secrets` value (also JSON-escaped) by `***`. The
 * daemon passes everything it prints or serves through this, as a last line of defence behind
 * redaction at the source.
 *
 * @example
 * ```ts
 * redactSecrets('connect amqp://guest:hunter2@rabbit// failed', []); // 'connect amqp://guest:***@rabbit// failed'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text.replace(uriText, (uri) => redactUri(uri));
  for (const secret of secrets) {
    // Structured logs carry the JSON-escaped form of a secret containing `"` or `\`.
    result = result.replaceAll(secret, '***').replaceAll(JSON.stringify(secret).slice(1, -1), '***');
  }
  return result;
}
