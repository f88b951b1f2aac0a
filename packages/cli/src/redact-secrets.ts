const uriPassword = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*):([^\s@"]+)@/gi;

/**
 * Replaces every URI password (`scheme://user:pass@`) and every literal `secrets` value in `text`
 * by `***`. The daemon passes everything it prints through this, as a last line of defence behind
 * `redactUri` at the source.
 *
 * @example
 * ```ts
 * redactSecrets('connect amqp://guest:hunter2@rabbit// failed', []); // 'connect amqp://guest:***@rabbit// failed'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text.replace(uriPassword, '$1:***@');
  for (const secret of secrets) {
    // Structured logs carry the JSON-escaped form of a secret containing `"` or `\`.
    result = result.replaceAll(secret, '***').replaceAll(JSON.stringify(secret).slice(1, -1), '***');
  }
  return result;
}
