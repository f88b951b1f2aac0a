import { redactQuery } from '@pg-event-bridge/core';

const uriPassword = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*):([^\s@"]+)@/gi;
const uriText = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Replaces, in `text`, every URI password (`scheme://user:pass@`), every URI query value, and
 * every literal `secrets` value (also JSON-escaped) by `***`. The daemon passes everything it
 * prints or serves through this, as a last line of defence behind redaction at the source.
 *
 * @example
 * ```ts
 * redactSecrets('connect amqp://guest:hunter2@rabbit// failed', []); // 'connect amqp://guest:***@rabbit// failed'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text.replace(uriPassword, '$1:***@').replace(uriText, (uri) => redactQuery(uri));
  for (const secret of secrets) {
    // Structured logs carry the JSON-escaped form of a secret containing `"` or `\`.
    result = result.replaceAll(secret, '***').replaceAll(JSON.stringify(secret).slice(1, -1), '***');
  }
  return result;
}
