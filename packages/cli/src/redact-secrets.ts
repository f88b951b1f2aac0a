const uriPassword = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*):([^\s@"]+)@/gi;
const uriText = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * `uri` with every query parameter value (and every value-less parameter) replaced by `***`:
 * `https://hook/x?token=abc&v=2` becomes `https://hook/x?token=***&v=***`. Tokens and
 * signatures travel in query strings (webhook URLs, presigned URLs), so none is shown.
 */
export function redactQuery(uri: string): string {
  const start = uri.indexOf('?');
  if (start === -1) return uri;
  const hash = uri.indexOf('#', start);
  const query = uri.slice(start + 1, hash === -1 ? undefined : hash);
  const shown = query
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const equals = pair.indexOf('=');
      return equals === -1 ? '***' : `${pair.slice(0, equals)}=***`;
    })
    .join('&');
  return `${uri.slice(0, start)}?${shown}${hash === -1 ? '' : '#***'}`;
}

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
