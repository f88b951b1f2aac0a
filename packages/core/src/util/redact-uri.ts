/**
 * Hides the password (and any `password=` / `secret=` query parameter) of a connection URI so it
 * can be logged or shown in an error. Unparsable input is replaced wholesale rather than echoed,
 * since it may be a secret.
 *
 * @example
 * ```ts
 * redactUri('amqp://user:s3cret@rabbit//'); // 'amqp://user:***@rabbit//'
 * ```
 */
export function redactUri(uri: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?(.*)$/i.exec(uri);
  if (!match) return '<unparsable uri>';
  const [, scheme, userinfo = '', rest = ''] = match;
  let user = userinfo;
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    user = colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***@`;
  }
  const query = rest.replace(/([?&](?:password|pass|secret|token|key)=)[^&#]*/gi, '$1***');
  return `${scheme}${user}${query}`;
}
